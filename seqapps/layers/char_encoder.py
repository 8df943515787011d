"""A per-word character encoder: a seqapps bidirectional recurrent layer and/or a CNN."""

import keras
from keras import ops

from seqapps.layers.bidirectional import Bidirectional


@keras.saving.register_keras_serializable(package="seqapps")
class CharEncoder(keras.layers.Layer):
    """Character ids `(batch, time, chars)` -> one vector per word.

    Embeds the characters (id 0 is padding) and encodes the characters of each word, as
    one `(batch * time, chars)` batch, in up to two ways whose vectors are concatenated:

    - `units > 0`: a seqapps `Bidirectional` LSTM or GRU (Lample et al., 2016); the
      word's part is the final forward and backward states, `2 * units` values;
    - `cnn_filters > 0`: a convolution over the character vectors `e` (Ma and Hovy, 2016),
      `c_{j,f} = tanh(b_f + sum_{k} W_{k,f} . e_{j+k})` over a window of `cnn_width`
      characters centred on character j (zero vectors beyond the word), then the maximum
      over the word's characters (`max_j c_{j,f}`), `cnn_filters` values.

    The output is `(batch, time, 2 * units + cnn_filters)`; a padding word (no characters)
    gets zeros. Shapes stay static per batch, so the layer compiles with XLA.

    Args:
        vocabulary_size: Number of character ids (including 0 and the unknown id 1).
        embedding_dim: Character embedding size.
        units: Recurrent units per direction (0: no recurrent encoder).
        cell: `"lstm"` or `"gru"`.
        cnn_filters: Convolution filters (0, the default: no convolution).
        cnn_width: Characters in each convolution window.
        seed: Seed of the recurrent layer's initializers.
        **kwargs: Base layer arguments.

    Example:

    >>> import numpy as np
    >>> encoder = CharEncoder(10, embedding_dim=4, units=3, cnn_filters=5)
    >>> ids = np.array([[[2, 3, 0], [0, 0, 0]]])    # one word "ab", then a padding word
    >>> vectors = encoder(ids)
    >>> tuple(vectors.shape)
    (1, 2, 11)
    >>> bool(np.all(np.asarray(vectors)[0, 1] == 0))
    True
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim=25,
        units=25,
        cell="lstm",
        cnn_filters=0,
        cnn_width=3,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        from seqapps.layers import GRU, LSTM

        if cell not in ("lstm", "gru"):
            raise ValueError(f"`cell` must be 'lstm' or 'gru'; received {cell!r}")
        if int(units) < 0 or int(cnn_filters) < 0 or not (int(units) or int(cnn_filters)):
            raise ValueError(
                "`units` and `cnn_filters` must be >= 0 and not both 0; "
                f"received units={units}, cnn_filters={cnn_filters}"
            )
        if int(cnn_width) < 1:
            raise ValueError(f"`cnn_width` must be at least 1; received {cnn_width}")
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.units = int(units)
        self.cell = cell
        self.cnn_filters = int(cnn_filters)
        self.cnn_width = int(cnn_width)
        self.seed = seed
        self.embedding = keras.layers.Embedding(
            self.vocabulary_size, self.embedding_dim, name="char_embedding"
        )
        self.encoder = None
        if self.units:
            layer_class = LSTM if cell == "lstm" else GRU
            self.encoder = Bidirectional(layer_class(self.units, seed=seed), name="char_birnn")
        self.convolution = None
        if self.cnn_filters:
            self.convolution = keras.layers.Conv1D(
                self.cnn_filters,
                self.cnn_width,
                padding="same",
                activation="tanh",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                name="char_cnn",
            )

    @property
    def output_dim(self):
        return 2 * self.units + self.cnn_filters

    def build(self, input_shape):
        self.embedding.build((None, None))
        if self.encoder is not None:
            self.encoder.build((None, None, self.embedding_dim))
        if self.convolution is not None:
            self.convolution.build((None, None, self.embedding_dim))
        self.built = True

    def call(self, char_ids):
        import tensorflow as tf

        char_ids = tf.cast(char_ids, "int32")
        shape = tf.shape(char_ids)
        words = tf.reshape(char_ids, tf.stack([shape[0] * shape[1], shape[2]]))
        characters = words > 0
        embedded = self.embedding(words)
        parts = []
        if self.encoder is not None:
            parts.append(self.encoder(embedded, mask=characters))
        if self.convolution is not None:
            # Zero vectors around the word, whatever its padding: a word's filters do not
            # depend on how wide the batch's words are.
            filters = self.convolution(embedded * ops.cast(characters, embedded.dtype)[:, :, None])
            lowest = ops.cast(-1.0, filters.dtype)
            # tanh is above -1, so a masked position never wins the maximum; a word with
            # no characters has -1 everywhere and is set to zeros.
            filters = ops.where(characters[:, :, None], filters, lowest)
            pooled = ops.max(filters, axis=1)
            has_characters = ops.any(characters, axis=1)[:, None]
            parts.append(ops.where(has_characters, pooled, ops.zeros_like(pooled)))
        encoded = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)
        return tf.reshape(encoded, tf.concat([shape[:2], [self.output_dim]], axis=0))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.output_dim)

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
            "cnn_filters": self.cnn_filters,
            "cnn_width": self.cnn_width,
            "seed": self.seed,
        }
