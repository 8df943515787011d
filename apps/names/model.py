"""The character-level language model and the functions that score and sample with it.

The saved model maps character ids `(batch, time)` to next-character logits
`(batch, time, vocabulary)`: a `CharVocabulary` layer (identity; it keeps the
characters in the `.keras` file) -> embedding or one-hot input -> seqapps
recurrent layers -> dropout -> a dense layer of logits. Sequence `c1..cn` is
fed as `[boundary, c1, ..., cn]` and its targets are `[c1, ..., cn, boundary]`
(running-text windows have no final boundary).

Training goes through `GradientNormTracker`, a wrapper whose train step also
logs the global gradient norm (before clipping), the mean and the largest of
the epoch.
"""

import keras
import numpy as np

from seqapps.layers import CharVocabulary
from seqapps.layers.stacking import recurrent_stack
from seqapps.losses import TokenCrossentropy, global_token_mean

INPUTS = ("embedding", "onehot")
# Default sampling limit in characters, by whether sequences end (lines) or not (running text).
SAMPLE_LENGTH = {True: 40, False: 200}


def make_vocabulary(characters, mode, lowercase=False):
    """The `CharVocabulary` layer of a model of `mode` ("lines" end, "text" runs on)."""
    return CharVocabulary(
        characters, lowercase=lowercase, terminated=mode == "lines", name="vocabulary"
    )


def mode_of(vocabulary):
    """The data mode of a model: "lines" when its sequences end, else "text"."""
    return "lines" if vocabulary.terminated else "text"


def default_length(vocabulary):
    """The default sampling limit of a model with this vocabulary."""
    return SAMPLE_LENGTH[vocabulary.terminated]


def build_core(vocabulary, options, config):
    """Character ids -> next-character logits, the vocabulary inside.

    With `options.ensemble` N > 1 there are N members (sub-models `member_0` ...,
    each the network below with its own weights and dropout masks), trained side by
    side on their own losses; the model's logits are those of the members' mean
    probabilities (`MeanProbabilityLogits`), which score and sample as one model.

    Args:
        vocabulary: The `CharVocabulary` layer.
        options: The script's model options (`input`, `embedding_dim`,
            `embedding_dropout`, `input_skip`: the dense layer reads
            `[recurrent output; character vector]`, `ensemble`).
        config: The `TrainingConfig` (the recurrent stack, `dropout`, `seed`).
    """
    ids = keras.Input((None,), dtype="int32", name="char_ids")
    # Options namespaces built before `--ensemble` existed hold one network.
    members = getattr(options, "ensemble", 1)
    if members == 1:
        logits = _language_model(vocabulary(ids), vocabulary.size, options, config, config.seed)
        return keras.Model(ids, logits, name="char_language_model")
    outputs = []
    for index in range(members):
        member_ids = keras.Input((None,), dtype="int32", name="char_ids")
        # Seeds far apart: members must not share dropout masks.
        seed = config.seed + 1000 * index
        member = keras.Model(
            member_ids,
            _language_model(member_ids, vocabulary.size, options, config, seed),
            name=f"{MEMBER_PREFIX}{index}",
        )
        outputs.append(member(vocabulary(ids)))
    logits = MeanProbabilityLogits(name="ensemble")(outputs)
    return keras.Model(ids, logits, name="char_language_model")


MEMBER_PREFIX = "member_"


def _language_model(ids, size, options, config, seed):
    """Embedding (or one-hot) -> recurrent stack -> dropout -> logits, on an id tensor."""
    if options.input == "onehot":
        # A frozen identity table is one-hot input that keeps the padding mask.
        embedding = keras.layers.Embedding(
            size,
            size,
            embeddings_initializer=keras.initializers.Identity(),
            trainable=False,
            mask_zero=True,
            name="embedding",
        )
    else:
        embedding = keras.layers.Embedding(
            size, options.embedding_dim, mask_zero=True, name="embedding"
        )
    hidden = embedding(ids)
    if options.embedding_dropout:
        hidden = keras.layers.Dropout(
            options.embedding_dropout, seed=seed, name="embedding_dropout"
        )(hidden)
    step_inputs = hidden
    for index, layer in enumerate(recurrent_stack(config, return_sequences=True, seed=seed)):
        hidden = layer(hidden)
        if config.dropout:
            hidden = keras.layers.Dropout(
                config.dropout, seed=seed + index + 1, name=f"dropout_{index}"
            )(hidden)
    if options.input_skip:
        # The head also reads the previous character's vector: a direct bigram path.
        hidden = keras.layers.Concatenate(name="input_skip")([hidden, step_inputs])
    return keras.layers.Dense(size, dtype="float32", name="logits")(hidden)


