"""The basic recurrent cell."""

import keras
from keras import ops

from seqapps.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="seqapps")
class SimpleRNNCell(RecurrentCell):
    """One step of the basic (Elman) recurrent network.

    Equations, for input x<t> and previous activation a<t-1>:

        a<t> = tanh(Waa a<t-1> + Wax x<t> + ba)

    In row-vector form, the weights are `kernel` = Wax^T with shape
    `(input_dim, units)`, `recurrent_kernel` = Waa^T with shape
    `(units, units)` and `bias` = ba with shape `(units,)`, so a step computes
    `tanh(x @ kernel + a @ recurrent_kernel + bias)`. The state is `[a]` and the
    output is `a`.

    Args:
        units: Positive integer, dimensionality of the state.
        activation: Activation replacing `tanh` (default `"tanh"`).
        **kwargs: `use_bias`, the initializers, regularizers and constraints of
            `kernel`, `recurrent_kernel` and `bias`, `dropout`,
            `recurrent_dropout`, `seed`, and base layer arguments, as in
            `keras.layers.SimpleRNNCell`.

    Example:

    >>> cell = SimpleRNNCell(4)
    >>> layer = seqapps.layers.SimpleRNN(4)  # runs the cell over time
    >>> rnn = keras.layers.RNN(cell)         # the same loop, stock wrapper
    """

    gate_count = 1

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNNCell has no gates and takes no `recurrent_activation`")
        super().__init__(units, activation=activation, **kwargs)

    def call(self, inputs, states, training=False):
        previous = states[0] if isinstance(states, (list, tuple)) else states
        previous = self._drop_state(previous, training)
        preactivation = self._add_bias(
            ops.add(
                self._input_matmul(inputs, training), ops.matmul(previous, self.recurrent_kernel)
            )
        )
        output = self.activation(preactivation)
        new_states = [output] if isinstance(states, (list, tuple)) else output
        return output, new_states

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config
