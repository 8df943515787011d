"""The gated recurrent unit layer."""

import keras

from seqapps import keras_compat
from seqapps.layers.fused_recurrent import FusedRecurrent
from seqapps.layers.gru_cell import GRUCell


@keras.saving.register_keras_serializable(package="seqapps")
class GRU(FusedRecurrent):
    """Gated recurrent unit over a sequence, in the course form or Keras's form.

    Course form (`reset_after=False`, the default; the GRU as the deep-learning
    course teaches it, relevance gate applied before the recurrent matmul):

        Γu   = σ(Wu [c<t-1>, x<t>] + bu)
        Γr   = σ(Wr [c<t-1>, x<t>] + br)
        c~<t> = tanh(Wc [Γr * c<t-1>, x<t>] + bc)
        c<t> = Γu * c~<t> + (1 − Γu) * c<t-1>,   a<t> = c<t>

    Keras form (`reset_after=True`, exactly `keras.layers.GRU()`, its weights
    and its update convention; the form cuDNN runs):

        z = σ(x Wz + bz_x + h<t-1> Uz + bz_h),   r = σ(x Wr + br_x + h<t-1> Ur + br_h)
        h~<t> = tanh(x Wh + bh_x + r * (h<t-1> Uh + bh_h))
        h<t> = z * h<t-1> + (1 − z) * h~<t>

    Runs `GRUCell` over the time axis; see it for both weight layouts.
    `relevance_gate=False` gives the simplified course-form GRU (Γr ≡ 1). With
    `reset_after=True` on a GPU the layer runs the fused cuDNN kernel where it can
    (see `use_cudnn`); the course form always runs the loop.

    Args:
        units: Positive integer, dimensionality of the output and state.
        relevance_gate: Whether the course-form GRU has the relevance gate Γr.
        reset_after: `False` (course form) or `True` (Keras's default GRU).
        activation, recurrent_activation: Replace `tanh` and `σ`.
        use_cudnn: `"auto"` (fused cuDNN kernel where it can run, the loop
            elsewhere), `True` (require it) or `False` (always loop).
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed, implementation: As in `keras.layers.GRU`.
        return_sequences, return_state, go_backwards, stateful, unroll,
        zero_output_for_mask: As in `keras.layers.GRU`.
        activity_regularizer, name, dtype, trainable: Base layer arguments.

    Call arguments:
        sequences: `(batch, timesteps, features)` tensor.
        initial_state: Optional `(batch, units)` tensor or list with it.
        mask: Optional `(batch, timesteps)` boolean tensor.
        training: Whether dropout is active.

    Example:

    >>> layer = GRU(32, return_state=True)
    >>> output, state = layer(np.zeros((4, 10, 8), "float32"))
    >>> tuple(output.shape), tuple(state.shape)
    ((4, 32), (4, 32))
    >>> stock = keras.layers.GRU(4)                  # Keras's default GRU ...
    >>> ours = GRU(4, reset_after=True)              # ... is this one
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    >>> _ = stock(x), ours(x)
    >>> ours.set_weights(stock.get_weights())        # same weights, no conversion
    >>> bool(np.allclose(ours(x), stock(x), atol=1e-6))
    True
    """

    cell_class = GRUCell

    def __init__(
        self,
        units,
        relevance_gate=True,
        reset_after=False,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(
            units,
            relevance_gate=relevance_gate,
            reset_after=reset_after,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_cudnn=use_cudnn,
            **kwargs,
        )

    @property
    def relevance_gate(self):
        return self.cell.relevance_gate

    @property
    def reset_after(self):
        return self.cell.reset_after

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation

    def _cudnn_form_problems(self):
        if self.cell.reset_after:
            return []
        return ["reset_after=False (cuDNN runs only the reset-after GRU)"]

    def _run_cudnn(self, sequences, initial_state, mask):
        cell = self.cell
        return keras_compat.cudnn_gru(
            sequences,
            initial_state[0],
            mask,
            cell.kernel,
            cell.recurrent_kernel,
            cell.bias,
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
        )
