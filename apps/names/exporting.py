"""The TensorFlow SavedModel of a names model: `sample` and `score` strings, TensorFlow only.

* `sample`: `count` (int32), `temperature` (float32; 0 or less is greedy),
  `seed` (int32) and `prefix` (string, may be empty) -> `strings` (count,),
  `log_probs` (count,) and `lengths` (count,). Samples stop at the end symbol
  or at the model's default length (`apps.names.model.default_length`), or one
  character after a longer prefix. The same seed gives the same samples.
* `score`: `strings` (batch,) -> `log_prob` (batch,), the log-probability of
  each string (its end symbol included, for line models), `char_log_probs`
  (batch, longest + 1; zero-padded) and `lengths` (characters per string).

Characters the model never saw count as its unknown character.
"""


def export(model, out):
    """Write the SavedModel of a names model to `out`."""
    import numpy as np
    import tensorflow as tf

    from apps.names.model import default_length, log_probs_of_targets, make_sampler, vocabulary_of
    from seqapps.export import write_saved_model
    from seqapps.layers import CharVocabulary

    vocabulary = vocabulary_of(model)
    sampler = make_sampler(model)
    generate = sampler.function(jit=False)
    terminated = vocabulary.terminated
    sample_length = default_length(vocabulary)

    # Code point -> id by binary search over the sorted code points: plain
    # constants, no lookup-table resource to carry.
    code_points = np.array([ord(c) for c in vocabulary.characters], "int32")
    order = np.argsort(code_points)
    sorted_points = tf.constant(code_points[order])
    sorted_ids = tf.constant((order + CharVocabulary.RESERVED).astype("int32"))
    reserved = ["", "", "\ufffd"]  # padding, boundary, unknown
    id_strings = tf.constant(reserved + list(vocabulary.characters))
    boundary = CharVocabulary.BOUNDARY_ID

    def to_ids(strings):
        if vocabulary.lowercase:
            strings = tf.strings.lower(strings, encoding="utf-8")
        points = tf.strings.unicode_decode(strings, "UTF-8", errors="replace")
        flat = points.flat_values
        if len(vocabulary.characters):
            position = tf.minimum(tf.searchsorted(sorted_points, flat), tf.size(sorted_points) - 1)
            found = tf.gather(sorted_points, position) == flat
            flat_ids = tf.where(found, tf.gather(sorted_ids, position), CharVocabulary.UNKNOWN_ID)
        else:
            flat_ids = tf.fill(tf.shape(flat), CharVocabulary.UNKNOWN_ID)
        return points.with_flat_values(flat_ids)

    def to_strings(tokens):
        return tf.strings.reduce_join(tf.gather(id_strings, tokens), axis=-1)

    def sample(count, temperature, seed, prefix):
        prefix_ids = to_ids(tf.reshape(prefix, [1]))[0]
        width = tf.size(prefix_ids)
        # One padding column keeps the prefix at least one wide for the loop.
        padded_prefix = tf.concat([prefix_ids, [CharVocabulary.PAD_ID]], axis=0)
        result = generate(
            tf.maximum(sample_length, width + 1),
            tf.tile(padded_prefix[tf.newaxis], [count, 1]),
            tf.fill([count], width),
            temperature,
            tf.constant(0),
            tf.constant(1.0),
            seed,
        )
        return {
            "strings": to_strings(result["tokens"]),
            "log_probs": result["log_probs"],
            "lengths": result["lengths"],
        }

    def score(strings):
        ids = to_ids(strings)
        count = tf.shape(strings)[0]
        column = tf.fill([count, 1], boundary)
        if terminated:
            inputs = tf.concat([column, ids], axis=1)
            targets = tf.concat([ids, column], axis=1)
        else:
            inputs = tf.concat([column, ids[:, :-1]], axis=1)
            targets = ids
        inputs = inputs.to_tensor(CharVocabulary.PAD_ID)
        targets = targets.to_tensor(CharVocabulary.PAD_ID, shape=tf.shape(inputs))
        per_char = log_probs_of_targets(model, inputs, targets)
        return {
            "log_prob": tf.reduce_sum(per_char, axis=1),
            "char_log_probs": per_char,
            "lengths": tf.cast(ids.row_lengths(), tf.int32),
        }

    sample_signature = [
        tf.TensorSpec([], tf.int32, name="count"),
        tf.TensorSpec([], tf.float32, name="temperature"),
        tf.TensorSpec([], tf.int32, name="seed"),
        tf.TensorSpec([], tf.string, name="prefix"),
    ]
    score_signature = [tf.TensorSpec([None], tf.string, name="strings")]
    return write_saved_model(
        out,
        [model],
        {"sample": (sample, sample_signature), "score": (score, score_signature)},
    )
