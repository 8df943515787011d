"""Training batches of a names model: encoded examples bucketed by length."""

# Text mode moves the window boundaries by this many characters (mod the window) per epoch.
WINDOW_SHIFT = 7919


def training_batches(corpus, vocabulary, window, config):
    """`batches(epoch, skip=0)`: the `tf.data.Dataset` of one epoch's `(inputs, targets)`.

    Args:
        corpus: The training `Corpus`.
        vocabulary: The model's `CharVocabulary`.
        window: Text mode: characters per training window.
        config: The `TrainingConfig` (`batch_size`, `seed`, `jit`).
    """
    import tensorflow as tf

    from apps.names import data as names_data
    from apps.names.model import encode_examples, padded
    from seqapps.training.batching import bucketed_batches, dataset_from_batches

    multiple = 8 if config.jit else 1
    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, None), tf.int32))

    def batches(epoch, skip=0):
        offset = epoch * WINDOW_SHIFT % window if corpus.mode == "text" else 0
        pairs = encode_examples(vocabulary, names_data.examples(corpus, window, offset))
        order = bucketed_batches(
            [len(pair[0]) for pair in pairs], config.batch_size, seed=config.seed + epoch
        )
        # Making a batch draws no random numbers: a resumed epoch just leaves the first out.
        return dataset_from_batches(
            order[skip:], lambda idx: padded(pairs, idx, multiple), signature
        )

    return batches
