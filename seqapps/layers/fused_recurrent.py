"""Base class of the recurrent layers that run TensorFlow's fused cuDNN kernel on a GPU."""

import keras
from keras import activations, ops

from seqapps import keras_compat
from seqapps.layers.recurrent import Recurrent

USE_CUDNN_VALUES = ("auto", True, False)
_TANH = (activations.tanh, ops.tanh)
_SIGMOID = (activations.sigmoid, ops.sigmoid)


def _check_use_cudnn(value):
    # `is` comparisons: 1 == True and 0 == False must not pass as booleans.
    if not (value is True or value is False or value == "auto"):
        raise ValueError(
            f"`use_cudnn` must be one of {USE_CUDNN_VALUES}; received use_cudnn={value!r}"
        )
    return value


class FusedRecurrent(Recurrent):
    """A `Recurrent` layer that can run the whole sequence in one fused cuDNN call.

    With `use_cudnn="auto"` (the default) the layer runs the fused kernel when
    TensorFlow sees a GPU and the configuration is one cuDNN computes (the
    conditions of `keras.layers.LSTM`/`GRU`: `tanh` activation, `sigmoid` gates,
    no recurrent dropout, no `unroll`, a bias, and for the GRU `reset_after=True`)
    and the mask, if any, is right-padded with no empty sequence; otherwise it
    runs the generic loop, which computes the same function. The mask is checked
    when the layer runs, so a batch with a left-padded mask falls back to the loop
    inside the same graph. `use_cudnn=True` insists on the fused kernel: a
    configuration it cannot run is a `ValueError` at construction, and so is a
    call with no GPU. `use_cudnn=False` always loops.

    Unlike Keras, with `return_sequences=True` and a mask, the padded steps of the
    fused result are what the loop gives there (the last real output, or zeros with
    `zero_output_for_mask=True`), so both paths give the same tensors.

    Subclasses implement `_cudnn_form_problems` and `_run_cudnn`.
    """

    def __init__(self, units, use_cudnn="auto", **kwargs):
        _check_use_cudnn(use_cudnn)
        super().__init__(units, **kwargs)
        self.use_cudnn = use_cudnn
        if use_cudnn is True and self.cudnn_configuration_problems():
            raise ValueError(
                f"{self._where()} has use_cudnn=True, but cuDNN cannot run this "
                f"configuration: {'; '.join(self.cudnn_configuration_problems())}. "
                "Pass use_cudnn='auto' to use the loop where cuDNN cannot run."
            )
        if self.will_use_cudnn():
            # cuDNN ops have no XLA kernels, as for Keras's layers.
            self.supports_jit = False

    def cudnn_configuration_problems(self):
        """Why cuDNN cannot run this configuration, as a list of short reasons (empty: it can)."""
        cell = self.cell
        problems = []
        if keras.backend.backend() != "tensorflow":
            problems.append(f"the Keras backend is {keras.backend.backend()!r}, not 'tensorflow'")
        if not any(cell.activation is fn for fn in _TANH):
            problems.append(f"activation is {activations.serialize(cell.activation)!r}, not 'tanh'")
        if not any(cell.recurrent_activation is fn for fn in _SIGMOID):
            problems.append(
                "recurrent_activation is "
                f"{activations.serialize(cell.recurrent_activation)!r}, not 'sigmoid'"
            )
        if cell.recurrent_dropout:
            problems.append(f"recurrent_dropout={cell.recurrent_dropout} (must be 0)")
        if self.unroll:
            problems.append("unroll=True")
        if not cell.use_bias:
            problems.append("use_bias=False")
        return problems + self._cudnn_form_problems()

    def will_use_cudnn(self):
        """Whether calls run the fused kernel (masks that are not right-padded aside)."""
        return (
            self.use_cudnn is not False
            and not self.cudnn_configuration_problems()
            and keras_compat.gpu_available()
        )

    def _cudnn_form_problems(self):
        return []

    def _run_cudnn(self, sequences, initial_state, mask):
        """`(last_output, outputs, states)` from the fused kernel."""
        raise NotImplementedError

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.use_cudnn is False or self.cudnn_configuration_problems():
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if not keras_compat.gpu_available():
            if self.use_cudnn is True:
                raise ValueError(
                    f"{self._where()} has use_cudnn=True, but TensorFlow sees no GPU. "
                    "Pass use_cudnn='auto' to run the loop on this device."
                )
            return super().inner_loop(sequences, initial_state, mask, training=training)

        def loop():
            last, outputs, states = super(FusedRecurrent, self).inner_loop(
                sequences, initial_state, mask, training=training
            )
            return last, outputs, list(states)

        def fused():
            inputs = sequences
            if training and self.cell.dropout:
                # The cell's per-sequence input mask, the same at every step.
                step_mask = self.cell.get_dropout_mask(sequences[:, 0, :])
                inputs = sequences * ops.expand_dims(step_mask, 1)
            last, outputs, states = self._run_cudnn(inputs, initial_state, mask)
            if mask is not None and self.return_sequences:
                # The loop repeats the last real output after a sequence's end (zeros
                # with zero_output_for_mask), and writes zeros before its start when it
                # runs backwards; the kernel's own padding is not relied on.
                keep = ops.cast(mask, "bool")
                if self.go_backwards:
                    keep = ops.flip(keep, axis=1)
                carried = self.zero_output_for_mask or self.go_backwards
                filler = ops.zeros_like(last) if carried else last
                keep = ops.expand_dims(keep, -1)
                outputs = ops.where(keep, outputs, ops.expand_dims(filler, 1))
            return last, outputs, list(states)

        try:
            if mask is None:
                return fused()
            if self.use_cudnn is True:
                return fused()  # Keras's kernel asserts that the mask is right-padded
            return _cond(_cudnn_can_take(mask), fused, loop)
        except NotImplementedError:
            if self.use_cudnn is True:
                raise ValueError(
                    f"{self._where()} has use_cudnn=True, but the fused kernel is not "
                    "available on this device"
                ) from None
            return loop()

    def get_config(self):
        return {**super().get_config(), "use_cudnn": self.use_cudnn}


def _cudnn_can_take(mask):
    """True where the mask is right-padded and no sequence is empty (cuDNN's conditions)."""
    import tensorflow as tf

    mask = tf.cast(mask, "bool")
    lengths = tf.reduce_sum(tf.cast(mask, "int32"), axis=1)
    right_padded = tf.reduce_all(tf.equal(mask, tf.sequence_mask(lengths, tf.shape(mask)[1])))
    return tf.logical_and(right_padded, tf.reduce_all(lengths > 0))


def _cond(predicate, true_fn, false_fn):
    import tensorflow as tf

    if tf.executing_eagerly():
        return true_fn() if bool(predicate) else false_fn()
    return tf.cond(predicate, true_fn, false_fn)
