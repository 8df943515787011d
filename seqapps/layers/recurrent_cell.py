"""Base class shared by the seqapps recurrent cells."""

import keras
from keras import activations, constraints, initializers, ops, regularizers

# Keras's own cells inherit the dropout-mask cache from this mixin, and
# `keras.layers.RNN` only prepares the per-sequence masks before its loop for
# cells that are instances of it; inheriting it keeps one mask per sequence.
from seqapps.keras_compat import DropoutRNNCell


def _check_rate(name, value):
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be a float in [0, 1); received {name}={value!r}")
    return float(value)


def check_implementation(value):
    """Keras's legacy `implementation` switch: accepted (0, 1 or 2), no effect on the result."""
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ValueError(f"`implementation` must be 0, 1 or 2; received implementation={value!r}")
    return int(value)


class RecurrentCell(DropoutRNNCell, keras.layers.Layer):
    """A recurrent cell whose weights are one fused input kernel, one fused
    recurrent kernel and one fused bias, each holding `gate_count` blocks of
    `units` columns.

    Subclasses set `gate_count` (or override `_gate_count`), implement `call`,
    and document the order of the blocks.

    Args:
        units: Positive integer, dimensionality of the state.
        activation: Activation of the candidate/output (default `tanh`).
        recurrent_activation: Activation of the gates (default `sigmoid`).
        use_bias: Whether the cell has a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer:
            Initializers of the three weights.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            Regularizers of the three weights.
        kernel_constraint, recurrent_constraint, bias_constraint:
            Constraints of the three weights.
        dropout: Fraction of the inputs to drop (one mask per sequence).
        recurrent_dropout: Fraction of the previous state to drop in the
            recurrent transformation (one mask per sequence).
        seed: Random seed for dropout.
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).
    """

    gate_count = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"`units` must be a positive integer; received units={units!r}")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = units
        self.output_size = units

    @property
    def _gate_count(self):
        return self.gate_count

    def _bias_initializer(self):
        return self.bias_initializer

    def _bias_shape(self):
        return (self._gate_count * self.units,)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects a step input of rank 2 "
                f"(batch, features); received shape {tuple(input_shape)}"
            )
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known feature size; "
                f"received input shape {tuple(input_shape)}"
            )
        width = self._gate_count * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    def _input_matmul(self, inputs, training):
        """x W, with the sequence's input dropout mask applied to x."""
        if training and self.dropout > 0.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        return ops.matmul(inputs, self.kernel)

    def _add_bias(self, preactivation):
        # Added after both matmuls are summed: TensorFlow's graph optimizer
        # would otherwise fuse x W + b into one op that runs slower in the loop.
        return ops.add(preactivation, self.bias) if self.use_bias else preactivation

    def _drop_state(self, state, training):
        if training and self.recurrent_dropout > 0.0:
            return state * self.get_recurrent_dropout_mask(state)
        return state

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        states = [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]
        return states if len(states) > 1 else states[0]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
