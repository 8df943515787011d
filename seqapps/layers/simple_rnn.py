"""The basic recurrent layer."""

import keras

from seqapps.layers.recurrent import Recurrent
from seqapps.layers.simple_rnn_cell import SimpleRNNCell


@keras.saving.register_keras_serializable(package="seqapps")
class SimpleRNN(Recurrent):
    """Basic recurrent network over a sequence: a<t> = tanh(Waa a<t-1> + Wax x<t> + ba).

    Runs `SimpleRNNCell` over the time axis; see it for the weight layout.

    Args:
        units: Positive integer, dimensionality of the output and state.
        activation: Activation replacing `tanh`.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed: As in `keras.layers.SimpleRNN`.
        return_sequences: Return the output of every step, not just the last.
        return_state: Also return the final state.
        go_backwards: Process the sequence in reverse (outputs come in
            processing order, as in Keras).
        stateful: Carry the last state of each batch into the next batch.
        unroll: Unroll the loop (short, fixed-length sequences only).
        activity_regularizer, name, dtype, trainable: Base layer arguments.

    Call arguments:
        sequences: `(batch, timesteps, features)` tensor.
        initial_state: Optional `(batch, units)` tensor or list with it.
        mask: Optional `(batch, timesteps)` boolean tensor; masked steps keep
            the previous state.
        training: Whether dropout is active.

    Example:

    >>> layer = SimpleRNN(16, return_sequences=True)
    >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
    (2, 5, 16)
    """

    cell_class = SimpleRNNCell

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
