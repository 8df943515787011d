"""The training loop every application shares.

`add_training_arguments` gives each `train` script the same flags;
`setup_runtime` applies seed, devices, precision and distribution strategy;
`Trainer` runs `model.fit` one epoch at a time with early stopping on a dev
metric (best weights restored), learning-rate cuts when it stalls, a NaN guard,
and checkpoints taken during the epoch so `--resume` continues a killed run
from its last checkpoint, skipping the batches it had already trained on.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np

from seqapps.cli import UserError
from seqapps.files import atomic_path, write_csv

OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
CELLS = ("lstm", "gru", "rnn")


def add_training_arguments(parser, **defaults):
    """Add the training flags shared by every application.

    Args:
        parser: The script's `ArgumentParser`.
        **defaults: Per-application defaults, keyed by option name
            (`epochs`, `batch_size`, `lr`, `cell`, `units`, ...).
    """
    d = {
        "epochs": 10,
        "batch_size": 64,
        "lr": 1e-3,
        "optimizer": "adam",
        "weight_decay": 0.0,
        "clipnorm": None,
        "clipvalue": None,
        "cell": "lstm",
        "bidirectional": True,
        "units": 128,
        "layers": 1,
        "dropout": 0.2,
        "seed": 1,
        "patience": 3,
        **defaults,
    }
    run = parser.add_argument_group("run directory")
    run.add_argument("--out", help="run directory to write (model, config, metrics, plots)")
    run.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    run.add_argument(
        "--resume", action="store_true", help="continue the interrupted run found in --out"
    )
    run.add_argument(
        "--no-export", action="store_true", help="do not write the SavedModel into --out"
    )
    run.add_argument(
        "--checkpoint-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="save a resumable checkpoint this often during an epoch",
    )

    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=d["epochs"], help="maximum epochs")
    group.add_argument("--batch-size", type=int, default=d["batch_size"], help="examples per batch")
    group.add_argument("--lr", type=float, default=d["lr"], help="learning rate")
    group.add_argument(
        "--lr-decay",
        type=float,
        default=d.get("lr_decay", 1.0),
        help="multiply the learning rate by this at the start of each epoch after the first",
    )
    group.add_argument("--optimizer", choices=OPTIMIZERS, default=d["optimizer"], help="optimizer")
    group.add_argument(
        "--weight-decay",
        type=float,
        default=d["weight_decay"],
        help="decoupled weight decay (adamw, and others that support it)",
    )
    group.add_argument(
        "--clipnorm",
        type=float,
        default=d["clipnorm"],
        help="clip each gradient to this L2 norm",
    )
    group.add_argument(
        "--clipvalue",
        type=float,
        default=d["clipvalue"],
        help="clip each gradient element to [-v, v]",
    )
    group.add_argument("--cell", choices=CELLS, default=d["cell"], help="recurrent cell")
    group.add_argument(
        "--bidirectional",
        action=argparse.BooleanOptionalAction,
        default=d["bidirectional"],
        help="wrap the recurrent layers in Bidirectional",
    )
    group.add_argument("--units", type=int, default=d["units"], help="units per recurrent layer")
    group.add_argument("--layers", type=int, default=d["layers"], help="stacked recurrent layers")
    group.add_argument("--dropout", type=float, default=d["dropout"], help="dropout rate")
    group.add_argument("--seed", type=int, default=d["seed"], help="random seed")
    group.add_argument(
        "--patience",
        type=int,
        default=d["patience"],
        help="stop after this many epochs without a better dev metric (0: never)",
    )
    group.add_argument(
        "--plateau",
        type=int,
        default=d.get("plateau", 0),
        help="after this many epochs without a better dev metric, go back to the best weights "
        "and multiply the learning rate by --plateau-factor (0: off)",
    )
    group.add_argument(
        "--plateau-factor",
        type=float,
        default=0.5,
        help="learning-rate factor of each --plateau reduction",
    )
    group.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop at the end of the first epoch that passes this training time",
    )

    engine = parser.add_argument_group("devices and precision")
    engine.add_argument(
        "--strategy",
        choices=("auto", "mirrored", "multiworker"),
        default="auto",
        help="tf.distribute strategy: auto (default device), mirrored (all local devices), "
        "multiworker (machines listed in TF_CONFIG)",
    )
    engine.add_argument(
        "--logical-cpus",
        type=int,
        default=1,
        metavar="N",
        help="split the CPU into N logical devices (to run --strategy mirrored on one CPU)",
    )
    engine.add_argument("--jit", action="store_true", help="compile the train step with XLA")
    engine.add_argument(
        "--mixed-precision",
        nargs="?",
        const="auto",
        default="off",
        choices=("off", "auto", "float16", "bfloat16"),
        help="compute in 16-bit floats (auto: float16 on GPU, bfloat16 on CPU)",
    )
    return parser


def add_vocabulary_arguments(group):
    """The word-vocabulary and recurrent-dropout flags both text apps' models take."""
    group.add_argument(
        "--recurrent-dropout", type=float, default=0.0, help="dropout on recurrent connections"
    )
    group.add_argument("--max-vocab", type=int, default=None, help="keep the most frequent words")
    group.add_argument("--min-count", type=int, default=1, help="drop rarer words")
    return group


def check_training_options(options):
    """Reject values that cannot work, with the flag and value in the message."""
    positive = {"epochs": options.epochs, "batch-size": options.batch_size, "units": options.units}
    positive["layers"] = options.layers
    for name, value in positive.items():
        if value is None or value <= 0:
            raise UserError(f"--{name} must be a positive integer; received {value}")
    if not options.lr > 0:
        raise UserError(f"--lr must be positive; received {options.lr}")
    if not 0 < options.lr_decay <= 1:
        raise UserError(f"--lr-decay must be in (0, 1]; received {options.lr_decay}")
    if not 0.0 <= options.dropout < 1.0:
        raise UserError(f"--dropout must be in [0, 1); received {options.dropout}")
    for name in ("clipnorm", "clipvalue"):
        value = getattr(options, name)
        if value is not None and not value > 0:
            raise UserError(f"--{name} must be positive; received {value}")
    if options.patience < 0:
        raise UserError(f"--patience must be >= 0; received {options.patience}")
    if options.plateau < 0:
        raise UserError(
            f"--plateau must be 0 (off) or a positive integer; received {options.plateau}"
        )
    if not 0.0 < options.plateau_factor < 1.0:
        raise UserError(f"--plateau-factor must be in (0, 1); received {options.plateau_factor}")
    if options.logical_cpus < 1:
        raise UserError(f"--logical-cpus must be >= 1; received {options.logical_cpus}")
    if options.overwrite and options.resume:
        raise UserError("--overwrite and --resume contradict each other; pass one")


def setup_runtime(options):
    """Apply devices, seed, precision policy; return the `tf.distribute` strategy.

    Must run before any TensorFlow op (logical devices are fixed at start-up).
    """
    import keras
    import tensorflow as tf

    if options.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * options.logical_cpus
            )
        except RuntimeError as error:
            raise UserError(f"--logical-cpus: TensorFlow already started ({error})") from error
    keras.utils.set_random_seed(options.seed)
    precision = options.mixed_precision
    if precision == "auto":
        precision = "float16" if tf.config.list_physical_devices("GPU") else "bfloat16"
    keras.config.set_dtype_policy("float32" if precision == "off" else f"mixed_{precision}")

    if options.strategy == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
        return tf.distribute.MirroredStrategy(devices)
    if options.strategy == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise UserError("--strategy multiworker needs TF_CONFIG describing the cluster")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def make_optimizer(options):
    """The optimizer named by `--optimizer`, with learning rate and clipping."""
    import keras

    kwargs = {"learning_rate": options.lr}
    if options.clipnorm:
        kwargs["clipnorm"] = options.clipnorm
    if options.clipvalue:
        kwargs["clipvalue"] = options.clipvalue
    if options.weight_decay:
        kwargs["weight_decay"] = options.weight_decay
    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "nadam": keras.optimizers.Nadam,
        "rmsprop": keras.optimizers.RMSprop,
        "sgd": keras.optimizers.SGD,
    }
    return classes[options.optimizer](**kwargs)


