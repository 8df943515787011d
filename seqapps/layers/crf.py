"""Linear-chain conditional random field (CRF) over per-step tag potentials."""

import keras
import numpy as np
from keras import initializers, ops

# The loss lives with the other losses; importing it here keeps `seqapps.layers.CRFLoss`
# and registers `seqapps.losses` whenever the layers are imported (`import seqapps`).
from seqapps.losses import CRFLoss

__all__ = ["CRF", "CRFLoss"]

# Added to the score of a forbidden transition, start or end: exp(-1e4) is 0 in float32,
# and, unlike -inf, it never turns a log-sum-exp or its gradient into NaN.
FORBIDDEN = -1e4
MODES = ("decode", "viterbi", "potentials")


def _bool_matrix(value, shape, name):
    if value is None:
        return None
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape}; received shape {array.shape}")
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(f"`{name}` must hold booleans (or 0/1); received {value!r}")
    return array.astype(bool)


@keras.saving.register_keras_serializable(package="seqapps")
class CRF(keras.layers.Layer):
    """Linear-chain CRF: transition scores between tags, on top of per-step tag potentials.

    For a sentence of T real (unmasked) steps with potentials φ_t(j) (the score of tag j at
    step t, from the layer below, usually a `Dense(num_tags)`), learned transitions A[i, j]
    (tag i followed by tag j), start scores s[j] and end scores e[j], a tag path y has the
    score

        score(y) = s[y_1] + Σ_{t=1..T} φ_t(y_t) + Σ_{t=2..T} A[y_{t-1}, y_t] + e[y_T]

    and probability p(y | x) = exp(score(y)) / Z over all paths y. The layer computes:

    * the forward algorithm, in log space,
          α_1(j) = s[j] + φ_1(j),   α_t(j) = φ_t(j) + logsumexp_i (α_{t-1}(i) + A[i, j]),
          log Z = logsumexp_j (α_T(j) + e[j]),
      and the negative log-likelihood of the gold path, log Z − score(y), the training loss
      (`log_likelihood`, `CRFLoss`);
    * Viterbi decoding, the best path: δ_1(j) = s[j] + φ_1(j),
      δ_t(j) = φ_t(j) + max_i (δ_{t-1}(i) + A[i, j]), followed back from argmax_j δ_T(j) + e[j]
      (`viterbi`);
    * the marginals p(y_t = j | x) = exp(α_t(j) + β_t(j) − log Z) by forward-backward, with
      β_T(j) = e[j] and β_t(i) = logsumexp_j (A[i, j] + φ_{t+1}(j) + β_{t+1}(j))
      (`marginals`): the confidence of each tag.

    Masked steps (padding) are skipped: they leave α, δ and β unchanged, so they do not
    change any score, and a transition joins the real steps on either side. Decoded tags
    and marginals at masked steps are 0. A sequence with no real step has score 0 and
    NLL 0. All loops run over time as `tf.scan` (a `while_loop` in graphs, XLA-compatible),
    in float32 whatever the dtype policy: under `mixed_float16` or `mixed_bfloat16` the
    transition, start and end scores stay float32 inside `call` (they are not autocast),
    potentials are taken as float32 (lower-precision ones are cast up) and the outputs are
    float32. Decoding runs one forward pass (δ and α together)
    and one backward pass (β, the marginals and the Viterbi back-tracking together); there,
    with no gradient needed, logsumexp_i (α(i) + A[i, j]) is one matmul:
    m + log(exp(α − m) @ exp(A)), m = max α.

    Constraints: `allowed_transitions[i][j]` False forbids tag j right after tag i
    (`allowed_starts` / `allowed_ends`: tags that may begin / end a sentence), for example
    I-PER after O in IOB2 (`seqapps.text.tagging.allowed_transitions` derives them from a tag
    set). A forbidden move gets the score −10⁴ added, so the model is a distribution over
    valid paths only: the loss, decoding and marginals all respect it, and decoded paths
    never contain a forbidden move (if any valid path exists).

    Args:
        num_tags: Number of tags K (the size of the potentials' last axis).
        allowed_transitions: Optional K x K booleans (nested lists or array); None allows
            every transition.
        allowed_starts: Optional K booleans; None allows every tag first.
        allowed_ends: Optional K booleans; None allows every tag last.
        initializer: Initializer of the transition, start and end scores.
        **kwargs: Base layer arguments.

    Call arguments:
        potentials: `(batch, time, num_tags)` float tensor of per-step tag scores.
        mask: Optional `(batch, time)` boolean mask (Keras passes it along).
        mode: `"decode"` (default): returns `(tags, marginals)`, the Viterbi path
            `(batch, time)` int32 and the marginals `(batch, time, num_tags)` float32;
            `"viterbi"`: the path only; `"potentials"`: the potentials unchanged, as
            float32, for a training model whose loss is `CRFLoss(this layer)`.

    One layer may serve a training and an inference graph (as the NER app does); make the
    `"decode"` call first when both are symbolic: Keras checks a functional graph using
    the output count of a shared layer's first call.

    Example:

    >>> crf = CRF(5)
    >>> potentials = keras.Input((None, 5))
    >>> training_model = keras.Model(potentials, crf(potentials, mode="potentials"))
    >>> training_model.compile("adam", loss=CRFLoss(crf))
    >>> tags, marginals = crf(np.zeros((2, 7, 5), "float32"))
    """

    def __init__(
        self,
        num_tags,
        allowed_transitions=None,
        allowed_starts=None,
        allowed_ends=None,
        initializer="zeros",
        **kwargs,
    ):
        if isinstance(num_tags, bool) or not isinstance(num_tags, int) or num_tags < 1:
            raise ValueError(f"`num_tags` must be a positive integer; received {num_tags!r}")
        super().__init__(**kwargs)
        self.num_tags = num_tags
        self.allowed_transitions = _bool_matrix(
            allowed_transitions, (num_tags, num_tags), "allowed_transitions"
        )
        self.allowed_starts = _bool_matrix(allowed_starts, (num_tags,), "allowed_starts")
        self.allowed_ends = _bool_matrix(allowed_ends, (num_tags,), "allowed_ends")
        self.initializer = initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape=None):
        if input_shape is not None and input_shape[-1] not in (None, self.num_tags):
            raise ValueError(
                f"CRF layer {self.name!r} has num_tags={self.num_tags}; received potentials "
                f"of shape {tuple(input_shape)}"
            )
        k = self.num_tags
        # float32 weights that are never autocast: under a mixed policy Keras would hand
        # `call` (and any outer layer's `call`) float16/bfloat16 copies, and the recursions
        # lose digits in log Z, the Viterbi scores and the marginals.
        self.transitions = self.add_weight(
            shape=(k, k),
            name="transitions",
            initializer=self.initializer,
            dtype="float32",
            autocast=False,
        )
        self.start_scores = self.add_weight(
            shape=(k,),
            name="start_scores",
            initializer=self.initializer,
            dtype="float32",
            autocast=False,
        )
        self.end_scores = self.add_weight(
            shape=(k,),
            name="end_scores",
            initializer=self.initializer,
            dtype="float32",
            autocast=False,
        )
        self.built = True

    # Constrained scores ----------------------------------------------------------------
    def _penalty(self, allowed, shape):
        if allowed is None:
            return np.zeros(shape, "float32")
        return np.where(allowed, 0.0, FORBIDDEN).astype("float32")

    def _scores(self):
        """Transitions, start and end scores with the constraints applied (float32)."""
        import tensorflow as tf

        k = self.num_tags
        transitions = tf.cast(self.transitions, "float32") + self._penalty(
            self.allowed_transitions, (k, k)
        )
        starts = tf.cast(self.start_scores, "float32") + self._penalty(self.allowed_starts, (k,))
        ends = tf.cast(self.end_scores, "float32") + self._penalty(self.allowed_ends, (k,))
        return transitions, starts, ends

    def _time_major(self, potentials, mask):
        """Potentials `(time, batch, K)` float32 and mask `(time, batch)`, at least one step."""
        import tensorflow as tf

        potentials = tf.cast(potentials, "float32")
        if potentials.shape.rank != 3:
            raise ValueError(
                f"CRF layer {self.name!r} expects potentials of rank 3 (batch, time, "
                f"num_tags); received shape {tuple(potentials.shape)}"
            )
        if mask is None:
            mask = tf.ones(tf.shape(potentials)[:2], dtype="bool")
        mask = tf.cast(mask, "bool")
        # An empty time axis (an empty sentence): one masked step, so the loops run once.
        missing = tf.maximum(0, 1 - tf.shape(potentials)[1])
        potentials = tf.pad(potentials, [[0, 0], [0, missing], [0, 0]])
        mask = tf.pad(mask, [[0, 0], [0, missing]], constant_values=False)
        return tf.transpose(potentials, [1, 0, 2]), tf.transpose(mask, [1, 0])

    # Public tensor methods -------------------------------------------------------------
    def log_likelihood(self, potentials, tags, mask=None):
        """log p(tags | potentials) per sequence, shape `(batch,)`.

        Args:
            potentials: `(batch, time, num_tags)` float tensor.
            tags: `(batch, time)` integer gold tags (any value at masked steps).
            mask: Optional `(batch, time)` booleans; masked steps are ignored.
        """
        import tensorflow as tf

        transitions, starts, ends = self._scores()
        steps = tf.shape(potentials)[1]
        phi, mask = self._time_major(potentials, mask)
        tags = tf.pad(tf.cast(tags, "int32"), [[0, 0], [0, tf.maximum(0, 1 - steps)]])
        tags = tf.where(mask, tf.transpose(tags, [1, 0]), 0)
        batch = tf.shape(phi)[1]

        def step(carry, inputs):
            alpha, score, previous, seen = carry
            phi_t, mask_t, tag_t = inputs
            first = mask_t & ~seen
            following = mask_t & seen
            continued = phi_t + tf.reduce_logsumexp(alpha[:, :, None] + transitions, axis=1)
            alpha = tf.where(
                first[:, None], starts + phi_t, tf.where(following[:, None], continued, alpha)
            )
            emission = tf.gather(phi_t, tag_t, batch_dims=1)
            moved = tf.gather_nd(transitions, tf.stack([previous, tag_t], axis=-1))
            score = (
                score
                + tf.where(mask_t, emission, 0.0)
                + tf.where(first, tf.gather(starts, tag_t), 0.0)
                + tf.where(following, moved, 0.0)
            )
            return alpha, score, tf.where(mask_t, tag_t, previous), seen | mask_t

        initial = (
            tf.zeros([batch, self.num_tags]),
            tf.zeros([batch]),
            tf.zeros([batch], "int32"),
            tf.zeros([batch], "bool"),
        )
        alpha, score, last, seen = tf.foldl(step, (phi, mask, tags), initializer=initial)
        log_z = tf.reduce_logsumexp(alpha + ends, axis=-1)
        score = score + tf.gather(ends, last)
        return tf.where(seen, score - log_z, 0.0)

    def _forward(self, phi, mask, with_alpha):
        """Viterbi forward pass (and, `with_alpha`, the forward algorithm) over time-major input.

        Returns `(alphas or None, backpointers, best_last_tag, best_score, log_z or None)`.
        """
        import tensorflow as tf

        transitions, starts, ends = self._scores()
        # Inference only (no gradient flows here): logsumexp_i (α(i) + A[i, j]) is computed
        # as m + log(exp(α − m) @ exp(A)) with m = max α, one matmul instead of a K x K
        # broadcast; a forbidden move has exp(A) = 0 exactly.
        exp_transitions = tf.exp(transitions)
        batch = tf.shape(phi)[1]
        k = self.num_tags
        identity = tf.broadcast_to(tf.range(k, dtype="int32"), [batch, k])

        def step(carry, inputs):
            alpha, delta, seen, _ = carry
            phi_t, mask_t = inputs
            first = (mask_t & ~seen)[:, None]
            following = (mask_t & seen)[:, None]
            candidates = delta[:, :, None] + transitions
            best = tf.reduce_max(candidates, axis=1)
            pointers = tf.argmax(candidates, axis=1, output_type="int32")
            delta = tf.where(first, starts + phi_t, tf.where(following, best + phi_t, delta))
            if with_alpha:
                top = tf.reduce_max(alpha, axis=1, keepdims=True)
                continued = (
                    phi_t + top + tf.math.log(tf.matmul(tf.exp(alpha - top), exp_transitions))
                )
                alpha = tf.where(first, starts + phi_t, tf.where(following, continued, alpha))
            pointers = tf.where(following, pointers, identity)
            return alpha, delta, seen | mask_t, pointers

        initial = (
            tf.zeros([batch, k]),
            tf.zeros([batch, k]),
            tf.zeros([batch], "bool"),
            identity,
        )
        alphas, deltas, seens, pointers = tf.scan(step, (phi, mask), initializer=initial)
        final = deltas[-1] + ends
        last_tag = tf.argmax(final, axis=-1, output_type="int32")
        best_score = tf.where(seens[-1], tf.reduce_max(final, axis=-1), 0.0)
        log_z = tf.reduce_logsumexp(alphas[-1] + ends, axis=-1) if with_alpha else None
        return (alphas if with_alpha else None), pointers, last_tag, best_score, log_z

    def _shifted(self, pointers):
        """Back-pointers shifted by one step and ended with the identity.

        pointers[t] maps a tag at step t to the best tag at step t - 1; step t of the result
        maps the tag at t + 1 to the tag at t, so a reverse scan started from the best last
        tag yields the path, and is never empty (an empty scan cannot stack in a graph).
        """
        import tensorflow as tf

        identity = tf.broadcast_to(tf.range(self.num_tags, dtype="int32"), tf.shape(pointers[0]))
        return tf.concat([pointers[1:], identity[None]], axis=0)

    def _backtrack(self, pointers, last_tag):
        """Follow the back-pointers from the best last tag; `(time, batch)` tags."""
        import tensorflow as tf

        def step(tag, pointers_t):
            return tf.gather(pointers_t, tag, batch_dims=1)

        return tf.scan(step, self._shifted(pointers), initializer=last_tag, reverse=True)

    def viterbi(self, potentials, mask=None):
        """The best tag path and its score: `(tags (batch, time) int32, scores (batch,))`."""
        import tensorflow as tf

        steps = tf.shape(potentials)[1]
        phi, mask = self._time_major(potentials, mask)
        _, pointers, last_tag, best_score, _ = self._forward(phi, mask, with_alpha=False)
        tags = tf.where(mask, self._backtrack(pointers, last_tag), 0)
        return tf.transpose(tags, [1, 0])[:, :steps], best_score

    def marginals(self, potentials, mask=None):
        """p(y_t = j | x) by forward-backward, `(batch, time, num_tags)`; 0 at masked steps."""
        return self.decode(potentials, mask)[1]

    def decode(self, potentials, mask=None):
        """Viterbi path and marginals in one forward and one backward pass.

        Returns:
            `(tags, marginals)`: `(batch, time)` int32 and `(batch, time, num_tags)` float32.
        """
        import tensorflow as tf

        transitions, _, ends = self._scores()
        exp_transposed = tf.transpose(tf.exp(transitions))
        steps = tf.shape(potentials)[1]
        phi, mask = self._time_major(potentials, mask)
        alphas, pointers, last_tag, _, log_z = self._forward(phi, mask, with_alpha=True)
        batch = tf.shape(phi)[1]

        def step(carry, inputs):
            # `after` is φ_t' + β_t' of the next real step t' (valid once `seen`); `tag` is
            # the best path's tag at step t + 1.
            after, seen, tag, _ = carry
            phi_t, mask_t, alpha_t, pointers_t = inputs
            top = tf.reduce_max(after, axis=1, keepdims=True)
            summed = top + tf.math.log(tf.matmul(tf.exp(after - top), exp_transposed))
            beta = tf.where(seen[:, None], summed, ends)
            marginal = tf.where(mask_t[:, None], tf.exp(alpha_t + beta - log_z[:, None]), 0.0)
            after = tf.where(mask_t[:, None], phi_t + beta, after)
            tag = tf.gather(pointers_t, tag, batch_dims=1)
            return after, seen | mask_t, tag, marginal

        initial = (
            tf.zeros([batch, self.num_tags]),
            tf.zeros([batch], "bool"),
            last_tag,
            tf.zeros([batch, self.num_tags]),
        )
        _, _, tags, marginals = tf.scan(
            step, (phi, mask, alphas, self._shifted(pointers)), initializer=initial, reverse=True
        )
        tags = tf.transpose(tf.where(mask, tags, 0), [1, 0])[:, :steps]
        return tags, tf.transpose(marginals, [1, 0, 2])[:, :steps]

    # Keras layer API -----------------------------------------------------------------------
    @property
    def input_dtype(self):
        # Keras casts a layer's floating inputs to `input_dtype` (the compute dtype by
        # default): float32 potentials would reach the CRF rounded to float16/bfloat16.
        return "float32"

    def call(self, potentials, mask=None, mode="decode"):
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}; received mode={mode!r}")
        if mode == "potentials":
            # A new tensor: the input one carries the Keras mask, which must not reach a loss.
            return ops.copy(ops.cast(potentials, "float32"))
        if mode == "viterbi":
            return self.viterbi(potentials, mask)[0]
        return self.decode(potentials, mask)

    def compute_output_spec(self, potentials, mask=None, mode="decode"):
        shape = tuple(potentials.shape)
        tags = keras.KerasTensor(shape[:2], dtype="int32")
        if mode == "potentials":
            return keras.KerasTensor(shape, dtype="float32")
        if mode == "viterbi":
            return tags
        return tags, keras.KerasTensor(shape, dtype="float32")

    def compute_mask(self, potentials, mask=None):
        # The outputs carry no Keras mask: a loss must not get one it does not expect
        # (`CRFLoss` derives its own mask from the labels).
        return None

    def get_config(self):
        def listed(array):
            return None if array is None else array.tolist()

        return {
            **super().get_config(),
            "num_tags": self.num_tags,
            "allowed_transitions": listed(self.allowed_transitions),
            "allowed_starts": listed(self.allowed_starts),
            "allowed_ends": listed(self.allowed_ends),
            "initializer": initializers.serialize(self.initializer),
        }
