"""`train_script`: the Python API function and `main(argv)` of an application's train script."""

import sys

from seqapps.errors import UserError
from seqapps.training.config import MODEL_FIELDS, TrainingConfig
from seqapps.training.loop import TrainingInterrupted
from seqapps.training.resume import flag_names, given_options, resume_options
from seqapps.training.runs import command_line
from seqapps.training.runtime import is_lost_worker, multi_worker_task, worker_directory


def _use_worker_directory(options):
    """Point a non-chief worker of a multi-worker job at its private run directory.

    Every worker trains (the collective ops need them all), but only the chief
    writes `--out`; the others write `worker_directory(...)`, removed when the run
    ends well and kept after a failure, so that `--resume` finds its checkpoint.
    Returns that directory, or None for the chief and for single-process runs.
    """
    options._job_out = options.out
    if options.strategy != "multiworker" or not options.out:
        return None
    index, is_chief = multi_worker_task()
    if is_chief:
        return None
    from seqapps.files import remove_tree

    scratch = worker_directory(options.out, index)
    if not options.resume:
        remove_tree(scratch)  # leftovers of an earlier job on this host
    scratch.parent.mkdir(parents=True, exist_ok=True)
    options.out = str(scratch)
    return scratch


def _lost_worker_message(options, error):
    first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    out = getattr(options, "_job_out", None) or options.out
    prog = getattr(options, "_prog", None) or "apps.<app>.train"
    command = command_line(prog, ["--resume", "--out", str(out), "--strategy", "multiworker"])
    return (
        f"the multi-worker job lost a worker ({type(error).__name__}: {first}); the last "
        f"checkpoint is kept in {out}. Restart every worker (same TF_CONFIG) with: {command}"
    )


def adopt_model_options(options, given, model_options, flags):
    """Give `options` the model flags of the `--init-from` source (its `config.json`).

    The source's vocabulary and weights only fit a model built with its own flags, so
    those flags are taken from it; one given on the command line with another value
    is refused. A bare `.keras` file records no flags: the command's must fit it.
    """
    from seqapps.training.runs import source_options

    recorded = source_options(options.init_from)
    conflicts = []
    for dest in model_options:
        if dest not in recorded:
            continue
        if dest in given and given[dest] != recorded[dest]:
            conflicts.append(
                f"{flags.get(dest, '--' + dest.replace('_', '-'))} {given[dest]} (it has "
                f"{recorded[dest]})"
            )
        setattr(options, dest, recorded[dest])
    if conflicts:
        raise UserError(
            f"--init-from {options.init_from}: the model keeps its own model flags; received "
            + ", ".join(conflicts)
        )


def train_script(prog, build_parser, train, model_options=()):
    """The Python API function and the `main(argv)` of an app's train script.

    With `--resume`, the options not given come from the run's `config.json`
    (`resume_options`), so `--resume --out DIR` alone continues a run. Ctrl-C
    ends `main` with one line naming the command that resumes, and exit status 130.

    Args:
        prog: Script name (`apps.<app>.train`), recorded with the command line.
        build_parser: Returns the script's `ArgumentParser`.
        train: `train(options, config)` running the training, given the parsed options
            and the `TrainingConfig` built from them (which checks them).
        model_options: The app's own option names that shape the model (the
            recurrent stack's, `MODEL_FIELDS`, count too): with `--init-from` they are
            the source's (see `adopt_model_options`).

    Returns:
        `(train_model, main)`: `train_model(**kwargs)` takes the script's flags
        as keywords (`data=..., out=..., epochs=3`); `main(argv)` parses a
        command line and records it in `config.json`.
    """
    from seqapps.cli import options_from_kwargs

    def run(options, given):
        scratch = _use_worker_directory(options)
        try:
            if options.resume:
                resume_options(options, given, build_parser)
            elif options.init_from:
                flags = flag_names(build_parser())
                adopt_model_options(options, given, (*MODEL_FIELDS, *model_options), flags)
            result = train(options, TrainingConfig.from_options(options))
        except Exception as error:
            if options.strategy == "multiworker" and is_lost_worker(error):
                raise UserError(_lost_worker_message(options, error)) from error
            raise
        if scratch is not None:
            from seqapps.files import remove_tree

            remove_tree(scratch)
        return result

    def train_model(**kwargs):
        """Python API: train with the script's flags as keywords (`out=..., epochs=3`)."""
        options = options_from_kwargs(build_parser(), **kwargs)
        options._prog = prog
        return run(options, dict(kwargs))

    def main(argv):
        options = build_parser().parse_args(argv)
        options.command = command_line(prog, argv)
        options._prog = prog
        try:
            run(options, given_options(build_parser(), argv))
        except TrainingInterrupted as stopped:
            print(f"{prog}: {stopped}", file=sys.stderr)
            sys.exit(130)

    return train_model, main