@keras.saving.register_keras_serializable(package="seqapps")
class MeanProbabilityLogits(keras.layers.Layer):
    """Several models' logits as the logits of their mean probabilities.

    `log((1/n) sum_i softmax(logits_i))`, in float32: a softmax of it gives the
    mean of the members' distributions, and it is already normalised (its own
    log-softmax). The padding mask of the first input is kept.

    >>> first = np.log(np.array([[[0.5, 0.5]]], "float32"))
    >>> second = np.log(np.array([[[0.9, 0.1]]], "float32"))
    >>> mixed = MeanProbabilityLogits()([first, second])
    >>> np.exp(keras.ops.convert_to_numpy(mixed).astype("float64")).round(3).tolist()
    [[[0.7, 0.3]]]
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        log_probs = [
            keras.ops.log_softmax(keras.ops.cast(logits, "float32"), axis=-1) for logits in inputs
        ]
        return keras.ops.logsumexp(keras.ops.stack(log_probs), axis=0) - np.log(len(inputs))

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def ensemble_members(model):
    """The member sub-models of an `--ensemble` model, first first (empty for one model)."""
    return [
        layer
        for layer in model.layers
        if isinstance(layer, keras.Model) and layer.name.startswith(MEMBER_PREFIX)
    ]


def has_input_skip(model):
    """Whether the model's output layer also reads the input vectors (`--input-skip`)."""
    return any(layer.name == "input_skip" for layer in model.layers)


class MaxMetric(keras.metrics.Metric):
    """The largest value seen since the last reset."""

    def __init__(self, name="max", **kwargs):
        super().__init__(name=name, **kwargs)
        self.largest = self.add_variable(
            shape=(), initializer="zeros", name="largest", aggregation="only_first_replica"
        )

    def update_state(self, value):
        self.largest.assign(keras.ops.maximum(self.largest, keras.ops.cast(value, self.dtype)))

    def result(self):
        return keras.ops.convert_to_tensor(self.largest)


class GradientNormTracker(keras.Model):
    """Trains `core` on masked next-character cross-entropy and logs gradient norms.

    The loss is `seqapps.losses.TokenCrossentropy` from logits, padding
    (`CharVocabulary.PAD_ID` targets) left out: the mean over the real target
    characters of the global batch, the same on one device and under any
    distribution strategy (for an ensemble, the sum of the members' losses, and
    the logged loss their mean). The logged `loss` is the mean negative
    log-likelihood per predicted character (nats) over the epoch; `grad_norm`
    and `grad_norm_max` are the mean and largest global L2 norm of the
    gradients before the optimizer clips them (under a distribution strategy,
    of one replica's gradient times the replica count).
    """

    def __init__(self, core, **kwargs):
        super().__init__(name="names_trainer", **kwargs)
        self.core = core
        self.token_loss = TokenCrossentropy(from_logits=True, ignore_class=CharVocabulary.PAD_ID)
        self.loss_mean = keras.metrics.Mean(name="loss")
        self.grad_norm_mean = keras.metrics.Mean(name="grad_norm")
        self.grad_norm_max = MaxMetric(name="grad_norm_max")

    def call(self, inputs, training=False):
        return self.core(inputs, training=training)

    def build_weights(self):
        """Build the model now: a subclassed model is built by its first call.

        `--resume` loads weights into it before any training step; the call
        runs no dropout, being outside training.
        """
        self(keras.ops.zeros((1, 1), "int32"))

    def train_step(self, data):
        import tensorflow as tf

        inputs, targets = data
        # An ensemble's members each learn on their own loss, not on their mixture's.
        networks = ensemble_members(self.core) or [self.core]
        with tf.GradientTape() as tape:
            loss = total = 0.0
            for network in networks:
                member_total, count = self.token_loss.token_sums(
                    targets, network(inputs, training=True)
                )
                # This replica's share of the global batch's mean: the optimizer sums the
                # replicas' gradients, so their sum is the gradient of the global mean.
                loss += global_token_mean(member_total, count)
                total += member_total
            # The logged NLL is the members' mean.
            total = total / len(networks)
            scaled = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        gradients = tape.gradient(scaled, weights)
        # Times the replica count: the norm of a replica's gradient as if its share were
        # the whole batch (exact on one device).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        norm = tf.linalg.global_norm(gradients) * replicas
        if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            norm = norm / tf.cast(self.optimizer.scale, norm.dtype)
        self.optimizer.apply_gradients(zip(gradients, weights))
        # The replica's own mean weighted by its own count: the metric sums both over
        # replicas and batches, so the epoch's value is the mean over all characters.
        self.loss_mean.update_state(tf.math.divide_no_nan(total, count), sample_weight=count)
        self.grad_norm_mean.update_state(norm)
        self.grad_norm_max.update_state(norm)
        return {
            "loss": self.loss_mean.result(),
            "grad_norm": self.grad_norm_mean.result(),
            "grad_norm_max": self.grad_norm_max.result(),
        }


# Parts of a trained model ----------------------------------------------------------------


def vocabulary_of(model):
    """The `CharVocabulary` layer of a names model (raises ValueError if absent)."""
    for layer in model.layers:
        if isinstance(layer, CharVocabulary):
            return layer
    raise ValueError(
        f"model {model.name!r} has no CharVocabulary layer: not a character language model"
    )


