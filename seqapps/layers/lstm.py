"""The long short-term memory layer."""

import keras

from seqapps.layers.lstm_cell import LSTMCell
from seqapps.layers.recurrent import Recurrent


@keras.saving.register_keras_serializable(package="seqapps")
class LSTM(Recurrent):
    """Long short-term memory over a sequence.

        Γu, Γf, Γo = σ(W{u,f,o} [a<t-1>, x<t>] + b{u,f,o})
        c~<t> = tanh(Wc [a<t-1>, x<t>] + bc)
        c<t> = Γu * c~<t> + Γf * c<t-1>,   a<t> = Γo * tanh(c<t>)

    Runs `LSTMCell` over the time axis; see it for the weight layout
    ([u | f | c | o] blocks, the order of `keras.layers.LSTM`). The states are
    `[a, c]`.

    Args:
        units: Positive integer, dimensionality of the output and state.
        activation, recurrent_activation: Replace `tanh` and `σ`.
        unit_forget_bias: Initialize the forget-gate bias to 1.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed: As in `keras.layers.LSTM`.
        return_sequences, return_state, go_backwards, stateful, unroll:
            As in `keras.layers.LSTM`.
        activity_regularizer, name, dtype, trainable: Base layer arguments.

    Call arguments:
        sequences: `(batch, timesteps, features)` tensor.
        initial_state: Optional list `[a0, c0]`, each `(batch, units)`.
        mask: Optional `(batch, timesteps)` boolean tensor.
        training: Whether dropout is active.

    Example:

    >>> layer = LSTM(64, return_sequences=True, return_state=True)
    >>> sequence, a, c = layer(np.zeros((4, 10, 8), "float32"))
    """

    cell_class = LSTMCell

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            unit_forget_bias=unit_forget_bias,
            **kwargs,
        )

    @property
    def unit_forget_bias(self):
        return self.cell.unit_forget_bias

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation
