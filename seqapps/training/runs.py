"""What a training run writes: `config.json`, the finished run's files, the run directory.

`run_config` and `write_run_config` record the options, data and versions (and each
`--resume`); `in_run_directory` runs training inside `--out` and cleans up a run that
fails before its first checkpoint; `save_run` writes the model, metrics and plots.
"""

import json
import os
import sys
import time

import numpy as np

from seqapps.errors import UserError
from seqapps.files import atomic_path
from seqapps.training.loop import TrainingInterrupted

# Keys of config.json that describe the invocation rather than the data.
_CONFIG_INVOCATION_KEYS = frozenset(
    {"command", "options", "data", "versions", "created", "cwd", "resumed"}
)


def source_options(value):
    """The recorded options of a run directory or preset (`--init-from`), or {} for a file."""
    from seqapps.files import read_json, resolve_model_path
    from seqapps.training.resume import recorded_options

    config = resolve_model_path(value).parent / "config.json"
    if not config.is_file():
        return {}
    return recorded_options(read_json(config))


def report_coverage(source, unit, items, known):
    """Say on stderr how much of the new data the `--init-from` vocabulary knows.

    Args:
        source: The `--init-from` value.
        unit: What the items are, plural (`"words"`, `"characters"`).
        items: Every item of the new training data, repeats included.
        known: The vocabulary (a container).

    Returns:
        The number of distinct items the vocabulary does not know.
    """
    import collections

    counts = collections.Counter(items)
    unknown = {item: count for item, count in counts.items() if item not in known}
    print(
        f"--init-from {source}: its vocabulary does not know {len(unknown)} of the "
        f"{len(counts)} distinct {unit} of the training data ({sum(unknown.values())} of "
        f"{sum(counts.values())} occurrences)",
        file=sys.stderr,
    )
    return len(unknown)


def start_weights(model, source, app):
    """Copy the weights of the `--init-from` model into `model` (built with its flags).

    `source` is the `--init-from` value, or the (part of the) loaded model to copy.
    """
    from seqapps.export import load_model

    start = load_model(source, app=app) if isinstance(source, str) else source
    try:
        model.set_weights(start.get_weights())
    except ValueError as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        raise UserError(
            f"--init-from: the weights of {start.name!r} do not fit the model these flags "
            f"build ({first}); pass the model flags it was trained with"
        ) from None


def library_versions():
    """Versions recorded in `config.json`."""
    import keras
    import tensorflow as tf

    import seqapps

    return {
        "python": sys.version.split()[0],
        "seqapps": seqapps.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def command_line(prog, argv):
    """The shell command that reproduces a script run."""
    import shlex

    return shlex.join(["python", "-m", prog, *argv])


def run_config(options, data_paths):
    """Everything `config.json` records: options, data, versions, command line.

    `options.command` holds the command line when a script ran (see
    `command_line`); Python API runs record the call's options only. `cwd`
    (the working directory) lets `--resume` find relative data paths again.
    """
    options_dict = {
        k: v for k, v in vars(options).items() if k != "command" and not k.startswith("_")
    }
    return {
        "command": getattr(options, "command", None) or "Python API call (see options)",
        "options": options_dict,
        "data": {k: str(v) if v is not None else None for k, v in data_paths.items()},
        "versions": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cwd": os.getcwd(),
    }


def write_run_config(run_dir, options, config):
    """Write `config.json`; on `--resume`, keep the run's own and add the resume to it.

    A resumed run appends `{"command", "time", "changed"}` to the `resumed` list
    (and its `versions` where they differ), and refuses to go on when its data
    gives other labels, vocabulary or tags than the run was trained with.
    """
    from seqapps.files import _jsonable, read_json, write_json

    path = run_dir / "config.json"
    if not (getattr(options, "resume", False) and path.is_file()):
        write_json(path, config)
        return config
    recorded = read_json(path)
    fresh = json.loads(json.dumps(config, default=_jsonable))
    for key, value in fresh.items():
        if key in _CONFIG_INVOCATION_KEYS or key not in recorded or recorded[key] == value:
            continue
        raise UserError(
            f"--resume: the data now gives {key} {_short(value)}, but the run in {run_dir.path} "
            f"was trained with {_short(recorded[key])} (did the data files change?)"
        )
    entry = {
        "command": fresh["command"],
        "time": fresh["created"],
        "changed": getattr(options, "_resume_changes", {}),
    }
    if recorded.get("versions") != fresh["versions"]:
        entry["versions"] = fresh["versions"]
    recorded.setdefault("resumed", []).append(entry)
    write_json(path, recorded)
    return recorded


def _short(value, limit=60):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def resume_command(options):
    """The command that continues the run of `options`: `python -m <prog> --resume --out DIR`."""
    prog = getattr(options, "_prog", None) or "apps.<app>.train"
    return command_line(prog, ["--resume", "--out", str(options.out)])


def _interrupted_message(options, run_dir):
    where = ""
    try:
        state = json.loads((run_dir.checkpoint_dir / "state.json").read_text())
        if state["batches_done"]:
            where = f" at epoch {state['epoch'] + 1}, batch {state['batches_done']}"
        else:
            where = f" after epoch {state['epoch']}"
    except (OSError, ValueError, KeyError):
        pass
    return (
        f"interrupted; the checkpoint{where} is kept in {run_dir.checkpoint_dir}. "
        f"Resume with: {resume_command(options)}"
    )


def in_run_directory(options, train_in):
    """Run `train_in(run_dir)` in the run directory of `--out`.

    The directory is checked first (refused when used, unless `--overwrite` or
    `--resume`), so no time goes into data before a clash is reported. If
    training fails before its first checkpoint, a directory this run created
    is removed again, and a run it was replacing (`--overwrite`) is put back.
    Ctrl-C after a checkpoint raises `TrainingInterrupted`, whose message is
    the command that resumes.
    """
    from seqapps.training.run_directory import RunDir

    run_dir = RunDir(options.out, options.overwrite, options.resume).prepare()
    try:
        return train_in(run_dir)
    except TrainingInterrupted:
        raise
    except KeyboardInterrupt as error:
        if run_dir.has_checkpoint():
            raise TrainingInterrupted(_interrupted_message(options, run_dir)) from error
        run_dir.abandon()
        raise
    except BaseException:
        if not run_dir.has_checkpoint():
            run_dir.abandon()
        raise


def save_run(run_dir, trainer, model, metrics, monitor, export=None, summary=""):
    """Write a finished run: `model.keras`, `metrics.json`, `curves.png`, `saved_model/`.

    Ends with one line on stderr: `Kept epoch N: <summary>. Wrote <run dir>`.

    Args:
        run_dir: The `seqapps.training.RunDir`.
        trainer: The `Trainer` (its history draws the curves; its checkpoint is removed).
        model: The Keras model to save.
        metrics: What `metrics.json` holds.
        monitor: The dev metric the curves highlight.
        export: `export(model, path)` writing the SavedModel, or None (`--no-export`).
        summary: The kept epoch's dev metrics, as text.
    """
    import keras

    from seqapps.training import plots

    with atomic_path(run_dir / "model.keras") as temporary:
        model.save(temporary)
    from seqapps.files import write_json

    write_json(run_dir / "metrics.json", metrics)
    plots.training_curves(trainer.history, run_dir / "curves.png", monitor=monitor)
    if export is not None:
        export(model, run_dir / "saved_model")
    trainer.finish()
    keras.backend.clear_session()
    print(f"Kept epoch {trainer.best_epoch}: {summary}. Wrote {run_dir.path}", file=sys.stderr)