def recurrent_stack(
    options, return_sequences, name="recurrent", dropout=None, recurrent_dropout=0.0, seed=None
):
    """The seqapps recurrent layers named by `--cell --units --layers --bidirectional`.

    Returns a list of layers; the last returns sequences only if asked.
    `seed` (default `--seed`) seeds their dropout masks.
    """
    seed = options.seed if seed is None else seed
    from seqapps.layers import GRU, LSTM, Bidirectional, SimpleRNN

    layer_class = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}[options.cell]
    layers = []
    for index in range(options.layers):
        last = index == options.layers - 1
        layer = layer_class(
            options.units,
            return_sequences=return_sequences or not last,
            dropout=0.0 if dropout is None else dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed + index,
            name=f"{name}_{index}",
        )
        if options.bidirectional:
            layer = Bidirectional(layer, name=f"bi{name}_{index}")
        layers.append(layer)
    return layers


def inference_function(model):
    """A compiled `model(x, training=False)` for any batch shape.

    Unlike `predict_on_batch` it runs in the default (cross-replica) context,
    so it gives one output per example under any distribution strategy.
    """
    import tensorflow as tf

    function = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)
    return lambda inputs: function(inputs).numpy()


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


class _BatchHook:
    """Keras callback: NaN guard and timed mid-epoch checkpoints."""

    def __new__(cls, trainer, epoch, skipped):
        import keras

        class Hook(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                loss = (logs or {}).get("loss")
                if loss is not None and not math.isfinite(float(loss)):
                    trainer._diverged_at = (epoch + 1, skipped + batch + 1, float(loss))
                    self.model.stop_training = True
                    return
                if time.monotonic() - trainer._last_checkpoint >= trainer.checkpoint_every:
                    trainer._save_checkpoint(epoch, skipped + batch + 1)

        return Hook()


class Trainer:
    """Runs training epochs with early stopping, NaN guard and resumable checkpoints.

    Args:
        model: A compiled Keras model (built under the strategy's scope).
        run_dir: The `seqapps.files.RunDir`.
        options: Parsed training options.
        train_batches: `train_batches(epoch) -> tf.data.Dataset`, the shuffled
            batches of one epoch (deterministic for a given epoch and seed).
        evaluate_dev: `evaluate_dev(model) -> dict` of dev metrics.
        monitor: Key of `evaluate_dev`'s result that early stopping follows.
        mode: `"max"` or `"min"` for `monitor`.
    """

    def __init__(self, model, run_dir, options, train_batches, evaluate_dev, monitor, mode="max"):
        self.model = model
        self.run_dir = run_dir
        self.options = options
        self.train_batches = train_batches
        self.evaluate_dev = evaluate_dev
        self.monitor = monitor
        self.sign = 1.0 if mode == "max" else -1.0
        self.checkpoint_every = options.checkpoint_every
        self.history = []
        self.best = None
        self.best_epoch = None
        self.best_metrics = {}
        self.wait = 0
        self.start_epoch = 0
        self.start_batch = 0
        self.elapsed = 0.0
        self.lr_scale = 1.0  # product of the --plateau cuts so far
        self._last_checkpoint = time.monotonic()
        self._diverged_at = None

    # Checkpoints -----------------------------------------------------------
    def _state(self, epoch, batches_done):
        return {
            "epoch": epoch,
            "batches_done": batches_done,
            "history": self.history,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_metrics": self.best_metrics,
            "wait": self.wait,
            "lr_scale": self.lr_scale,
            "elapsed": self.elapsed + time.monotonic() - self._started,
        }

    def _save_checkpoint(self, epoch, batches_done):
        target = self.run_dir.checkpoint_dir
        with atomic_path(target) as staging:
            staging.mkdir()
            self.model.save_weights(staging / "latest.weights.h5")
            best = target / "best.weights.h5"
            if best.exists():
                shutil.copy2(best, staging / "best.weights.h5")
            (staging / "state.json").write_text(json.dumps(self._state(epoch, batches_done)))
        self._last_checkpoint = time.monotonic()

    def _save_best(self):
        target = self.run_dir.checkpoint_dir
        target.mkdir(exist_ok=True)
        with atomic_path(target / "best.weights.h5") as temporary:
            self.model.save_weights(temporary)

    def _restore(self):
        directory = self.run_dir.checkpoint_dir
        state = json.loads((directory / "state.json").read_text())
        if not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(directory / "latest.weights.h5")
        self.start_epoch = state["epoch"]
        self.start_batch = state["batches_done"]
        self.history = state["history"]
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.best_metrics = state["best_metrics"]
        self.wait = state["wait"]
        self.lr_scale = state.get("lr_scale", 1.0)
        self.elapsed = state["elapsed"]
        print(
            f"Resuming {self.run_dir.path} at epoch {self.start_epoch + 1}, "
            f"after {self.start_batch} batch(es) of it",
            file=sys.stderr,
        )

    # Loop ------------------------------------------------------------------
    def fit(self):
        """Train; returns the dev metrics of the kept (best) epoch."""
        options = self.options
        self._started = time.monotonic()
        if options.resume:
            self._restore()
        verbose = 1 if sys.stdout.isatty() else 2
        for epoch in range(self.start_epoch, options.epochs):
            skip = self.start_batch if epoch == self.start_epoch else 0
            dataset = self.train_batches(epoch)
            if skip:
                dataset = dataset.skip(skip)
            self._diverged_at = None
            if options.lr_decay != 1.0:
                self.model.optimizer.learning_rate.assign(
                    options.lr * options.lr_decay**epoch * self.lr_scale
                )
            result = self.model.fit(
                dataset,
                initial_epoch=epoch,
                epochs=epoch + 1,
                verbose=verbose,
                shuffle=False,  # the batches come shuffled, seeded per epoch
                callbacks=[_BatchHook(self, epoch, skip)],
            )
            if self._diverged_at is not None:
                self._diverged()
            metrics = {k: float(v) for k, v in self.evaluate_dev(self.model).items()}
            row = {"epoch": epoch + 1}
            row.update({k: float(v[-1]) for k, v in result.history.items()})
            row.update({f"dev_{k}": v for k, v in metrics.items()})
            row["lr"] = float(np.asarray(self.model.optimizer.learning_rate))
            row["seconds"] = round(self.elapsed + time.monotonic() - self._started, 1)
            self.history.append(row)
            self.write_history()
            value = metrics[self.monitor]
            shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if np.isscalar(v))
            print(f"Epoch {epoch + 1}: dev {shown}", file=sys.stderr)
            self._update_best(value, epoch + 1, metrics)
            self._save_checkpoint(epoch + 1, 0)
            if options.patience and self.wait >= options.patience:
                print(
                    f"Early stop: no better dev {self.monitor} for {self.wait} epoch(s); "
                    f"keeping epoch {self.best_epoch}",
                    file=sys.stderr,
                )
                break
            minutes = (self.elapsed + time.monotonic() - self._started) / 60
            if options.max_minutes and minutes >= options.max_minutes:
                print(f"Stopping: --max-minutes {options.max_minutes} reached", file=sys.stderr)
                break
        best = self.run_dir.checkpoint_dir / "best.weights.h5"
        if best.exists():
            self.model.load_weights(best)
        return {"epoch": self.best_epoch, **self.best_metrics}

    def _update_best(self, value, epoch, metrics):
        """Keep the best epoch; after `--plateau` epochs without one, cut the learning rate."""
        if self.best is None or self.sign * value > self.sign * self.best:
            self.best, self.best_epoch, self.best_metrics, self.wait = value, epoch, metrics, 0
            self._save_best()
            return
        self.wait += 1
        plateau = getattr(self.options, "plateau", 0)
        best = self.run_dir.checkpoint_dir / "best.weights.h5"
        if plateau and self.wait % plateau == 0 and best.exists():
            factor = self.options.plateau_factor
            rate = float(np.asarray(self.model.optimizer.learning_rate)) * factor
            # The saved weights hold the optimizer's state, its learning rate included.
            self.model.load_weights(best)
            self.model.optimizer.learning_rate.assign(rate)
            self.lr_scale *= factor
            print(f"Plateau: back to the best weights, learning rate {rate:g}", file=sys.stderr)

    def _diverged(self):
        epoch, batch, loss = self._diverged_at
        raise TrainingDiverged(
            f"training loss became {loss} at epoch {epoch}, batch {batch}; try gradient clipping "
            f"(--clipnorm 1.0 or --clipvalue 5) or a lower learning rate (--lr {self.options.lr:g} "
            f"now)"
        )

    def write_history(self):
        fields = []
        for row in self.history:
            fields += [k for k in row if k not in fields]
        write_csv(self.run_dir / "history.csv", self.history, fields)

    def finish(self):
        """Remove the checkpoint once the run's files are written."""
        shutil.rmtree(self.run_dir.checkpoint_dir, ignore_errors=True)


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
    `command_line`); Python API runs record the call's options only.
    """
    options_dict = {k: v for k, v in vars(options).items() if k != "command"}
    return {
        "command": getattr(options, "command", None) or "Python API call (see options)",
        "options": options_dict,
        "data": {k: str(v) if v is not None else None for k, v in data_paths.items()},
        "versions": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def in_run_directory(options, train_in):
    """Run `train_in(run_dir)` in the run directory of `--out`.

    The directory is checked first (refused when used, unless `--overwrite` or
    `--resume`), so no time goes into data before a clash is reported. If
    training fails before its first checkpoint, a directory this run created
    is removed again.
    """
    from seqapps.files import RunDir

    run_dir = RunDir(options.out, options.overwrite, options.resume).prepare()
    try:
        return train_in(run_dir)
    except BaseException:
        if not run_dir.has_checkpoint():
            run_dir.discard_if_new()
        raise


def save_run(run_dir, trainer, model, metrics, monitor, export=None, summary=""):
    """Write a finished run: `model.keras`, `metrics.json`, `curves.png`, `saved_model/`.

    Ends with one line on stderr: `Kept epoch N: <summary>. Wrote <run dir>`.

    Args:
        run_dir: The `seqapps.files.RunDir`.
        trainer: The `Trainer` (its history draws the curves; its checkpoint is removed).
        model: The Keras model to save.
        metrics: What `metrics.json` holds.
        monitor: The dev metric the curves highlight.
        export: `export(model, path)` writing the SavedModel, or None (`--no-export`).
        summary: The kept epoch's dev metrics, as text.
    """
    import keras

    from seqapps import plots

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


def train_script(prog, build_parser, train):
    """The Python API function and the `main(argv)` of an app's train script.

    Args:
        prog: Script name (`apps.<app>.train`), recorded with the command line.
        build_parser: Returns the script's `ArgumentParser`.
        train: `train(options)` running the training.

    Returns:
        `(train_model, main)`: `train_model(**kwargs)` takes the script's flags
        as keywords (`data=..., out=..., epochs=3`); `main(argv)` parses a
        command line and records it in `config.json`.
    """
    from seqapps.cli import options_from_kwargs

    def train_model(**kwargs):
        """Python API: train with the script's flags as keywords (`out=..., epochs=3`)."""
        return train(options_from_kwargs(build_parser(), **kwargs))

    def main(argv):
        options = build_parser().parse_args(argv)
        options.command = command_line(prog, argv)
        train(options)

    return train_model, main
