"""The NER tagger: token strings in, one tag (and its probability) per token out.

Three models share their layers:

* the *training* model maps ids to what the loss needs: CRF potentials (`--crf`, loss
  `seqapps.layers.CRFLoss`, the forward-algorithm NLL) or softmax probabilities (loss
  `seqapps.losses.TokenCrossentropy`, the mean cross-entropy over the real tokens of the
  global batch, also under a distribution strategy); it trains on ids, so its train step
  can be XLA-compiled;
* the *inference* model maps the same ids to `tag_ids` (Viterbi path, or argmax) and
  `probabilities` (CRF marginals by forward-backward, or the softmax);
* the *end-to-end* model puts `TokenFeatures` in front of the inference model and a
  `ClassLabels` layer (the tag names) on the probabilities, so `model.keras` and the
  SavedModel take padded token strings `(batch, time)` ("" is padding) and carry the word,
  character and tag vocabularies.

Per token the network sees: the embedding of its normalised form (lower-cased, digits
replaced by 0), the embedding of its casing class, and a character-level encoding (the
final states of a bidirectional seqapps LSTM/GRU over its characters and, with
`--char-cnn-filters`, a max-pooled convolution over them beside it); these are
concatenated, dropped out, run through the seqapps bidirectional recurrent stack, dropped
out again and projected to one score per tag.

The feature layers (`TokenFeatures`, `CharEncoder`, `ArgmaxTags`) and the `CRF` live in
`seqapps.layers`, so `keras.saving.load_model` reads `model.keras` after `import seqapps`.
"""

import keras

from seqapps.layers import CRF, ArgmaxTags, CharEncoder, ClassLabels, CRFLoss, TokenFeatures
from seqapps.layers.stacking import recurrent_stack
from seqapps.layers.token_features import CASINGS, casing_classes, clip_characters, normalize_words
from seqapps.losses import TokenCrossentropy

__all__ = [
    "CASINGS",
    "ArgmaxTags",
    "CharEncoder",
    "TokenCrossentropy",
    "TokenFeatures",
    "casing_classes",
    "clip_characters",
    "normalize_words",
]


def build_tagger(features, tags, scheme, options, config, embedding_matrix=None):
    """The training and inference models over ids (see the module docstring).

    Args:
        features: The `TokenFeatures` layer (for the vocabulary sizes).
        tags: Tag names, in id order.
        scheme: Their scheme (for the CRF's constraints).
        options: The script's model options (`word_dim`, `casing_dim`, `char_*`, `crf`).
        config: The `TrainingConfig` (the recurrent stack, `dropout`, `seed`).
        embedding_matrix: Optional initial word vectors `(words, dim)`.

    Returns:
        `(training_model, inference_model, loss)`.
    """
    from seqapps.text import tagging

    word_ids = keras.Input((None,), dtype="int32", name="word_ids")
    casing_ids = keras.Input((None,), dtype="int32", name="casing_ids")
    char_ids = keras.Input((None, None), dtype="int32", name="char_ids")
    initializer = (
        keras.initializers.Constant(embedding_matrix)
        if embedding_matrix is not None
        else keras.initializers.RandomUniform(-0.1, 0.1)
    )
    parts = [
        keras.layers.Embedding(
            features.word_vocabulary_size,
            options.word_dim,
            mask_zero=True,
            embeddings_initializer=initializer,
            name="word_embedding",
        )(word_ids)
    ]
    if options.casing_dim:
        parts.append(
            keras.layers.Embedding(
                len(CASINGS), options.casing_dim, mask_zero=True, name="casing_embedding"
            )(casing_ids)
        )
    if options.char_units or options.char_cnn_filters:
        parts.append(
            CharEncoder(
                features.char_vocabulary_size,
                options.char_dim,
                options.char_units,
                options.char_cell,
                cnn_filters=options.char_cnn_filters,
                cnn_width=options.char_cnn_width,
                seed=config.seed,
                name="char_encoder",
            )(char_ids)
        )
    # Each part masks the padding (word id 0, casing class 0, no characters).
    hidden = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="token_vectors")(parts)
    if config.dropout:
        hidden = keras.layers.Dropout(config.dropout, name="input_dropout")(hidden)
    for layer in recurrent_stack(config, return_sequences=True):
        hidden = layer(hidden)
    if config.dropout:
        hidden = keras.layers.Dropout(config.dropout, name="output_dropout")(hidden)
    scores = keras.layers.Dense(len(tags), dtype="float32", name="tag_scores")(hidden)
    inputs = [word_ids, casing_ids, char_ids]
    if options.crf:
        transitions, starts, ends = tagging.allowed_transitions(tags, scheme)
        crf = CRF(
            len(tags),
            allowed_transitions=transitions,
            allowed_starts=starts,
            allowed_ends=ends,
            dtype="float32",
            name="crf",
        )
        # Decode first: Keras checks a functional graph with the output count of a shared
        # layer's first call, so the call with two outputs must come first.
        tag_ids, probabilities = crf(scores, mode="decode")
        training_output = crf(scores, mode="potentials")
        loss = CRFLoss(crf)
    else:
        probabilities = keras.layers.Activation("softmax", dtype="float32", name="softmax")(scores)
        training_output = probabilities
        tag_ids = ArgmaxTags(name="argmax")(probabilities)
        # Tag ids are -1 at padded steps.
        loss = TokenCrossentropy(from_logits=False, ignore_class=-1)
    training = keras.Model(inputs, training_output, name="ner_training")
    inference = keras.Model(
        inputs, {"tag_ids": tag_ids, "probabilities": probabilities}, name="ner_core"
    )
    return training, inference, loss


