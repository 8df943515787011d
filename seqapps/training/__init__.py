"""Training: the typed config and shared flags, the loop, run directories and resuming.

Every application's `train` script uses it: `TrainingConfig` and `add_training_arguments`
(config), `setup_runtime` (runtime), `Trainer` (loop), `RunDir`, `in_run_directory` and
`save_run` (runs), `resume_options` (resume), `train_script` (script), plus the batching
and plotting helpers. Importing it does not import TensorFlow.
"""

from seqapps.training.config import TrainingConfig, add_training_arguments, add_vocabulary_arguments
from seqapps.training.loop import Trainer, TrainingDiverged, TrainingInterrupted
from seqapps.training.resume import given_options, recorded_options, resume_options
from seqapps.training.run_directory import RunDir
from seqapps.training.runs import (
    command_line,
    in_run_directory,
    library_versions,
    resume_command,
    run_config,
    save_run,
    write_run_config,
)
from seqapps.training.runtime import (
    inference_function,
    make_optimizer,
    multi_worker_task,
    setup_runtime,
    worker_directory,
)
from seqapps.training.script import train_script

__all__ = [
    "RunDir",
    "Trainer",
    "TrainingConfig",
    "TrainingDiverged",
    "TrainingInterrupted",
    "add_training_arguments",
    "add_vocabulary_arguments",
    "command_line",
    "given_options",
    "in_run_directory",
    "inference_function",
    "library_versions",
    "make_optimizer",
    "multi_worker_task",
    "recorded_options",
    "resume_command",
    "resume_options",
    "run_config",
    "save_run",
    "setup_runtime",
    "train_script",
    "worker_directory",
    "write_run_config",
]
