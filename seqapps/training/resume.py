"""`--resume --out DIR`: continue a run with the options its `config.json` recorded.

`resume_options` fills the options not given from the run's record and refuses given
ones that differ from it, except those in `RESUME_MAY_CHANGE`.
"""

import argparse
import os

from seqapps.errors import UserError

# Options a resumed run may change: they neither change the model, the data, the batches nor
# the optimizer (--epochs and --patience extend a run; devices give the same arithmetic).
RESUME_MAY_CHANGE = frozenset(
    {
        "epochs",
        "patience",
        "checkpoint_every",
        "checkpoint_batches",
        "max_minutes",
        "no_export",
        "strategy",
        "logical_cpus",
        "cache_dir",
    }
)
# Options about the invocation itself, never compared.
RESUME_INVOCATION = frozenset({"out", "resume", "overwrite"})
# Options holding paths: compared and filled in as absolute paths.
PATH_OPTIONS = frozenset({"data", "dev", "embeddings", "cache_dir"})


def given_options(parser, argv):
    """`{dest: value}` of the options `argv` sets explicitly (defaults left out).

    `parser` is changed (every default becomes `argparse.SUPPRESS`): pass a fresh one.
    """
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    parser._defaults.clear()
    return vars(parser.parse_args(argv))


def recorded_options(config):
    """The options of a run's `config.json`, with the changes its resumes made applied."""
    options = dict(config.get("options") or {})
    for entry in config.get("resumed", []):
        for dest, change in (entry.get("changed") or {}).items():
            options[dest] = change["to"]
    return options


def _as_path(value, base):
    """A path option's value as absolute path(s); `music21:...`-style specs are kept."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_as_path(item, base) for item in value]
    text = os.path.expanduser(str(value))
    if ":" in text and not os.path.isabs(text) and not os.path.exists(os.path.join(base, text)):
        return text
    return os.path.realpath(os.path.join(base, text))


def _shown(value):
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return " ".join(_shown(v) for v in value)
    return str(value)


def flag_names(parser):
    names = {}
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--") and not option.startswith("--no-"):
                names.setdefault(action.dest, option)
                break
        else:
            if action.option_strings:
                names.setdefault(action.dest, action.option_strings[0])
    return names


def _original_given(config, build_parser):
    """The options the run's own command line set explicitly, or {} (API run, unreadable)."""
    import contextlib
    import io
    import shlex

    command = config.get("command") or ""
    try:
        words = shlex.split(command)
    except ValueError:
        return {}
    if words[:2] != ["python", "-m"] or len(words) < 3:
        return {}
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return given_options(build_parser(), words[3:])
    except SystemExit:
        return {}


def resume_options(options, given, build_parser):
    """Continue the run in `--out` with the options it was trained with.

    Options not given fall back to the run's recorded ones; given options must
    equal them (as recorded, or as its command line gave them), except those in
    `RESUME_MAY_CHANGE`. Sets `options._resume_changes` for `write_run_config`.

    Args:
        options: The parsed options (`resume` set); changed in place.
        given: `{dest: value}` of the options set explicitly (`given_options`).
        build_parser: Returns the script's parser.

    Raises:
        UserError: no `--out`, no checkpoint or `config.json` there, or a given option
            that differs from the run's (all of them in one line, each with both values).
    """
    from seqapps.files import read_json
    from seqapps.training.run_directory import RunDir

    if options.overwrite:
        raise UserError("--overwrite and --resume contradict each other; pass one")
    if not options.out:
        raise UserError("--resume needs --out DIR, the run directory to continue")
    run_dir = RunDir(options.out, resume=True)
    if run_dir.path.is_dir():
        run_dir.recover()
    if not run_dir.has_checkpoint():
        raise UserError(
            f"--resume: {run_dir.path} holds no checkpoint to resume from "
            "(the run finished, or never started)"
        )
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise UserError(
            f"--resume: {run_dir.path} has a checkpoint but no config.json, so the run's "
            "options are unknown"
        )
    config = read_json(config_path)
    recorded = recorded_options(config)
    base = config.get("cwd") or os.getcwd()
    here = os.getcwd()
    original = _original_given(config, build_parser)
    flags = flag_names(build_parser())

    def same(dest, old, old_base, new):
        if dest in PATH_OPTIONS:
            return _as_path(old, old_base) == _as_path(new, here)
        return old == new or (isinstance(old, list) and list(new or []) == old)

    conflicts = []
    for dest, value in given.items():
        if dest in RESUME_INVOCATION or dest in RESUME_MAY_CHANGE or dest not in recorded:
            continue
        if same(dest, recorded[dest], base, value):
            continue
        if dest in original and same(dest, original[dest], base, value):
            continue  # the run's own command line said so (the run then adjusted it)
        conflicts.append(
            f"{flags.get(dest, '--' + dest.replace('_', '-'))}: the run in {run_dir.path} was "
            f"trained with {_shown(recorded[dest])}; received {_shown(value)}"
        )
    if conflicts:
        raise UserError(
            "; ".join(conflicts) + " (--resume continues a run with its own options; to change "
            "them, start a new run with another --out or --overwrite)"
        )
    changes = {}
    for dest, value in recorded.items():
        if dest in RESUME_INVOCATION or dest.startswith("_") or not hasattr(options, dest):
            continue
        if dest in RESUME_MAY_CHANGE and dest in given:
            if given[dest] != value:
                changes[dest] = {"from": value, "to": given[dest]}
            continue
        setattr(options, dest, _as_path(value, base) if dest in PATH_OPTIONS else value)
    options._resume_changes = changes
    return options