def build_end_to_end(features, inference, tags):
    """Token strings `(batch, time)` -> `{"tag_ids", "probabilities"}`, vocabularies inside."""
    tokens = keras.Input((None,), dtype="string", name="tokens")
    word_ids, casing_ids, char_ids = features(tokens)
    outputs = inference([word_ids, casing_ids, char_ids])
    probabilities = ClassLabels(tags, name="tags")(outputs["probabilities"])
    return keras.Model(
        tokens, {"tag_ids": outputs["tag_ids"], "probabilities": probabilities}, name="ner"
    )


def describe(model):
    """What predict/evaluate/export need to know about an end-to-end NER model.

    Returns:
        A dict: `tags` (names in id order), `entity_types` (the types of those tags,
        sorted), `scheme` (the internal scheme: BIOES if any tag has an E-/S- prefix, else
        IOB2), `crf` (whether it decodes with a CRF), `features` (its `TokenFeatures`).

    Raises:
        ValueError: Not an end-to-end NER model.
    """
    from seqapps.text import tagging

    labels = features = None
    for layer in model.layers:
        if isinstance(layer, ClassLabels):
            labels = layer.labels
        if isinstance(layer, TokenFeatures):
            features = layer
    if labels is None or features is None:
        raise ValueError(f"model {model.name!r} is not an NER tagger (no tags or token features)")
    prefixes = {tagging.split_tag(tag)[0] for tag in labels}
    crf = any(
        isinstance(inner, CRF)
        for layer in model.layers
        if isinstance(layer, keras.Model)
        for inner in layer.layers
    )
    return {
        "tags": labels,
        "entity_types": sorted({tagging.split_tag(tag)[1] for tag in labels} - {None}),
        "scheme": "BIOES" if prefixes & {"E", "S"} else "IOB2",
        "crf": crf,
        "features": features,
    }


def load_model(value):
    """Load an end-to-end NER model from a run directory or `.keras` file.

    Raises:
        UserError: Not a model file, or not an NER model (the message names it).
    """
    from seqapps.errors import UserError
    from seqapps.export import load_model as load_keras_model

    model = load_keras_model(value)
    try:
        describe(model)
    except ValueError as error:
        raise UserError(f"--model {value}: {error}") from error
    return model
