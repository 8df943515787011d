"""The gated recurrent unit cell, in the course form and in Keras's reset-after form."""

import keras
from keras import ops

from seqapps.layers.recurrent_cell import RecurrentCell, check_implementation


@keras.saving.register_keras_serializable(package="seqapps")
class GRUCell(RecurrentCell):
    """One step of the gated recurrent unit (GRU), in one of two forms.

    **Course form** (`reset_after=False`, the default). The GRU keeps a memory
    cell c (its activation is a<t> = c<t>) and has an update gate Γu and a
    relevance gate Γr, applied to the state *before* the recurrent matmul:

        Γu   = σ(Wu [c<t-1>, x<t>] + bu)
        Γr   = σ(Wr [c<t-1>, x<t>] + br)
        c~<t> = tanh(Wc [Γr * c<t-1>, x<t>] + bc)
        c<t> = Γu * c~<t> + (1 − Γu) * c<t-1>
        a<t> = c<t>

    With `relevance_gate=False` it is the simplified GRU (Γr ≡ 1):
    c~<t> = tanh(Wc [c<t-1>, x<t>] + bc).

    Weight layout (row-vector form, blocks of `units` columns in this order):
    `kernel` (input_dim, 3 * units) = [Wu_x | Wr_x | Wc_x],
    `recurrent_kernel` (units, 3 * units) = [Wu_c | Wr_c | Wc_c],
    `bias` (3 * units,) = [bu | br | bc]. Without the relevance gate the blocks
    are [u | c] and the widths are 2 * units. This is the layout of
    `keras.layers.GRU(reset_after=False)` (z, r, h) except that Keras's update
    gate is z = 1 − Γu; `seqapps.interop` converts between the two.

    **Keras form** (`reset_after=True`, the default of `keras.layers.GRU` and
    the form cuDNN runs). Update gate z, reset gate r applied *after* the
    recurrent matmul, separate input and recurrent biases:

        z    = σ(x<t> Wz + bz_x + h<t-1> Uz + bz_h)
        r    = σ(x<t> Wr + br_x + h<t-1> Ur + br_h)
        h~<t> = tanh(x<t> Wh + bh_x + r * (h<t-1> Uh + bh_h))
        h<t> = z * h<t-1> + (1 − z) * h~<t>

    Its weights are exactly Keras's: `kernel` (input_dim, 3 * units) =
    [Wz | Wr | Wh], `recurrent_kernel` (units, 3 * units) = [Uz | Ur | Uh],
    `bias` (2, 3 * units) = [[bz_x | br_x | bh_x], [bz_h | br_h | bh_h]], so
    Keras GRU weights load with no conversion.

    Args:
        units: Positive integer, dimensionality of the state.
        relevance_gate: Whether the course-form cell has the relevance gate Γr
            (the Keras form always has its reset gate).
        reset_after: `False` for the course form, `True` for Keras's form.
        activation: Activation replacing `tanh` for the candidate.
        recurrent_activation: Activation replacing `σ` for the gates.
        implementation: Keras's legacy switch (0, 1 or 2); accepted and
            ignored, as in Keras: both compute the same function.
        **kwargs: `use_bias`, the initializers, regularizers and constraints of
            `kernel`, `recurrent_kernel` and `bias`, `dropout`,
            `recurrent_dropout`, `seed`, and base layer arguments.

    Example:

    >>> cell = GRUCell(8)
    >>> output, [state] = cell(ops.ones((2, 3)), [ops.zeros((2, 8))])
    >>> tuple(output.shape), tuple(cell.bias.shape)
    ((2, 8), (24,))
    >>> keras_form = GRUCell(8, reset_after=True)
    >>> _ = keras_form(ops.ones((2, 3)), [ops.zeros((2, 8))])
    >>> tuple(keras_form.bias.shape)
    (2, 24)
    """

    def __init__(
        self,
        units,
        relevance_gate=True,
        reset_after=False,
        activation="tanh",
        recurrent_activation="sigmoid",
        implementation=2,
        **kwargs,
    ):
        if reset_after and not relevance_gate:
            raise ValueError(
                "GRUCell(reset_after=True) is Keras's GRU, which always has its reset "
                "gate; relevance_gate=False exists only in the course form "
                "(reset_after=False)"
            )
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation, **kwargs
        )
        self.relevance_gate = bool(relevance_gate)
        self.reset_after = bool(reset_after)
        self.implementation = check_implementation(implementation)

    @property
    def _gate_count(self):
        return 3 if self.relevance_gate else 2

    def _bias_shape(self):
        if self.reset_after:
            return (2, 3 * self.units)
        return super()._bias_shape()

    def call(self, inputs, states, training=False):
        previous = states[0] if isinstance(states, (list, tuple)) else states
        if self.reset_after:
            state = self._reset_after_step(inputs, previous, training)
        else:
            state = self._course_step(inputs, previous, training)
        new_states = [state] if isinstance(states, (list, tuple)) else state
        return state, new_states

    def _course_step(self, inputs, previous, training):
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
        return previous + update * (candidate - previous)

    def _reset_after_step(self, inputs, previous, training):
        projected = self._input_matmul(inputs, training)
        recurrent = ops.matmul(self._drop_state(previous, training), self.recurrent_kernel)
        if self.use_bias:
            projected = projected + self.bias[0]
            recurrent = recurrent + self.bias[1]
        x_update, x_reset, x_candidate = ops.split(projected, 3, axis=-1)
        h_update, h_reset, h_candidate = ops.split(recurrent, 3, axis=-1)
        update = self.recurrent_activation(x_update + h_update)
        reset = self.recurrent_activation(x_reset + h_reset)
        candidate = self.activation(x_candidate + reset * h_candidate)
        # h~ + z (h − h~) is z h + (1 − z) h~ with one op fewer per step.
        return candidate + update * (previous - candidate)

    def get_config(self):
        return {
            **super().get_config(),
            "relevance_gate": self.relevance_gate,
            "reset_after": self.reset_after,
            "implementation": self.implementation,
        }
