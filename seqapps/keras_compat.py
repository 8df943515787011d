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
