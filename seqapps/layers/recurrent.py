"""Base class of the seqapps recurrent layers: runs a cell over time."""

import keras
from keras import ops, tree

_LAYER_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


def _static_shape(value):
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    return tuple(None if d is None else int(d) for d in shape)


def _compatible(expected, received):
    return expected is None or received is None or expected == received


class Recurrent(keras.layers.RNN):
    """Runs `cell_class` over the time axis of a `(batch, timesteps, features)` input.

    The loop is the generic `keras.layers.RNN` loop (a `while_loop` on the
    TensorFlow backend), which makes one fused gate matmul per step and works
    eagerly, in `tf.function`, under XLA, under `tf.distribute` strategies and
    with mixed precision. Masked steps keep the previous state, so a padded
    example gives exactly what it gives alone; their output is zeros with
    `zero_output_for_mask=True` (which `Bidirectional` sets) and the previous
    output otherwise, as in Keras.

    Subclasses set `cell_class` and pass their cell arguments through
    `__init__`. The layer checks what users can get wrong (input rank, feature
    size, initial state shapes, mask shape) and raises a `ValueError` naming
    the expected and received values before any op runs.
    """

    cell_class = None

    def __init__(
        self,
        units,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        activity_regularizer=None,
        **kwargs,
    ):
        base_kwargs = {
            key: kwargs.pop(key) for key in ("name", "dtype", "trainable") if key in kwargs
        }
        cell = self.cell_class(
            units,
            dtype=base_kwargs.get("dtype"),
            trainable=base_kwargs.get("trainable", True),
            name=f"{self.cell_class.__name__.lower().replace('cell', '')}_cell",
            **kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            activity_regularizer=activity_regularizer,
            **base_kwargs,
        )

    def _where(self):
        return f"{type(self).__name__} layer {self.name!r}"

    def _check_sequences_shape(self, shape):
        shape = tuple(shape)
        if len(shape) != 3:
            raise ValueError(
                f"{self._where()} expects inputs of rank 3 (batch, timesteps, features); "
                f"received shape {shape} of rank {len(shape)}"
            )
        if shape[-1] is None:
            raise ValueError(
                f"{self._where()} needs a known feature size; received input shape {shape}"
            )
        kernel = getattr(self.cell, "kernel", None)
        if kernel is not None and kernel.shape[0] != shape[-1]:
            raise ValueError(
                f"{self._where()} was built for {kernel.shape[0]} input features; "
                f"received inputs with {shape[-1]} features (shape {shape})"
            )

    def _check_initial_state(self, sequences_shape, initial_state):
        states = tree.flatten(initial_state)
        if len(states) != len(self.state_size):
            raise ValueError(
                f"{self._where()} expects {len(self.state_size)} initial state tensor(s) "
                f"of shape (batch, {self.cell.units}); received {len(states)}"
            )
        for index, (state, size) in enumerate(zip(states, self.state_size)):
            expected = (sequences_shape[0], size)
            received = _static_shape(state)
            if received is None:
                continue
            if len(received) != 2 or not all(map(_compatible, expected, received)):
                raise ValueError(
                    f"{self._where()}: initial state {index} must have shape "
                    f"{expected}; received {received}"
                )

    def _check_mask(self, sequences_shape, mask):
        received = _static_shape(mask)
        if received is None:
            return
        expected = tuple(sequences_shape[:2])
        if len(received) != 2 or not all(map(_compatible, expected, received)):
            raise ValueError(
                f"{self._where()}: mask must have shape (batch, timesteps) = {expected}; "
                f"received {received}"
            )

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_sequences_shape(sequences_shape)
        super().build(sequences_shape, initial_state_shape)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        self._check_sequences_shape(sequences_shape)
        return super().compute_output_shape(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        shape = _static_shape(sequences)
        self._check_sequences_shape(shape)
        if initial_state is not None:
            self._check_initial_state(shape, initial_state)
        if mask is not None:
            mask = tree.flatten(mask)[0]
            self._check_mask(shape, mask)
            mask = ops.cast(mask, "bool")
        if shape[1] not in (None, 0):
            return super().call(
                sequences, initial_state=initial_state, mask=mask, training=training
            )
        # The time axis may be empty (an empty text): run one masked step, so
        # the result is the initial state, and cut the sequence output back.
        import tensorflow as tf

        steps = tf.shape(sequences)[1]
        if mask is None:
            mask = tf.ones(tf.shape(sequences)[:2], dtype="bool")
        missing = tf.maximum(0, 1 - steps)
        sequences = tf.pad(sequences, [[0, 0], [0, missing], [0, 0]])
        mask = tf.pad(mask, [[0, 0], [0, missing]], constant_values=False)
        result = super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        if not self.return_sequences:
            return result
        if self.return_state:
            return (result[0][:, :steps], *result[1:])
        return result[:, :steps]

    def get_config(self):
        # Flat config, like the Keras layers: the cell is rebuilt from its
        # arguments rather than stored as a nested object.
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "dtype", "trainable"):
            cell_config.pop(key, None)
        activity = keras.regularizers.serialize(self.activity_regularizer)
        return {**config, **cell_config, "activity_regularizer": activity}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _cell_property(name):
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's `{name}`.")


# Cell hyper-parameters read through the layer, as on the Keras layers.
for _name in (
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
):
    setattr(Recurrent, _name, _cell_property(_name))
