"""A per-word character encoder built from a seqapps bidirectional recurrent layer."""

import keras
from keras import ops

from seqapps.layers.bidirectional import Bidirectional


@keras.saving.register_keras_serializable(package="seqapps")
class CharEncoder(keras.layers.Layer):
    """Character ids `(batch, time, chars)` -> one vector per word `(batch, time, 2 * units)`.

    Embeds the characters (id 0 masked) and runs a seqapps `Bidirectional` LSTM or GRU over
    the characters of each word, as one `(batch * time, chars)` batch; the word's vector is
    the concatenated final forward and backward states (zeros for a padding word, which
    has no characters). Shapes stay static per batch, so the layer compiles with XLA.

    Args:
        vocabulary_size: Number of character ids (including 0 and the unknown id 1).
        embedding_dim: Character embedding size.
        units: Recurrent units per direction.
        cell: `"lstm"` or `"gru"`.
        seed: Seed of the recurrent layer's initializers.
        **kwargs: Base layer arguments.
    """

    def __init__(
        self, vocabulary_size, embedding_dim=25, units=25, cell="lstm", seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        from seqapps.layers import GRU, LSTM

        if cell not in ("lstm", "gru"):
            raise ValueError(f"`cell` must be 'lstm' or 'gru'; received {cell!r}")
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.units = int(units)
        self.cell = cell
        self.seed = seed
        self.embedding = keras.layers.Embedding(
            self.vocabulary_size, self.embedding_dim, name="char_embedding"
        )
        layer_class = LSTM if cell == "lstm" else GRU
        self.encoder = Bidirectional(layer_class(self.units, seed=seed), name="char_birnn")

    def build(self, input_shape):
        self.embedding.build((None, None))
        self.encoder.build((None, None, self.embedding_dim))
        self.built = True

    def call(self, char_ids):
        import tensorflow as tf

        char_ids = tf.cast(char_ids, "int32")
        shape = tf.shape(char_ids)
        words = tf.reshape(char_ids, tf.stack([shape[0] * shape[1], shape[2]]))
        encoded = self.encoder(self.embedding(words), mask=words > 0)
        return tf.reshape(encoded, tf.concat([shape[:2], [2 * self.units]], axis=0))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], 2 * self.units)

    def compute_mask(self, char_ids, mask=None):
        # A word without characters is padding. Every part of the token vector carries
        # the same mask, so `Concatenate` (which keeps a step if any part is unmasked)
        # hands it on to the recurrent layers.
        return ops.any(ops.greater(char_ids, 0), axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "seed": self.seed,
        }
