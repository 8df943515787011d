"""The long short-term memory layer."""

import keras

from seqapps import keras_compat
from seqapps.layers.fused_recurrent import FusedRecurrent
from seqapps.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="seqapps")
class LSTM(FusedRecurrent):
    """Long short-term memory over a sequence.

        Γu, Γf, Γo = σ(W{u,f,o} [a<t-1>, x<t>] + b{u,f,o})
        c~<t> = tanh(Wc [a<t-1>, x<t>] + bc)
        c<t> = Γu * c~<t> + Γf * c<t-1>,   a<t> = Γo * tanh(c<t>)

    Runs `LSTMCell` over the time axis; see it for the weight layout
    ([u | f | c | o] blocks, the order of `keras.layers.LSTM`). The states are
    `[a, c]`. On a GPU the layer runs the fused cuDNN kernel where it can (see
    `use_cudnn`).

    Args:
        units: Positive integer, dimensionality of the output and state.
        activation, recurrent_activation: Replace `tanh` and `σ`.
        unit_forget_bias: Initialize the forget-gate bias to 1.
        use_cudnn: `"auto"` (fused cuDNN kernel where it can run, the loop
            elsewhere), `True` (require it) or `False` (always loop).
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed, implementation: As in `keras.layers.LSTM`.
        return_sequences, return_state, go_backwards, stateful, unroll,
        zero_output_for_mask: As in `keras.layers.LSTM`.
        activity_regularizer, name, dtype, trainable: Base layer arguments.

    Call arguments:
        sequences: `(batch, timesteps, features)` tensor.
        initial_state: Optional list `[a0, c0]`, each `(batch, units)`.
        mask: Optional `(batch, timesteps)` boolean tensor.
        training: Whether dropout is active.

    Example:

    >>> layer = LSTM(64, return_sequences=True, return_state=True)
    >>> sequence, a, c = layer(np.zeros((4, 10, 8), "float32"))
    >>> tuple(sequence.shape), tuple(a.shape), tuple(c.shape)
    ((4, 10, 64), (4, 64), (4, 64))
    """

    cell_class = LSTMCell

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            unit_forget_bias=unit_forget_bias,
            use_cudnn=use_cudnn,
            **kwargs,
        )

    @property
    def unit_forget_bias(self):
        return self.cell.unit_forget_bias

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation

    def _run_cudnn(self, sequences, initial_state, mask):
        cell = self.cell
        return keras_compat.cudnn_lstm(
            sequences,
            initial_state[0],
            initial_state[1],
            mask,
            cell.kernel,
            cell.recurrent_kernel,
            cell.bias,
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
        )
