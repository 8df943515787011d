"""The training loop every application shares: `Trainer`.

`Trainer` runs `model.fit` one epoch at a time with early stopping on a dev metric
(best weights restored), learning-rate cuts when it stalls, a NaN guard, progress
lines on stderr, and checkpoints taken during the epoch, so `--resume` continues a
killed or interrupted (Ctrl-C) run from its last checkpoint, skipping the batches it
had already trained on, to the result an uninterrupted run gives.
"""

import json
import math
import os
import shutil
import sys
import time

import numpy as np

from seqapps.errors import UserError
from seqapps.files import atomic_path, write_csv


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
        run_dir: The `seqapps.training.RunDir`.
        config: The run's `seqapps.training.TrainingConfig`.
        train_batches: `train_batches(epoch) -> tf.data.Dataset`, the shuffled
            batches of one epoch (deterministic for a given epoch and seed). If it
            takes a `skip` keyword, `train_batches(epoch, skip=n)` must leave out
            the first n batches (cheaper than `dataset.skip` when making a batch
            costs time and draws no random numbers).
        evaluate_dev: `evaluate_dev(model) -> dict` of dev metrics.
        monitor: Key of `evaluate_dev`'s result that early stopping follows.
        mode: `"max"` or `"min"` for `monitor`.
    """

    def __init__(self, model, run_dir, config, train_batches, evaluate_dev, monitor, mode="max"):
        self.model = model
        self.run_dir = run_dir
        self.config = config
        self.train_batches = train_batches
        self.evaluate_dev = evaluate_dev
        self.monitor = monitor
        self.sign = 1.0 if mode == "max" else -1.0
        self.checkpoint_every = config.checkpoint_every
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
        if self.config.multi_worker:
            every = self.config.checkpoint_batches
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
        return self.config.multi_worker

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
        config = self.config
        self._started = time.monotonic()
        self._last_checkpoint = time.monotonic()
        if config.resume:
            self._restore()
        for epoch in range(self.start_epoch, config.epochs):
            skip = self.start_batch if epoch == self.start_epoch else 0
            if skip == 0 and self._should_stop():
                break
            dataset, total = self._dataset(epoch, skip)
            header = f"Epoch {epoch + 1}/{config.epochs}"
            if skip:
                header += f": resuming after batch {skip}" + (f" of {total}" if total else "")
            print(header, file=sys.stderr, flush=True)
            self._diverged_at = None
            if config.lr_decay != 1.0:
                self.model.optimizer.learning_rate.assign(
                    config.lr * config.lr_decay**epoch * self.lr_scale
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
        config = self.config
        if config.patience and self.wait >= config.patience:
            print(
                f"Early stop: no better dev {self.monitor} for {self.wait} epoch(s) "
                f"(--patience {config.patience}); keeping epoch {self.best_epoch}",
                file=sys.stderr,
            )
            return True
        minutes = (self.elapsed + time.monotonic() - self._started) / 60
        if self.history and config.max_minutes and minutes >= config.max_minutes:
            print(f"Stopping: --max-minutes {config.max_minutes:g} reached", file=sys.stderr)
            return True
        return False

    def _update_best(self, value, epoch, metrics):
        """Keep the best epoch; after `--plateau` epochs without one, cut the learning rate."""
        if self.best is None or self.sign * value > self.sign * self.best:
            self.best, self.best_epoch, self.best_metrics, self.wait = value, epoch, metrics, 0
            self._save_best()
            return
        self.wait += 1
        plateau = self.config.plateau
        best = self.run_dir.checkpoint_dir / BEST_WEIGHTS
        if plateau and self.wait % plateau == 0 and best.exists():
            factor = self.config.plateau_factor
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
            f"(--clipnorm 1.0 or --clipvalue 5) or a lower learning rate (--lr {self.config.lr:g} "
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
