"""The sentiment model: raw strings in, class probabilities out.

Two models share their layers:

* the *core* model maps padded token ids to class probabilities; it is what
  trains (so the train step can be XLA-compiled and distributed, which string
  ops cannot be);
* the *end-to-end* model puts the `TextVectorization` in front of the core and
  a `ClassLabels` layer behind it, so `model.keras` and the SavedModel take
  raw strings and carry their vocabulary and class names.
"""

import keras

from seqapps.layers import ClassLabels, MaskedGlobalPooling1D
from seqapps.layers.stacking import recurrent_stack
from seqapps.text.words import OOV, PAD, standardize

POOLINGS = ("last", "max", "mean", "max_mean")


def make_vectorizer(vocabulary):
    """`TextVectorization` with the seqapps tokenizer and a fixed vocabulary.

    Id 0 is padding and id 1 the unknown word, so unseen words never fail.
    """
    return keras.layers.TextVectorization(
        standardize=standardize,
        split="whitespace",
        vocabulary=[PAD, OOV, *vocabulary],
        name="vectorizer",
    )


def fit_vectorizer(texts, max_size=None, min_count=1):
    """A `make_vectorizer` whose vocabulary is the words of the training texts.

    Args:
        texts: The training texts.
        max_size: Keep at most this many words, the most frequent (`--max-vocab`).
        min_count: Keep words seen at least this often (`--min-count`).
    """
    from seqapps.text.words import build_vocabulary, tokenize

    return make_vectorizer(
        build_vocabulary(tokenize(texts), max_size=max_size, min_count=min_count)
    )


def pretrained_embeddings(vectorizer, path):
    """Initial word vectors for the vectorizer's vocabulary from a GloVe/word2vec text file.

    Returns:
        `(matrix, found, words)`: the `(words, dim)` matrix, how many words
        had a vector and how many words the vocabulary has.
    """
    from seqapps.text.words import load_word_vectors

    vocabulary = vectorizer.get_vocabulary()
    matrix, found = load_word_vectors(path, vocabulary)
    return matrix, found, len(vocabulary)


def training_losses(members):
    """The `compile` loss and metrics of `build_core`'s trainable model with this many members."""
    if members == 1:
        return {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    return {
        "loss": ["sparse_categorical_crossentropy"] * members,
        "metrics": [["accuracy"]] * members,
    }


def build_member(vocabulary_size, num_classes, options, config, embedding_matrix=None, index=0):
    """One classifier: token ids `(batch, time)` -> class probabilities `(batch, classes)`.

    Embedding (masking id 0) -> channel dropout -> seqapps recurrent stack ->
    pooling over the mask (`--pooling`) -> dropout -> softmax.
    """
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    initializer = (
        keras.initializers.Constant(embedding_matrix)
        if embedding_matrix is not None
        else keras.initializers.RandomUniform(-0.05, 0.05)
    )
    hidden = keras.layers.Embedding(
        vocabulary_size,
        options.embedding_dim,
        mask_zero=True,
        embeddings_initializer=initializer,
        name="embedding",
    )(ids)
    seed = config.seed + 1000 * index
    if options.embedding_dropout:
        # Drops whole embedding channels for a sentence, a stronger
        # regulariser than element dropout for word vectors.
        hidden = keras.layers.SpatialDropout1D(
            options.embedding_dropout, seed=seed, name="embedding_dropout"
        )(hidden)
    pooling = options.pooling
    for layer in recurrent_stack(config, return_sequences=pooling != "last", seed=seed):
        hidden = layer(hidden)
    if pooling != "last":
        hidden = MaskedGlobalPooling1D(pooling, name="pooling")(hidden)
    if config.dropout:
        hidden = keras.layers.Dropout(config.dropout, seed=seed, name="dropout")(hidden)
    if options.hidden_units:
        hidden = keras.layers.Dense(options.hidden_units, activation="relu", name="hidden")(hidden)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(hidden)
    return keras.Model(ids, probabilities, name=f"member_{index}")


def build_core(vocabulary_size, num_classes, options, config, embedding_matrix=None):
    """The classifier on token ids, and the model that trains it.

    With `--ensemble N` (N > 1) there are N independent members (different
    initial weights and dropout masks); each trains on its own loss, side by
    side on the same batches, and the classifier averages their
    probabilities, which is steadier than any one member.

    Returns:
        `(trainable, core)`: `trainable` has one output per member (what
        `fit` trains); `core` maps ids to the (averaged) probabilities.
    """
    members = [
        build_member(vocabulary_size, num_classes, options, config, embedding_matrix, index)
        for index in range(options.ensemble)
    ]
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    outputs = [member(ids) for member in members]
    if len(outputs) == 1:
        core = keras.Model(ids, outputs[0], name="sentiment_core")
        return core, core
    average = keras.layers.Average(name="average", dtype="float32")(outputs)
    core = keras.Model(ids, average, name="sentiment_core")
    return keras.Model(ids, outputs, name="sentiment_ensemble"), core


def build_end_to_end(vectorizer, core, labels, ordinal):
    """Strings `(batch,)` -> probabilities, with vocabulary and class names inside."""
    text = keras.Input((), dtype="string", name="text")
    probabilities = core(vectorizer(text))
    probabilities = ClassLabels(labels, ordinal=ordinal, name="labels")(probabilities)
    return keras.Model(text, probabilities, name="sentiment")


def class_labels(model):
    """The `ClassLabels` layer of an end-to-end model (raises ValueError if absent)."""
    for layer in model.layers:
        if isinstance(layer, ClassLabels):
            return layer
    raise ValueError(f"model {model.name!r} has no ClassLabels layer: not a sentiment model")


def adopt_labels(start, labels, source):
    """The class names of the `--init-from` model, which the new data's labels must be among."""
    known = list(class_labels(start).labels)
    unknown = sorted(set(labels) - set(known))
    if unknown:
        from seqapps.errors import UserError

        raise UserError(
            f"{source}: label(s) {unknown} are not classes of the --init-from model "
            f"({', '.join(known)})"
        )
    return known


def vectorizer_of(model):
    for layer in model.layers:
        if isinstance(layer, keras.layers.TextVectorization):
            return layer
    raise ValueError(f"model {model.name!r} has no TextVectorization layer")
