"""The gated recurrent unit cell with update and relevance gates."""

import keras
from keras import ops

from seqapps.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="seqapps")
class GRUCell(RecurrentCell):
    """One step of the gated recurrent unit (GRU).

    The full GRU keeps a memory cell c (its activation is a<t> = c<t>) and has
    an update gate Γu and a relevance gate Γr:

        Γu   = σ(Wu [c<t-1>, x<t>] + bu)
        Γr   = σ(Wr [c<t-1>, x<t>] + br)
        c~<t> = tanh(Wc [Γr * c<t-1>, x<t>] + bc)
        c<t> = Γu * c~<t> + (1 − Γu) * c<t-1>
        a<t> = c<t>

    With `relevance_gate=False` the cell is the simplified GRU (Γr ≡ 1):
    c~<t> = tanh(Wc [c<t-1>, x<t>] + bc).

    Weight layout (row-vector form, blocks of `units` columns in this order):
    `kernel` (input_dim, 3 * units) = [Wu_x | Wr_x | Wc_x],
    `recurrent_kernel` (units, 3 * units) = [Wu_c | Wr_c | Wc_c],
    `bias` (3 * units,) = [bu | br | bc]. Without the relevance gate the blocks
    are [u | c] and the widths are 2 * units. This is the layout of
    `keras.layers.GRU(reset_after=False)` (z, r, h) except that Keras's update
    gate is z = 1 − Γu; `seqapps.interop` converts between the two.

    Args:
        units: Positive integer, dimensionality of the state.
        relevance_gate: Whether the cell has the relevance gate Γr.
        activation: Activation replacing `tanh` for the candidate.
        recurrent_activation: Activation replacing `σ` for the gates.
        **kwargs: `use_bias`, the initializers, regularizers and constraints of
            `kernel`, `recurrent_kernel` and `bias`, `dropout`,
            `recurrent_dropout`, `seed`, and base layer arguments.

    Example:

    >>> cell = GRUCell(8)
    >>> output, [state] = cell(ops.ones((2, 3)), [ops.zeros((2, 8))])
    """

    def __init__(
        self,
        units,
        relevance_gate=True,
        activation="tanh",
        recurrent_activation="sigmoid",
        **kwargs,
    ):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation, **kwargs
        )
        self.relevance_gate = bool(relevance_gate)

    @property
    def _gate_count(self):
        return 3 if self.relevance_gate else 2

    def call(self, inputs, states, training=False):
        previous = states[0] if isinstance(states, (list, tuple)) else states
        units = self.units
        projected = self._add_bias(self._input_matmul(inputs, training))
        dropped = self._drop_state(previous, training)
        if self.relevance_gate:
            # One split and one activation per gate measured faster (with and
            # without XLA) than one activation over both gates.
            x_update, x_relevance, x_candidate = ops.split(projected, 3, axis=-1)
            recurrent = ops.matmul(dropped, self.recurrent_kernel[:, : 2 * units])
            update = self.recurrent_activation(x_update + recurrent[:, :units])
            relevance = self.recurrent_activation(x_relevance + recurrent[:, units:])
            candidate = self.activation(
                x_candidate + ops.matmul(relevance * dropped, self.recurrent_kernel[:, 2 * units :])
            )
        else:
            x_update, x_candidate = ops.split(projected, 2, axis=-1)
            recurrent = ops.matmul(dropped, self.recurrent_kernel)
            update = self.recurrent_activation(x_update + recurrent[:, :units])
            candidate = self.activation(x_candidate + recurrent[:, units:])
        # c + Γu (c~ − c) is Γu c~ + (1 − Γu) c with one op fewer per step.
        memory = previous + update * (candidate - previous)
        new_states = [memory] if isinstance(states, (list, tuple)) else memory
        return memory, new_states

    def get_config(self):
        return {**super().get_config(), "relevance_gate": self.relevance_gate}
