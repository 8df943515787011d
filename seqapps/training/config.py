"""The typed configuration of a training run, and the flags every `train` script shares.

Each field of `TrainingConfig` is one flag (`--batch-size` for `batch_size`): its
type, default, help and check are declared once, on the field. `add_training_arguments`
turns the fields into argparse flags (with an application's defaults), and
`TrainingConfig.from_options` builds the frozen config from parsed flags or Python
keywords, checking every value with the same rules the flags use.
"""

import argparse
import dataclasses

from seqapps import cli
from seqapps.errors import UserError

OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
CELLS = ("lstm", "gru", "rnn")
STRATEGIES = ("auto", "mirrored", "multiworker")
PRECISIONS = ("off", "auto", "float16", "bfloat16")

_GROUPS = {
    "run": "run directory",
    "training": "training",
    "model": "model",
    "devices": "devices and precision",
}


def _flag(default, group, help, type=None, choices=None, metavar=None, **argparse_extra):
    """A config field declared with what its command-line flag needs."""
    metadata = {"group": group, "help": help, "type": type, "choices": choices}
    metadata.update(metavar=metavar, **argparse_extra)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """What the shared training loop, runtime and recurrent stack are configured with.

    Build it with `TrainingConfig.from_options(options)` from a script's parsed flags
    (extra application flags are ignored) or directly with keywords; every value is
    checked when it is built, and a bad one raises `UserError` naming its flag.

    >>> config = TrainingConfig(epochs=3, units=64)
    >>> config.epochs, config.units, config.cell
    (3, 64, 'lstm')
    >>> TrainingConfig(dropout=1.0)
    Traceback (most recent call last):
    ...
    seqapps.errors.UserError: --dropout must be in [0, 1); received 1.0
    """

    # Run directory.
    out: str | None = _flag(
        None, "run", "run directory to write (model, config, metrics, plots)", metavar="DIR"
    )
    overwrite: bool = _flag(False, "run", "replace a non-empty --out", action="store_true")
    resume: bool = _flag(
        False, "run", "continue the interrupted run found in --out", action="store_true"
    )
    no_export: bool = _flag(
        False, "run", "do not write the SavedModel into --out", action="store_true"
    )
    checkpoint_batches: int = _flag(
        0,
        "run",
        "with --strategy multiworker: also checkpoint every N batches (every worker "
        "checkpoints at the same batch; timed checkpoints are off there). 0: at epoch ends only",
        type=cli.non_negative_int,
        metavar="N",
    )
    init_from: str | None = _flag(
        None,
        "run",
        "start from a preset or an earlier run: its weights, vocabulary and model flags, "
        "trained further on --data with this command's training flags",
        metavar="PRESET|RUN",
    )
    checkpoint_every: float = _flag(
        60.0,
        "run",
        "save a resumable checkpoint this often during an epoch",
        type=cli.positive_float,
        metavar="SECONDS",
    )

    # Training.
    epochs: int = _flag(10, "training", "maximum epochs", type=cli.positive_int)
    batch_size: int = _flag(64, "training", "examples per batch", type=cli.positive_int)
    lr: float = _flag(1e-3, "training", "learning rate", type=cli.positive_float)
    lr_decay: float = _flag(
        1.0,
        "training",
        "multiply the learning rate by this at the start of each epoch after the first",
        type=cli.positive_fraction,
    )
    optimizer: str = _flag("adam", "training", "optimizer", choices=OPTIMIZERS)
    weight_decay: float = _flag(
        0.0,
        "training",
        "decoupled weight decay (adamw, and others that support it)",
        type=cli.non_negative_float,
    )
    clipnorm: float | None = _flag(
        None, "training", "clip each gradient to this L2 norm", type=cli.positive_float
    )
    clipvalue: float | None = _flag(
        None, "training", "clip each gradient element to [-v, v]", type=cli.positive_float
    )
    seed: int = _flag(1, "training", "random seed", type=cli.random_seed)
    patience: int = _flag(
        3,
        "training",
        "stop after this many epochs without a better dev metric (0: never)",
        type=cli.non_negative_int,
    )
    plateau: int = _flag(
        0,
        "training",
        "after this many epochs without a better dev metric, go back to the best weights "
        "and multiply the learning rate by --plateau-factor (0: off)",
        type=cli.off_or_count,
    )
    plateau_factor: float = _flag(
        0.5,
        "training",
        "learning-rate factor of each --plateau reduction",
        type=cli.open_fraction,
    )
    max_minutes: float | None = _flag(
        None,
        "training",
        "stop at the end of the first epoch that passes this training time",
        type=cli.positive_float,
    )

    # Model: the recurrent stack.
    cell: str = _flag("lstm", "model", "recurrent cell", choices=CELLS)
    bidirectional: bool = _flag(
        True,
        "model",
        "wrap the recurrent layers in Bidirectional",
        action=argparse.BooleanOptionalAction,
    )
    units: int = _flag(128, "model", "units per recurrent layer", type=cli.positive_int)
    layers: int = _flag(1, "model", "stacked recurrent layers", type=cli.positive_int)
    dropout: float = _flag(0.2, "model", "dropout rate", type=cli.rate)
    recurrent_dropout: float = _flag(
        0.0, "model", "dropout on recurrent connections", type=cli.rate
    )

    # Devices and precision.
    strategy: str = _flag(
        "auto",
        "devices",
        "tf.distribute strategy: auto (default device), mirrored (all local devices), "
        "multiworker (machines listed in TF_CONFIG)",
        choices=STRATEGIES,
    )
    logical_cpus: int = _flag(
        1,
        "devices",
        "split the CPU into N logical devices (to run --strategy mirrored on one CPU)",
        type=cli.positive_int,
        metavar="N",
    )
    jit: bool = _flag(False, "devices", "compile the train step with XLA", action="store_true")
    mixed_precision: str = _flag(
        "off",
        "devices",
        "compute in 16-bit floats (auto: float16 on GPU, bfloat16 on CPU)",
        choices=PRECISIONS,
        nargs="?",
        const="auto",
    )

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            _check(field, value)
        if self.overwrite and self.resume:
            raise UserError("--overwrite and --resume contradict each other; pass one")

    @classmethod
    def from_options(cls, options):
        """The config of a parsed-options namespace (or mapping); other keys are ignored."""
        values = options if isinstance(options, dict) else vars(options)
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in values.items() if name in names})

    @property
    def multi_worker(self):
        return self.strategy == "multiworker"