def recurrent_layers(model):
    from seqapps.layers import Bidirectional, Recurrent

    layers = [layer for layer in model.layers if isinstance(layer, (Recurrent, Bidirectional))]
    if any(isinstance(layer, Bidirectional) for layer in layers):
        raise ValueError("a bidirectional model cannot generate text one character at a time")
    return layers


def encode_examples(vocabulary, strings):
    """Model inputs and targets, one pair of id lists per string.

    Inputs are `[boundary] + ids`; targets `ids + [boundary]` for terminated
    vocabularies (names, lines), or `ids` with the inputs' last id dropped for
    running text.
    """
    boundary = CharVocabulary.BOUNDARY_ID
    pairs = []
    for text in strings:
        ids = vocabulary.encode(text)
        if vocabulary.terminated:
            pairs.append(([boundary, *ids], [*ids, boundary]))
        else:
            pairs.append(([boundary, *ids[:-1]], ids))
    return pairs


def padded(pairs, indices, multiple=1):
    """`(inputs, targets)` int32 arrays of the chosen pairs, padded with 0."""
    from seqapps.training.batching import pad

    inputs = pad([pairs[i][0] for i in indices], multiple)
    targets = pad([pairs[i][1] for i in indices], multiple)
    return inputs, targets


def step_log_probs(model):
    """A compiled `(inputs, targets) -> log p(target)` per position (0 at padding)."""
    if getattr(model, "_seqapps_step_log_probs", None) is None:
        import tensorflow as tf

        spec = tf.TensorSpec((None, None), tf.int32)

        @tf.function(input_signature=[spec, spec])
        def run(inputs, targets):
            return log_probs_of_targets(model, inputs, targets)

        model._seqapps_step_log_probs = run
    return model._seqapps_step_log_probs


def log_probs_of_targets(model, inputs, targets):
    """`log p(target)` at every position of padded id tensors, 0 at padding (TensorFlow ops)."""
    import tensorflow as tf

    logits = tf.cast(model(inputs, training=False), tf.float32)
    picked = tf.gather(tf.nn.log_softmax(logits), targets, axis=-1, batch_dims=2)
    return tf.where(targets != CharVocabulary.PAD_ID, picked, 0.0)


def target_log_probs(model, pairs, batch_size=256):
    """Per-target log-probabilities of encoded pairs: one float64 array per pair."""
    function = step_log_probs(model)
    lengths = [len(target) for _, target in pairs]
    order = np.argsort(lengths, kind="stable")
    result = [None] * len(pairs)
    for start in range(0, len(pairs), batch_size):
        indices = order[start : start + batch_size]
        inputs, targets = padded(pairs, indices)
        values = function(inputs, targets).numpy().astype("float64")
        for row, index in enumerate(indices):
            result[index] = values[row, : lengths[index]]
    return result


def make_sampler(model):
    """The shared compiled sampler over this model's layers.

    Padding, the unknown character and (for running text, which has no end)
    the boundary symbol are never generated: their logits are masked, so
    sampled and beam-searched log-probabilities are under the model
    restricted to the characters and the end symbol. An `--ensemble` model
    samples from its members' mean probabilities (`EnsembleSampler`).
    """
    if getattr(model, "_seqapps_sampler", None) is None:
        from seqapps.generation.sampler import EnsembleSampler

        vocabulary = vocabulary_of(model)
        members = ensemble_members(model)
        if members:
            sampler = EnsembleSampler(_member_sampler(member, vocabulary) for member in members)
        else:
            sampler = _member_sampler(model, vocabulary)
        model._seqapps_sampler = sampler
    return model._seqapps_sampler


def _member_sampler(model, vocabulary):
    """The `RecurrentSampler` of one network (the whole model, or one ensemble member)."""
    import tensorflow as tf

    from seqapps.generation.sampler import RecurrentSampler

    embedding = model.get_layer("embedding")
    head = model.get_layer("logits")
    never = np.zeros((vocabulary.size,), "float32")
    never[[CharVocabulary.PAD_ID, CharVocabulary.UNKNOWN_ID]] = -1e9
    if not vocabulary.terminated:
        never[CharVocabulary.BOUNDARY_ID] = -1e9  # running text has no end
    never = tf.constant(never)
    return RecurrentSampler(
        [layer.cell for layer in recurrent_layers(model)],
        # The table row itself: calling the layer would attach a padding mask.
        step_input=lambda tokens, condition, step: tf.gather(embedding.embeddings, tokens),
        head=lambda outputs: tf.cast(head(outputs), tf.float32) + never,
        start_id=CharVocabulary.BOUNDARY_ID,
        end_id=CharVocabulary.BOUNDARY_ID if vocabulary.terminated else None,
        pad_id=CharVocabulary.PAD_ID,
        head_sees_inputs=has_input_skip(model),
    )
