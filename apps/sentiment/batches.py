"""Token ids of a sentiment model's texts: training batches and dev-set predictions.

Training runs on the core model (token ids in), so texts are vectorized once
and batched by length; `--word-dropout` replaces words by the unknown word as
batches are made.
"""

import numpy as np

OOV_ID = 1  # the vectorizer's id of the unknown word
# Texts per vectorizer call: bounds the size of one padded batch of ids.
CHUNK = 8192


def token_ids(vectorizer, texts):
    """One int32 array of token ids per text, without padding."""
    import tensorflow as tf

    ids = []
    for start in range(0, len(texts), CHUNK):
        ragged = vectorizer(tf.constant(texts[start : start + CHUNK]))
        ids.extend(np.asarray(row, dtype="int32") for row in _rows(ragged))
    return ids


def _rows(ragged_or_dense):
    """Rows of a vectorizer output without the trailing padding."""
    array = np.asarray(ragged_or_dense)
    for row in array:
        nonzero = np.flatnonzero(row)
        yield row[: nonzero[-1] + 1] if len(nonzero) else row[:0]


def padding_multiple(config):
    """Batches are padded to a multiple of 8 under XLA (`--jit`): fewer distinct shapes."""
    return 8 if config.jit else 1


def training_batches(ids, targets, options, config):
    """`batches(epoch)`: the `tf.data.Dataset` of one epoch's `(ids, class ids)`.

    With `--ensemble N` (N > 1) each batch carries the class ids once per member.

    Args:
        ids: Token ids per training text (`token_ids`).
        targets: Class id per training text (`apps.sentiment.data.class_ids`).
        options: The script's options (`ensemble`, `word_dropout`).
        config: The `TrainingConfig` (`batch_size`, `seed`, `jit`).
    """
    import tensorflow as tf

    from seqapps.training.batching import bucketed_batches, dataset_from_batches, pad

    lengths = np.array([len(x) for x in ids])
    multiple = padding_multiple(config)
    members = options.ensemble
    label_spec = tf.TensorSpec((None,), tf.int32)
    signature = (
        tf.TensorSpec((None, None), tf.int32),
        label_spec if members == 1 else (label_spec,) * members,
    )

    def batch_targets(idx):
        return targets[idx] if members == 1 else (targets[idx],) * members

    def batches(epoch):
        order = bucketed_batches(lengths, config.batch_size, seed=config.seed + epoch)
        rng = np.random.default_rng([config.seed, epoch])

        def collate(idx):
            batch = pad([ids[i] for i in idx], multiple)
            if options.word_dropout:
                dropped = (rng.random(batch.shape) < options.word_dropout) & (batch > 0)
                batch = np.where(dropped, OOV_ID, batch)
            return batch, batch_targets(idx)

        return dataset_from_batches(order, collate, signature)

    return batches


class DevSet:
    """The dev texts as token ids, scored with the core model after every epoch."""

    def __init__(self, ids, targets, labels, multiple=1):
        from seqapps.training.batching import bucketed_batches

        self.ids = ids
        self.targets = targets
        self.labels = labels
        self.multiple = multiple
        self.batches = bucketed_batches([len(x) for x in ids], 256)

    def probabilities(self, core):
        """Class probabilities `(texts, classes)` of the core model."""
        from seqapps.training import inference_function
        from seqapps.training.batching import pad

        if not hasattr(core, "_seqapps_infer"):
            core._seqapps_infer = inference_function(core)
        probabilities = np.zeros((len(self.ids), len(self.labels)), dtype="float32")
        for idx in self.batches:
            batch = pad([self.ids[i] for i in idx], self.multiple)
            probabilities[idx] = core._seqapps_infer(batch)
        return probabilities

    def report(self, core):
        """`seqapps.metrics.classification_report` of the core model's predictions."""
        from seqapps.metrics import classification_report

        predicted = self.probabilities(core).argmax(axis=1)
        return classification_report(self.targets, predicted, self.labels)

    def metrics(self, core):
        """The epoch's dev metrics: `accuracy` and `macro_f1`."""
        report = self.report(core)
        return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}
