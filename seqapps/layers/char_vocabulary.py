"""Keeps a character vocabulary inside a character-level model."""

import keras


@keras.saving.register_keras_serializable(package="seqapps")
class CharVocabulary(keras.layers.Layer):
    """Identity on character ids that stores the character vocabulary in its config.

    Placed on the input of a character-level model, it makes the vocabulary
    part of the `.keras` file, so a loaded model can turn strings into ids and
    ids back into strings without any other file.

    Ids: 0 is padding, 1 the boundary symbol (fed before the first character
    and, in terminated sequences, predicted after the last one), 2 an unknown
    character, and 3 onwards the characters in the given order. A character is
    one Unicode code point.

    Args:
        characters: The distinct characters (strings of length 1).
        lowercase: Whether text is lower-cased before it is looked up.
        terminated: Whether every sequence ends with the boundary symbol (a
            list of names or lines), rather than being a window cut from
            running text.
        **kwargs: Base layer arguments.
    """

    PAD_ID = 0
    BOUNDARY_ID = 1
    UNKNOWN_ID = 2
    RESERVED = 3

    def __init__(self, characters, lowercase=False, terminated=True, **kwargs):
        characters = [str(character) for character in characters]
        bad = [c for c in characters if len(c) != 1]
        if bad or len(set(characters)) != len(characters):
            raise ValueError(
                "`characters` must be distinct strings of length 1; received "
                f"{bad[:5] if bad else 'duplicates'}"
            )
        super().__init__(**kwargs)
        self.characters = characters
        self.lowercase = bool(lowercase)
        self.terminated = bool(terminated)
        self.supports_masking = True
        self._index = {c: i + self.RESERVED for i, c in enumerate(characters)}

    @property
    def size(self):
        """Number of ids, reserved ones included."""
        return len(self.characters) + self.RESERVED

    def normalize(self, text):
        """The text as the model sees it (lower-cased if the vocabulary folds case)."""
        return text.lower() if self.lowercase else text

    def encode(self, text):
        """Character ids of `text` (unknown characters become `UNKNOWN_ID`)."""
        return [self._index.get(c, self.UNKNOWN_ID) for c in self.normalize(text)]

    def unknown_characters(self, text):
        """The characters of `text` the vocabulary lacks, in order of appearance."""
        seen = []
        for character in self.normalize(text):
            if character not in self._index and character not in seen:
                seen.append(character)
        return seen

    def decode(self, ids):
        """The string of character ids; reserved ids other than unknown are dropped."""
        pieces = []
        for value in ids:
            value = int(value)
            if value >= self.RESERVED and value < self.size:
                pieces.append(self.characters[value - self.RESERVED])
            elif value == self.UNKNOWN_ID:
                pieces.append("\ufffd")
        return "".join(pieces)

    def call(self, ids):
        return ids

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "characters": self.characters,
            "lowercase": self.lowercase,
            "terminated": self.terminated,
        }
