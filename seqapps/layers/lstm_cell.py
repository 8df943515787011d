"""The long short-term memory cell."""

import keras
from keras import initializers, ops

from seqapps.layers.recurrent_cell import RecurrentCell, check_implementation


@keras.saving.register_keras_serializable(package="seqapps")
class LSTMCell(RecurrentCell):
    """One step of the long short-term memory (LSTM) network.

    With forget gate Γf, update gate Γu, output gate Γo and candidate c~:

        Γu   = σ(Wu [a<t-1>, x<t>] + bu)
        Γf   = σ(Wf [a<t-1>, x<t>] + bf)
        c~<t> = tanh(Wc [a<t-1>, x<t>] + bc)
        Γo   = σ(Wo [a<t-1>, x<t>] + bo)
        c<t> = Γu * c~<t> + Γf * c<t-1>
        a<t> = Γo * tanh(c<t>)

    Weight layout (row-vector form, blocks of `units` columns in this order):
    `kernel` (input_dim, 4 * units) = [Wu_x | Wf_x | Wc_x | Wo_x],
    `recurrent_kernel` (units, 4 * units) = [Wu_a | Wf_a | Wc_a | Wo_a],
    `bias` (4 * units,) = [bu | bf | bc | bo]. This is the order of
    `keras.layers.LSTM` (i, f, c, o). The states are `[a, c]`; the output is a.

    Args:
        units: Positive integer, dimensionality of the state.
        activation: Activation replacing `tanh` (candidate and output).
        recurrent_activation: Activation replacing `σ` for the gates.
        unit_forget_bias: If true, add 1 to the forget-gate bias at
            initialization (Jozefowicz et al., 2015); forces
            `bias_initializer="zeros"` for the other blocks.
        implementation: Keras's legacy switch (0, 1 or 2); accepted and
            ignored, as in Keras: both compute the same function.
        **kwargs: `use_bias`, the initializers, regularizers and constraints of
            `kernel`, `recurrent_kernel` and `bias`, `dropout`,
            `recurrent_dropout`, `seed`, and base layer arguments.

    Example:

    >>> cell = LSTMCell(8)
    >>> output, [a, c] = cell(ops.ones((2, 3)), [ops.zeros((2, 8)), ops.zeros((2, 8))])
    """

    gate_count = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        implementation=2,
        **kwargs,
    ):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation, **kwargs
        )
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = check_implementation(implementation)
        self.state_size = [units, units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def forget_bias_one(shape, dtype=None):
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    initializers.get("ones")((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return forget_bias_one

    def call(self, inputs, states, training=False):
        previous_activation, previous_memory = states[0], states[1]
        dropped = self._drop_state(previous_activation, training)
        preactivation = self._add_bias(
            ops.add(
                self._input_matmul(inputs, training), ops.matmul(dropped, self.recurrent_kernel)
            )
        )
        update, forget, candidate, output = ops.split(preactivation, 4, axis=-1)
        memory = self.recurrent_activation(forget) * previous_memory + self.recurrent_activation(
            update
        ) * self.activation(candidate)
        activation = self.recurrent_activation(output) * self.activation(memory)
        return activation, [activation, memory]

    def get_config(self):
        return {
            **super().get_config(),
            "unit_forget_bias": self.unit_forget_bias,
            "implementation": self.implementation,
        }
