"""The training loop every application shares.

`add_training_arguments` gives each `train` script the same flags;
`setup_runtime` applies seed, devices, precision and distribution strategy;
`Trainer` runs `model.fit` one epoch at a time with early stopping on a dev
metric (best weights restored), learning-rate cuts when it stalls, a NaN guard,
progress lines on stderr, and checkpoints taken during the epoch so `--resume`
continues a killed or interrupted (Ctrl-C) run from its last checkpoint, skipping
the batches it had already trained on, to the result an uninterrupted run gives.
`train_script` makes `--resume --out DIR` take the run's recorded options
(`resume_options`), refusing changed ones; `in_run_directory` keeps a run that
`--overwrite` replaces until the new run has a checkpoint (`seqapps.files.RunDir`).
"""

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

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
        "--checkpoint-batches",
        type=int,
        default=0,
        metavar="N",
        help="with --strategy multiworker: also checkpoint every N batches (every worker "
        "checkpoints at the same batch; timed checkpoints are off there). 0: at epoch ends only",
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
    if getattr(options, "checkpoint_batches", 0) < 0:
        raise UserError(f"--checkpoint-batches must be >= 0; received {options.checkpoint_batches}")
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
    strategy = _multi_worker_strategy() if options.strategy == "multiworker" else None
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
    if strategy is not None:
        return strategy
    return tf.distribute.get_strategy()


def _multi_worker_strategy():
    import tensorflow as tf

    from seqapps import keras_compat

    multi_worker_task()  # a clear error for a missing or malformed TF_CONFIG
    # Created before any other TensorFlow op, as the collective strategy requires.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras_compat.enable_multi_worker_fit()
    return strategy


def multi_worker_task():
    """`(index, is_chief)` of this process in the cluster that `TF_CONFIG` describes.

    The chief is the task of type "chief" or, without one, worker 0 (TensorFlow's rule).
    """
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError(
            "--strategy multiworker needs TF_CONFIG describing the cluster, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}'
        )
    try:
        config = json.loads(text)
        task, cluster = config["task"], config["cluster"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"TF_CONFIG is not a valid cluster description ({error})") from error
    if kind not in cluster or not 0 <= index < len(cluster[kind]):
        raise UserError(f"TF_CONFIG: task {kind} {index} is not in its cluster {cluster}")
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    return index, is_chief


