"""Losses of the seqapps applications, correct under any `tf.distribute` strategy.

`TokenCrossentropy` is the masked per-token loss of every app that predicts one class per
step (the NER softmax tagger, the names language model, the jazz improviser); `CRFLoss` is
the CRF tagger's sequence loss.

Why the token loss has its own reduction: Keras reduces a loss on each replica separately
(`"sum_over_batch_size"`: the replica's sum over its own element count, times
1/replicas) and the optimizer sums the replicas' gradients. A mean over the *real* tokens
needs the token count of the whole global batch as its denominator: each replica's own
count is a different number whenever the replicas' shares of the batch hold different
amounts of padding, and a replica-local mean summed over replicas is `replicas` times too
large. `TokenCrossentropy` therefore returns, on replica r,

    L_r = Σ_{t ∈ batch_r} w_t ℓ_t / Σ_{t ∈ global batch} w_t

(the denominator summed over the replicas by the replica context's `all_reduce`), so
Σ_r L_r, which is what the summed gradients differentiate, is the global mean, and Keras's
per-replica 1/replicas scaling is not applied on top. Keras logs a loss as `replicas · L_r`
averaged over the replicas weighted by their example counts: again the global mean when
the batch is split evenly, as `tf.distribute` splits a global batch.
"""

import keras
from keras import ops

__all__ = ["CRFLoss", "TokenCrossentropy", "global_token_mean", "replica_sum"]


def replica_sum(value):
    """`value` summed over the replicas of the current `tf.distribute` replica context.

    With one replica, in a cross-replica context (where a batch is not split) or on a
    backend other than TensorFlow (whose distribution API computes losses on the global
    batch), the value itself.
    """
    if keras.backend.backend() != "tensorflow":
        return value
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def global_token_mean(total, count):
    """This replica's share `total / Σ_replicas count` of the global mean (0 if no token).

    Args:
        total: Σ w_t ℓ_t over this replica's tokens.
        count: Σ w_t over this replica's tokens.
    """
    # The count is data, not a function of the weights: no gradient flows through it.
    count = replica_sum(ops.stop_gradient(ops.cast(count, "float32")))
    return ops.divide_no_nan(ops.cast(total, "float32"), count)


@keras.saving.register_keras_serializable(package="seqapps")
class TokenCrossentropy(keras.losses.Loss):
    """Mean sparse categorical cross-entropy over the real tokens of the global batch.

    For labels y_t, predicted distributions p_t (softmax of logits, or probabilities) and
    token weights w_t (1, times `sample_weight` if given; 0 where y_t is `ignore_class`):

        ℓ_t = −log p_t(y_t),    loss = Σ_t w_t ℓ_t / Σ_t w_t

    summed over every token of the global batch, on one device or split over the replicas
    of a `tf.distribute` strategy alike (see the module docstring for how each replica's
    share is formed). A batch with no real token has loss 0.

    The padding mask comes from the labels only: a Keras mask on `y_pred` is deliberately
    not used (it is per-replica and follows the inputs, not the targets). Computation is in
    float32 whatever the dtype policy of the model (mixed-precision logits are cast up).

    Args:
        from_logits: `y_pred` holds logits (True) or probabilities (False).
        ignore_class: Label id of padded tokens (NER uses -1, the character and music
            models their `PAD` id 0); None: every token is real.
        name: Loss name.

    Call arguments:
        y_true: Integer labels `(batch, time)`.
        y_pred: `(batch, time, classes)` logits or probabilities.
        sample_weight: Optional weights `(batch, time)` or `(batch,)` (per sequence).

    `call(y_true, y_pred)` gives the per-token losses ℓ_t, 0 at ignored tokens.

    Example:

    >>> loss = TokenCrossentropy(from_logits=True, ignore_class=0)
    >>> labels = np.array([[3, 1, 0, 0], [2, 2, 2, 1]])
    >>> round(float(loss(labels, np.zeros((2, 4, 5), "float32"))), 4)  # log 5 per real token
    1.6094
    """

    def __init__(self, from_logits=False, ignore_class=-1, name="token_crossentropy"):
        # The reduction is fixed (a weighted mean over the global batch's tokens, computed
        # in `__call__`): Keras's per-replica reductions cannot express it.
        super().__init__(name=name, reduction="mean_with_sample_weight", dtype="float32")
        self.from_logits = bool(from_logits)
        self.ignore_class = None if ignore_class is None else int(ignore_class)

    def _real(self, y_true):
        if self.ignore_class is None:
            return ops.ones_like(y_true, dtype="bool")
        return ops.not_equal(y_true, self.ignore_class)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        real = self._real(y_true)
        # Padded labels may be out of range (-1): any valid id stands in, its loss is dropped.
        losses = ops.sparse_categorical_crossentropy(
            ops.where(real, y_true, 0), ops.cast(y_pred, "float32"), from_logits=self.from_logits
        )
        return ops.where(real, losses, 0.0)

    def token_sums(self, y_true, y_pred, sample_weight=None):
        """`(Σ w_t ℓ_t, Σ w_t)` over the tokens given (this replica's, under a strategy)."""
        y_true = ops.cast(ops.convert_to_tensor(y_true), "int32")
        weights = ops.cast(self._real(y_true), "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
            if len(sample_weight.shape) == 1:  # one weight per sequence
                sample_weight = ops.expand_dims(sample_weight, -1)
            elif len(sample_weight.shape) == 3:  # (batch, time, 1)
                sample_weight = ops.squeeze(sample_weight, -1)
            weights = weights * sample_weight
        losses = self.call(y_true, y_pred)
        return ops.sum(losses * weights), ops.sum(weights)

    def __call__(self, y_true, y_pred, sample_weight=None):
        with keras.name_scope(self.name):
            total, count = self.token_sums(y_true, y_pred, sample_weight)
            return global_token_mean(total, count)

    def get_config(self):
        return {
            "name": self.name,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
        }


class CRFLoss(keras.losses.Loss):
    """Negative log-likelihood of the gold tag paths under a `CRF` layer, per sequence.

    `y_true` holds the gold tag ids `(batch, time)`, with a negative id (-1) at padded
    steps: that is the mask, explicitly; a Keras mask on `y_pred` is not relied on (the CRF
    layer's outputs carry none). `y_pred` is the output of `crf(..., mode="potentials")`.
    The per-sequence values −log p(y | x) (see `seqapps.layers.CRF`) are averaged over the
    batch by Keras's reduction (per replica, then summed over replicas).

    Args:
        crf: The `CRF` layer whose transition scores the loss uses (and trains).
        name: Loss name.
        reduction: Keras loss reduction of the per-sequence values (mean by default).
    """

    def __init__(self, crf, name="crf_nll", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.crf = crf

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        mask = ops.greater_equal(y_true, 0)
        tags = ops.where(mask, y_true, 0)
        return -self.crf.log_likelihood(y_pred, tags, mask)

    def get_config(self):
        # A layer cannot live in a loss config: models trained with this loss are saved
        # and loaded without their compile state (`load_model(..., compile=False)`).
        raise NotImplementedError("CRFLoss holds a layer and is not serializable")
