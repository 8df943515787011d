"""Token strings to the ids a tagger embeds: words, casing classes and characters."""

import keras

from seqapps.text.words import OOV, PAD

CASINGS = ("padding", "lower", "UPPER", "Title", "numeric", "has-digit", "punctuation", "other")


def normalize_words(tokens):
    """The form a token is looked up by: lower-cased, every decimal digit replaced by 0.

    A TensorFlow string op (any shape), used both to build the vocabulary and in the model.
    """
    import tensorflow as tf

    lowered = tf.strings.lower(tokens, encoding="utf-8")
    return tf.strings.regex_replace(lowered, r"\p{Nd}", "0")


def casing_classes(tokens):
    """The casing class id of each token (see `CASINGS`; 0 for the "" padding).

    punctuation: no letter or digit; numeric: digits and no letters; has-digit: letters and
    digits; lower: no upper-case letter; UPPER: no lower-case letter; Title: one upper-case
    letter, then none; other: the rest (`iPhone`, `McDonald`).
    """
    import tensorflow as tf

    def matches(pattern):
        return tf.strings.regex_full_match(tokens, pattern)

    rules = [
        (matches(r"[^\p{L}\p{N}]+"), 6),
        (matches(r"[^\p{L}]*\p{N}[^\p{L}]*"), 4),
        (matches(r".*\p{N}.*"), 5),
        (matches(r"[^\p{Lu}\p{Lt}]+"), 1),
        (matches(r"[^\p{Ll}]+"), 2),
        (matches(r"[\p{Lu}\p{Lt}][^\p{Lu}\p{Lt}]*"), 3),
    ]
    classes = tf.fill(tf.shape(tokens), 7)
    for matched, value in reversed(rules):
        classes = tf.where(matched, value, classes)
    return tf.where(tf.equal(tokens, ""), 0, classes)


def clip_characters(tokens, max_chars):
    """Tokens longer than `max_chars` characters keep their first and last halves."""
    import tensorflow as tf

    lengths = tf.strings.length(tokens, unit="UTF8_CHAR")
    head_size = (max_chars + 1) // 2
    tail_size = max_chars - head_size
    head = tf.strings.substr(
        tokens, tf.zeros_like(lengths), tf.fill(tf.shape(lengths), head_size), unit="UTF8_CHAR"
    )
    tail = tf.strings.substr(
        tokens,
        tf.maximum(lengths - tail_size, 0),
        tf.fill(tf.shape(lengths), tail_size),
        unit="UTF8_CHAR",
    )
    return tf.where(lengths > max_chars, head + tail, tokens)


@keras.saving.register_keras_serializable(package="seqapps")
class TokenFeatures(keras.layers.Layer):
    """Token strings `(batch, time)` -> word ids, casing ids and character ids.

    Id 0 is padding (the "" token, or no character) and id 1 the unknown word or
    character, so anything unseen maps to 1. Words are looked up by `normalize_words`;
    characters are those of the token (case kept), clipped by `clip_characters`.

    Args:
        words: Word vocabulary (normalised forms), ids 2, 3, ...
        chars: Character vocabulary, ids 2, 3, ...
        max_word_chars: Longer tokens keep their first and last characters only.
        **kwargs: Base layer arguments.

    Returns (call):
        `(word_ids, casing_ids, char_ids)`: int32 `(batch, time)`, `(batch, time)` and
        `(batch, time, chars)` where `chars` is the longest (clipped) token of the batch.
    """

    def __init__(self, words, chars, max_word_chars=20, **kwargs):
        super().__init__(**kwargs)
        self.words = [str(word) for word in words]
        self.chars = [str(char) for char in chars]
        self.max_word_chars = int(max_word_chars)
        if self.max_word_chars < 2:
            raise ValueError(f"`max_word_chars` must be >= 2; received {max_word_chars}")
        self.word_lookup = keras.layers.StringLookup(
            vocabulary=self.words, mask_token=PAD, oov_token=OOV, name="word_lookup"
        )
        self.char_lookup = keras.layers.StringLookup(
            vocabulary=self.chars, mask_token=PAD, oov_token=OOV, name="char_lookup"
        )

    def build(self, input_shape=None):
        # The lookups hold tables, not weights: nothing to create.
        self.built = True

    @property
    def word_vocabulary_size(self):
        return len(self.words) + 2

    @property
    def char_vocabulary_size(self):
        return len(self.chars) + 2

    def call(self, tokens):
        import tensorflow as tf

        tokens = tf.convert_to_tensor(tokens, dtype=tf.string)
        word_ids = tf.cast(self.word_lookup(normalize_words(tokens)), "int32")
        casing_ids = tf.cast(casing_classes(tokens), "int32")
        pieces = tf.strings.unicode_split(
            clip_characters(tokens, self.max_word_chars), "UTF-8", errors="replace"
        )
        char_ids = tf.cast(self.char_lookup(pieces.to_tensor(default_value=PAD)), "int32")
        return word_ids, casing_ids, char_ids

    def compute_output_spec(self, tokens):
        batch, time = tokens.shape[:2]
        return (
            keras.KerasTensor((batch, time), dtype="int32"),
            keras.KerasTensor((batch, time), dtype="int32"),
            keras.KerasTensor((batch, time, None), dtype="int32"),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "words": self.words,
            "chars": self.chars,
            "max_word_chars": self.max_word_chars,
        }