def worker_directory(out, index):
    """Where a non-chief worker writes its copy of the run: a private, fixed place.

    Fixed (from `--out` and the worker's index), so a restarted worker finds its
    checkpoint again; outside `--out`, which only the chief writes.
    """
    import hashlib
    import tempfile

    key = hashlib.sha1(str(Path(out).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "seqapps-workers" / f"{key}-worker{index}"


def _is_lost_worker(error):
    """Whether `error` is how a collective op reports a worker that stopped answering."""
    names = {"UnavailableError", "DeadlineExceededError", "AbortedError", "CancelledError"}
    return any(type(cause).__name__ in names for cause in _causes(error))


def _causes(error):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


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


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a run that has a checkpoint; the message says how to resume."""


BEST_WEIGHTS = "best.weights.h5"
# The best weights the last checkpoint knows, kept while a newer best is not yet committed.
PENDING_STATE = "state.pending.json"
BEST_PREVIOUS = "best.previous.weights.h5"


def _duration(seconds):
    """`42s`, `3m05s`, `2h07m`."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class _EpochHook:
    """Keras callback of one epoch: NaN guard, timed checkpoints, Ctrl-C, progress on stderr.

    Progress: `Epoch E/N` when the epoch starts (with the batch it resumes at), a
    live line (`batch done/total, rate, ETA, loss`) rewritten in place on a
    terminal, or else printed after the first batch, `FIRST_LOG_SECONDS` later and
    then every `LOG_SECONDS`, and the epoch's batches, time and training metrics
    at its end.
    """

    TERMINAL_SECONDS = 0.25
    FIRST_LOG_SECONDS = 2.0
    LOG_SECONDS = 15.0

    def __new__(cls, trainer, epoch, skipped, total):
        import keras

        stream = sys.stderr
        terminal = stream.isatty()

        class Hook(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch_index, logs=None):
                self.started = time.monotonic()
                self.done = skipped
                self.live = False
                self.first = None  # (time, batches) when the first batch ended
                self.next_report = self.started

            def on_train_batch_end(self, batch, logs=None):
                logs = logs or {}
                self.done = skipped + batch + 1
                loss = logs.get("loss")
                if loss is not None and not math.isfinite(float(loss)):
                    trainer._diverged_at = (epoch + 1, self.done, float(loss))
                    self.model.stop_training = True
                    return
                if trainer._interrupted:
                    trainer._save_checkpoint(epoch, self.done)
                    self.model.stop_training = True
                    return
                now = time.monotonic()
                if now >= self.next_report:
                    first = self.first is None
                    self.report(now, loss)
                    wait = cls.FIRST_LOG_SECONDS if first else cls.LOG_SECONDS
                    self.next_report = now + (cls.TERMINAL_SECONDS if terminal else wait)
                if trainer._checkpoint_due(now, self.done):
                    trainer._save_checkpoint(epoch, self.done)

            def report(self, now, loss):
                line = f"  batch {self.done}" + (f"/{total}" if total else "")
                if self.first is None:
                    # The first batch includes building the graph: no rate from it.
                    self.first = (now, self.done)
                    line += f"  (first batch after {_duration(now - self.started)})"
                elif now > self.first[0] and self.done > self.first[1]:
                    rate = (self.done - self.first[1]) / (now - self.first[0])
                    line += f"  {rate:.1f} batches/s"
                    if total:
                        line += f"  ETA {_duration((total - self.done) / rate)}"
                if loss is not None:
                    line += f"  loss {float(loss):.4f}"
                if terminal:
                    stream.write(f"\r{line}\x1b[K")
                    self.live = True
                else:
                    stream.write(line + "\n")
                stream.flush()

            def close_line(self):
                if self.live:
                    stream.write("\r\x1b[K")
                    self.live = False

            def on_epoch_end(self, epoch_index, logs=None):
                self.close_line()
                if trainer._diverged_at is not None or trainer._interrupted:
                    stream.flush()
                    return
                seconds = time.monotonic() - self.started
                shown = ", ".join(
                    f"{k} {float(v):.4f}" for k, v in (logs or {}).items() if np.isscalar(v)
                )
                stream.write(
                    f"  {self.done - skipped} batches in {_duration(seconds)}"
                    + (f" ({(self.done - skipped) / max(seconds, 1e-9):.1f}/s)")
                    + (f"; {shown}" if shown else "")
                    + "\n"
                )
                stream.flush()

            def on_train_end(self, logs=None):
                self.close_line()

        return Hook()


class Trainer:
    """Runs training epochs with early stopping, NaN guard and resumable checkpoints.

    A checkpoint (`checkpoint/` of the run directory) is `state.json` (epoch,
    batches done, history, best epoch, patience count, random-generator states)
    naming the weights file it goes with (`latest-N.weights.h5`, model and
    optimizer), plus `best.weights.h5`. Writing `state.json` (atomically) is
    what commits a checkpoint, so a crash at any moment leaves the previous
    checkpoint or the new one, complete. The dropout generators' states are saved
    too: a resumed run draws the same masks, and ends as the uninterrupted run would.

    Ctrl-C stops at the end of the current batch with a checkpoint there (a second
    Ctrl-C stops at once); `in_run_directory` then reports how to resume.

    Args:
        model: A compiled Keras model (built under the strategy's scope).
        run_dir: The `seqapps.files.RunDir`.
        options: Parsed training options.
        train_batches: `train_batches(epoch) -> tf.data.Dataset`, the shuffled
            batches of one epoch (deterministic for a given epoch and seed). If it
            takes a `skip` keyword, `train_batches(epoch, skip=n)` must leave out
            the first n batches (cheaper than `dataset.skip` when making a batch
            costs time and draws no random numbers).
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
        self._serial = 0  # checkpoints written by this run, resumes included
        self._started = time.monotonic()
        self._last_checkpoint = time.monotonic()
        self._diverged_at = None
        self._interrupted = False

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

    def _checkpoint_due(self, now, batches_done):
        """Whether to checkpoint after this batch.

        One process decides by the clock (`--checkpoint-every`). The workers of a
        multi-worker job must checkpoint at the same batch, or a resume would start
        them at different places, so they go by batch count (`--checkpoint-batches`).
        """
        if getattr(self.options, "strategy", "auto") == "multiworker":
            every = getattr(self.options, "checkpoint_batches", 0)
            return bool(every) and batches_done % every == 0
        return now - self._last_checkpoint >= self.checkpoint_every

    def _seed_variables(self):
        """The state variables of the model's random generators (dropout masks), in order."""
        return [v for v in getattr(self.model, "variables", []) if "seed_generator" in v.path]

    def _save_checkpoint(self, epoch, batches_done):
        from seqapps.files import kill_point, write_text

        directory = self.run_dir.checkpoint_dir
        directory.mkdir(parents=True, exist_ok=True)
        self._serial += 1
        weights = f"latest-{self._serial}.weights.h5"
        with atomic_path(directory / weights) as temporary:
            self.model.save_weights(temporary)
        kill_point("checkpoint-weights-written")
        state = self._state(epoch, batches_done)
        state["weights"] = weights
        state["serial"] = self._serial
        state["seed_states"] = [np.asarray(v).tolist() for v in self._seed_variables()]
        if self._multi_worker:
            # Every worker writes its checkpoint as pending, waits for all the others to
            # have done so, then commits: a worker lost before the barrier leaves every
            # worker at the previous checkpoint, and one lost just after it is brought
            # forward by `_agree_on_checkpoint` when the job resumes.
            write_text(directory / PENDING_STATE, json.dumps(state))
            self._agree_max(self._serial)
            os.replace(directory / PENDING_STATE, directory / "state.json")
        else:
            write_text(directory / "state.json", json.dumps(state))
        kill_point("checkpoint-committed")
        # Tidy: what the committed state no longer needs.
        (directory / BEST_PREVIOUS).unlink(missing_ok=True)
        for stale in [*directory.glob("latest*.weights.h5"), *directory.glob(".tmp*")]:
            if stale.name != weights:
                _remove(stale)
        self._last_checkpoint = time.monotonic()
        if hasattr(self.run_dir, "checkpoint_written"):
            self.run_dir.checkpoint_written()

    def _save_best(self):
        from seqapps.files import kill_point

        target = self.run_dir.checkpoint_dir
        target.mkdir(exist_ok=True)
        best, previous = target / BEST_WEIGHTS, target / BEST_PREVIOUS
        if best.exists() and not previous.exists():
            # The committed checkpoint's best stays until the next one commits this one.
            with atomic_path(previous) as temporary:
                try:
                    os.link(best, temporary)
                except OSError:
                    shutil.copy2(best, temporary)
        with atomic_path(best) as temporary:
            self.model.save_weights(temporary)
        kill_point("best-saved")

    @property
    def _multi_worker(self):
        return getattr(self.options, "strategy", "auto") == "multiworker"

    def _agree_max(self, value):
        """The largest of every worker's `value` (a barrier: each worker must call it)."""
        import tensorflow as tf

        strategy = self.model.distribute_strategy

        @tf.function
        def largest(local):
            def reduce(v):
                # ReduceOp has no MAX: gather every worker's value and take the largest.
                gathered = tf.distribute.get_replica_context().all_gather(v[None], axis=0)
                return tf.reduce_max(gathered)

            return strategy.run(reduce, args=(local,))

        result = largest(tf.constant(int(value), tf.int64))
        return int(strategy.experimental_local_results(result)[0])

    def _agree_on_checkpoint(self, directory):
        """Bring this worker to the checkpoint every worker of the job committed or holds."""
        committed = json.loads((directory / "state.json").read_text()).get("serial", 0)
        pending_path = directory / PENDING_STATE
        pending = None
        if pending_path.is_file():
            pending = json.loads(pending_path.read_text())
            if not (directory / pending["weights"]).is_file():
                pending = None
        agreed = self._agree_max(committed)
        if committed == agreed:
            pending_path.unlink(missing_ok=True)
            return
        if pending is not None and pending["serial"] == agreed:
            os.replace(pending_path, directory / "state.json")
            # The best weights written with that checkpoint are its best weights.
            (directory / BEST_PREVIOUS).unlink(missing_ok=True)
            return
        raise UserError(
            f"--resume: the checkpoint in {directory} is number {committed}, but another "
            f"worker of the job holds number {agreed}; the workers cannot resume together"
        )

    def _restore(self):
        directory = self.run_dir.checkpoint_dir
        if self._multi_worker:
            self._agree_on_checkpoint(directory)
        state = json.loads((directory / "state.json").read_text())
        if not self.model.optimizer.built:
            # The optimizer's slots belong beside the model's variables: in the scope
            # of the strategy it was built under (mirrored, multi-worker).
            with self.model.distribute_strategy.scope():
                self.model.optimizer.build(self.model.trainable_variables)
        weights = directory / state.get("weights", "latest.weights.h5")
        try:
            self.model.load_weights(weights)
        except (ValueError, KeyError, OSError) as error:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise UserError(
                f"--resume: {weights} does not fit the model these options and data build ({first})"
            ) from error
        seeds = state.get("seed_states")
        variables = self._seed_variables()
        if seeds is not None and len(seeds) == len(variables):
            for variable, value in zip(variables, seeds):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        self.start_epoch = state["epoch"]
        self.start_batch = state["batches_done"]
        self.history = state["history"]
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.best_metrics = state["best_metrics"]
        self.wait = state["wait"]
        self.lr_scale = state.get("lr_scale", 1.0)
        self.elapsed = state["elapsed"]
        self._serial = state.get("serial", 0)
        best, previous = directory / BEST_WEIGHTS, directory / BEST_PREVIOUS
        if self.start_batch == 0 and self.best_epoch and self.best_epoch == self.start_epoch:
            # Committed at the end of the best epoch: its weights are the best weights.
            with atomic_path(best) as temporary:
                shutil.copyfile(weights, temporary)
            previous.unlink(missing_ok=True)
        elif previous.exists():
            # A newer best was written but never committed: back to the committed one.
            os.replace(previous, best)
        print(
            f"Resuming {self.run_dir.path} at epoch {self.start_epoch + 1}, "
            f"after {self.start_batch} batch(es) of it",
            file=sys.stderr,
        )

    # Loop ------------------------------------------------------------------
    def _dataset(self, epoch, skip):
        """The epoch's batches after the first `skip`, and the epoch's batch count (or None)."""
        import inspect

        try:
            takes_skip = "skip" in inspect.signature(self.train_batches).parameters
        except (TypeError, ValueError):
            takes_skip = False
        if takes_skip and skip:
            dataset = self.train_batches(epoch, skip=skip)
            total = int(dataset.cardinality())
            return dataset, (total + skip if total >= 0 else None)
        dataset = self.train_batches(epoch)
        total = int(dataset.cardinality())
        if skip:
            dataset = dataset.skip(skip)
        return dataset, (total if total >= 0 else None)

    def _on_interrupt(self, signum, frame):
        if self._interrupted:
            raise KeyboardInterrupt  # the second Ctrl-C: stop at once
        self._interrupted = True

    def fit(self):
        """Train; returns the dev metrics of the kept (best) epoch."""
        import signal
        import threading

        handle_interrupt = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._on_interrupt) if handle_interrupt else None
        try:
            return self._fit()
        finally:
            if handle_interrupt:
                signal.signal(signal.SIGINT, previous)

    def _fit(self):
        options = self.options
        self._started = time.monotonic()
        self._last_checkpoint = time.monotonic()
        if options.resume:
            self._restore()
        for epoch in range(self.start_epoch, options.epochs):
            skip = self.start_batch if epoch == self.start_epoch else 0
            if skip == 0 and self._should_stop():
                break
            dataset, total = self._dataset(epoch, skip)
            header = f"Epoch {epoch + 1}/{options.epochs}"
            if skip:
                header += f": resuming after batch {skip}" + (f" of {total}" if total else "")
            print(header, file=sys.stderr, flush=True)
            self._diverged_at = None
            if options.lr_decay != 1.0:
                self.model.optimizer.learning_rate.assign(
                    options.lr * options.lr_decay**epoch * self.lr_scale
                )
            result = self.model.fit(
                dataset,
                initial_epoch=epoch,
                epochs=epoch + 1,
                verbose=0,  # _EpochHook shows the progress
                shuffle=False,  # the batches come shuffled, seeded per epoch
                callbacks=[_EpochHook(self, epoch, skip, total)],
            )
            if self._diverged_at is not None:
                self._diverged()
            if self._interrupted:
                raise KeyboardInterrupt  # the hook saved a checkpoint at this batch
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
            if self._interrupted:
                raise KeyboardInterrupt
        best = self.run_dir.checkpoint_dir / BEST_WEIGHTS
        if best.exists():
            self.model.load_weights(best)
        return {"epoch": self.best_epoch, **self.best_metrics}

    def _should_stop(self):
        """Early stopping and `--max-minutes`, checked between epochs (also after a resume)."""
        options = self.options
        if options.patience and self.wait >= options.patience:
            print(
                f"Early stop: no better dev {self.monitor} for {self.wait} epoch(s) "
                f"(--patience {options.patience}); keeping epoch {self.best_epoch}",
                file=sys.stderr,
            )
            return True
        minutes = (self.elapsed + time.monotonic() - self._started) / 60
        if self.history and options.max_minutes and minutes >= options.max_minutes:
            print(f"Stopping: --max-minutes {options.max_minutes:g} reached", file=sys.stderr)
            return True
        return False

    def _update_best(self, value, epoch, metrics):
        """Keep the best epoch; after `--plateau` epochs without one, cut the learning rate."""
        if self.best is None or self.sign * value > self.sign * self.best:
            self.best, self.best_epoch, self.best_metrics, self.wait = value, epoch, metrics, 0
            self._save_best()
            return
        self.wait += 1
        plateau = getattr(self.options, "plateau", 0)
        best = self.run_dir.checkpoint_dir / BEST_WEIGHTS
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
        from seqapps.files import remove_tree

        remove_tree(self.run_dir.checkpoint_dir)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


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


# Resuming ----------------------------------------------------------------------------------

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
# Keys of config.json that describe the invocation rather than the data.
_CONFIG_INVOCATION_KEYS = frozenset(
    {"command", "options", "data", "versions", "created", "cwd", "resumed"}
)


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


def _flag_names(parser):
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
    from seqapps.files import RunDir, read_json

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
    flags = _flag_names(build_parser())

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
    from seqapps.files import RunDir

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


def train_script(prog, build_parser, train):
    """The Python API function and the `main(argv)` of an app's train script.

    With `--resume`, the options not given come from the run's `config.json`
    (`resume_options`), so `--resume --out DIR` alone continues a run. Ctrl-C
    ends `main` with one line naming the command that resumes, and exit status 130.

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

    def run(options, given):
        scratch = _use_worker_directory(options)
        try:
            if options.resume:
                resume_options(options, given, build_parser)
            result = train(options)
        except Exception as error:
            if options.strategy == "multiworker" and _is_lost_worker(error):
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