# The fields that shape the recurrent stack: with `--init-from`, the source run's are kept.
MODEL_FIELDS = tuple(
    field.name for field in dataclasses.fields(TrainingConfig) if field.metadata["group"] == "model"
)


def flag_name(name):
    return "--" + name.replace("_", "-")


def _check(field, value):
    """Apply the field's flag rules to a value that may not have come through argparse."""
    meta = field.metadata
    flag = flag_name(field.name)
    if isinstance(field.default, bool) or meta.get("action") == "store_true":
        if not isinstance(value, bool):
            raise UserError(f"{flag} must be true or false; received {value!r}")
        return
    if meta["choices"] is not None:
        if value not in meta["choices"]:
            raise UserError(
                f"{flag} must be one of {', '.join(meta['choices'])}; received {value!r}"
            )
        return
    if value is None:
        if field.default is None:
            return
        raise UserError(f"{flag} needs a value; received None")
    parse = meta["type"]
    if parse is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"{flag} must be a number; received {value!r}")
    try:
        parse(str(value))
    except argparse.ArgumentTypeError as error:
        raise UserError(f"{flag} {error}") from None


def add_training_arguments(parser, **defaults):
    """Add the flags of `TrainingConfig` to a train script's parser.

    Args:
        parser: The script's `ArgumentParser`.
        **defaults: The application's defaults, keyed by field name (`epochs=8`,
            `cell="gru"`); a key that names no field is a `TypeError`.

    Returns:
        The parser.
    """
    fields = {field.name: field for field in dataclasses.fields(TrainingConfig)}
    unknown = sorted(set(defaults) - set(fields))
    if unknown:
        raise TypeError(f"unknown training default(s) {unknown}; known: {sorted(fields)}")
    # A script's own group of the same title (its "model" flags) takes the shared ones too.
    existing = {group.title: group for group in parser._action_groups}
    groups = {
        key: existing.get(title) or parser.add_argument_group(title)
        for key, title in _GROUPS.items()
    }
    for name, field in fields.items():
        meta = dict(field.metadata)
        kwargs = {"default": defaults.get(name, field.default), "help": meta.pop("help")}
        group = groups[meta.pop("group")]
        for key, value in meta.items():
            if value is not None:
                kwargs[key] = value
        if kwargs.get("action") == "store_true":
            kwargs.pop("default")
            if defaults.get(name):
                raise TypeError(f"{flag_name(name)} is a switch: it cannot default to on")
        group.add_argument(flag_name(name), **kwargs)
    return parser


def add_vocabulary_arguments(group):
    """The word-vocabulary flags both text applications take."""
    group.add_argument(
        "--max-vocab", type=cli.positive_int, default=None, help="keep the most frequent words"
    )
    group.add_argument("--min-count", type=cli.positive_int, default=1, help="drop rarer words")
    return group
