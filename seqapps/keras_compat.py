"""Every private Keras (`keras.src`) name that seqapps uses, in one place.

Keras's public API has no dropout-mask mixin for recurrent cells, no handle on the
object-sharing scope that model loading keeps, and no public entry to its fused cuDNN
kernels; seqapps needs all three. They are imported here and nowhere else, so a Keras
upgrade has one file to check. The names were checked against `CHECKED_KERAS`
(major.minor); another Keras version is refused with a clear error rather than failing
somewhere inside a layer.
"""

import importlib

import keras

CHECKED_KERAS = "3.15"


def _check_version():
    installed = ".".join(keras.__version__.split(".")[:2])
    if installed != CHECKED_KERAS:
        raise ImportError(
            f"seqapps uses private Keras internals checked against Keras {CHECKED_KERAS}.x; "
            f"the installed Keras is {keras.__version__}. Install keras~={CHECKED_KERAS}.0 "
            "(see requirements.txt), or check seqapps/keras_compat.py against this version."
        )


_check_version()

try:
    from keras.src.backend.common import global_state
    from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell
except ImportError as error:  # pragma: no cover - only on a broken Keras install
    raise ImportError(
        f"Keras {keras.__version__} lacks an internal module seqapps needs ({error}); "
        "see seqapps/keras_compat.py"
    ) from error

__all__ = [
    "CHECKED_KERAS",
    "DropoutRNNCell",
    "cudnn_gru",
    "cudnn_lstm",
    "enable_multi_worker_fit",
    "global_state",
    "gpu_available",
]


def _tensorflow_rnn():
    """Keras's TensorFlow-backend RNN module (cuDNN kernels), imported on first use."""
    if keras.backend.backend() != "tensorflow":
        return None
    # The package re-exports a function named `rnn`, which hides the module.
    return importlib.import_module("keras.src.backend.tensorflow.rnn")


def gpu_available():
    """Whether TensorFlow sees a GPU (the device condition of the fused kernels)."""
    rnn = _tensorflow_rnn()
    return rnn is not None and rnn._is_gpu_available()


def cudnn_lstm(inputs, initial_h, initial_c, mask, kernel, recurrent_kernel, bias, **options):
    """Keras's fused cuDNN LSTM: `(last_output, outputs, [h, c])`.

    `options` are `go_backwards` and `return_sequences`. The weights are Keras's LSTM
    layout (gates i, f, c, o), which is ours. Raises `NotImplementedError` where the
    kernel cannot run (no cuDNN op on this device).
    """
    import tensorflow as tf

    rnn = _tensorflow_rnn()
    try:
        return rnn._cudnn_lstm(
            inputs,
            initial_h,
            initial_c,
            _value(kernel),
            _value(recurrent_kernel),
            _value(bias),
            mask,
            time_major=False,
            **options,
        )
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as error:
        raise NotImplementedError(str(error)) from error


def cudnn_gru(inputs, initial_h, mask, kernel, recurrent_kernel, bias, **options):
    """Keras's fused cuDNN GRU (reset-after form): `(last_output, outputs, [h])`.

    The weights are Keras's `GRU(reset_after=True)` layout (blocks z, r, h and a
    `(2, 3 * units)` bias), which is ours with `reset_after=True`.
    """
    import tensorflow as tf

    rnn = _tensorflow_rnn()
    try:
        return rnn._cudnn_gru(
            inputs,
            initial_h,
            _value(kernel),
            _value(recurrent_kernel),
            _value(bias),
            mask,
            time_major=False,
            **options,
        )
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as error:
        raise NotImplementedError(str(error)) from error


def _value(variable):
    return getattr(variable, "value", variable)


_multi_worker_fit_enabled = False


def enable_multi_worker_fit():
    """Make `model.fit` run under `tf.distribute.MultiWorkerMirroredStrategy`.

    Keras 3's TensorFlow trainer fails there (keras-team/keras#20585) in two places:
    before the first step it averages a sample batch with `strategy.reduce` outside a
    `tf.function`, which the collective strategy cannot do eagerly; and it averages the
    scalar step logs with `reduce("MEAN", axis=0)`, which has no axis 0. The first only
    needs a batch's shapes, so one replica's local batch is used; the second reduces
    with `axis=None`. Called by seqapps only when a multi-worker strategy is chosen;
    calling it again does nothing.
    """
    global _multi_worker_fit_enabled
    if _multi_worker_fit_enabled:
        return
    import tensorflow as tf

    trainer = importlib.import_module("keras.src.backend.tensorflow.trainer")
    symbolic_build = trainer.TensorFlowTrainer._maybe_symbolic_build
    reduce_per_replica = trainer.reduce_per_replica

    def local_value(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return value.values[0]
        return value

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        multi_worker = self._distribute_strategy is not None and (
            trainer._collective_all_reduce_multi_worker(self._distribute_strategy)
        )
        if not multi_worker or iterator is None:
            return symbolic_build(self, iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(local_value, next(batches))
            break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_logs(values, strategy, reduction="auto"):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tf.nest.map_structure(
                lambda value: strategy.reduce("MEAN", value, axis=None), values
            )
        return reduce_per_replica(values, strategy, reduction)

    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    trainer.reduce_per_replica = reduce_logs
    _multi_worker_fit_enabled = True
