"""The gated recurrent unit layer."""

import keras

from seqapps.layers.gru_cell import GRUCell
from seqapps.layers.recurrent import Recurrent


@keras.saving.register_keras_serializable(package="seqapps")
class GRU(Recurrent):
    """Gated recurrent unit over a sequence, with update and relevance gates.

        Γu   = σ(Wu [c<t-1>, x<t>] + bu)
        Γr   = σ(Wr [c<t-1>, x<t>] + br)
        c~<t> = tanh(Wc [Γr * c<t-1>, x<t>] + bc)
        c<t> = Γu * c~<t> + (1 − Γu) * c<t-1>,   a<t> = c<t>

    Runs `GRUCell` over the time axis; see it for the weight layout
    ([u | r | c] blocks). `relevance_gate=False` gives the simplified GRU
    (Γr ≡ 1).

    Args:
        units: Positive integer, dimensionality of the output and state.
        relevance_gate: Whether the cell has the relevance gate Γr.
        activation, recurrent_activation: Replace `tanh` and `σ`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed: As in `keras.layers.GRU`.
        return_sequences, return_state, go_backwards, stateful, unroll:
            As in `keras.layers.GRU`.
        activity_regularizer, name, dtype, trainable: Base layer arguments.

    Call arguments:
        sequences: `(batch, timesteps, features)` tensor.
        initial_state: Optional `(batch, units)` tensor or list with it.
        mask: Optional `(batch, timesteps)` boolean tensor.
        training: Whether dropout is active.

    Example:

    >>> layer = GRU(32, return_state=True)
    >>> output, state = layer(np.zeros((4, 10, 8), "float32"))
    """

    cell_class = GRUCell

    def __init__(
        self,
        units,
        relevance_gate=True,
        activation="tanh",
        recurrent_activation="sigmoid",
        **kwargs,
    ):
        super().__init__(
            units,
            relevance_gate=relevance_gate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            **kwargs,
        )

    @property
    def relevance_gate(self):
        return self.cell.relevance_gate

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation
