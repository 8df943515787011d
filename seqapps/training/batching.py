"""Length-bucketed batches for variable-length sequences.

Sorting examples by length inside windows of a few dozen batches, then
shuffling the batches, keeps padding (and so recurrent steps) low while each
epoch still sees a different, seeded order.
"""

import numpy as np


def bucketed_batches(lengths, batch_size, seed=None, window=50):
    """Index arrays of the batches of one epoch.

    Args:
        lengths: Length of each example.
        batch_size: Examples per batch.
        seed: Shuffle seed (None: keep the given order, sort by length, no shuffle;
            used for prediction, where only speed matters).
        window: Batches per sorting window.

    Returns:
        List of integer arrays.
    """
    lengths = np.asarray(lengths)
    if seed is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    span = batch_size * window
    batches = []
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def pad(sequences, multiple=1, min_length=1, value=0, dtype="int32"):
    """Right-pad a list of 1-D (or N-D, padded on the first axis) arrays into one array.

    The padded length is the longest sequence rounded up to `multiple` (fewer
    distinct shapes, so fewer XLA compilations), and at least `min_length`.
    """
    longest = max([len(s) for s in sequences] + [min_length])
    longest = -(-longest // multiple) * multiple
    trailing = np.asarray(sequences[0]).shape[1:] if len(sequences) else ()
    out = np.full((len(sequences), longest, *trailing), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        out[row, : len(sequence)] = sequence
    return out


def dataset_from_batches(batches, collate, output_signature):
    """A `tf.data.Dataset` that yields `collate(indices)` for each batch, prefetching."""
    import tensorflow as tf

    def generate():
        for indices in batches:
            yield collate(indices)

    dataset = tf.data.Dataset.from_generator(generate, output_signature=output_signature)
    # A known length gives Keras's progress bar its total.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(2)
