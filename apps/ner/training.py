"""The data side of training an NER tagger: corpora, vocabularies, id arrays, batches.

`TrainingData(options)` loads the training and dev files, builds the word and character
vocabularies into a `TokenFeatures` layer, featurizes every sentence once, and then
serves what `seqapps.training.Trainer` asks for: the batches of an epoch (singleton words
randomly replaced by the unknown word) and the dev entity scores of the inference model.
"""

import sys

import numpy as np

from apps.ner import data as ner_data
from apps.ner.options import load_corpus
from seqapps.errors import UserError
from seqapps.text import tagging

FEATURE_CHUNK = 1024  # sentences featurized per TokenFeatures call
DEV_BATCH = 128  # dev sentences per inference call


def load_data(options, seed):
    """`(train_set, dev_set, entity_types)` from --data and --dev (or a split of --data)."""
    train_set = load_corpus(options.data, options)
    if options.dev:
        dev_set = load_corpus(options.dev, options)
    else:
        train_set, dev_set = ner_data.split(train_set, options.dev_fraction, seed)
    for corpus in (train_set, dev_set):
        ner_data.report_repairs(corpus)
    types = train_set.entity_types()
    if not types:
        raise UserError(f"{train_set.source}: no entities in the training data (every tag is O)")
    unseen = sorted(set(dev_set.entity_types()) - set(types))
    if unseen:
        raise UserError(
            f"{dev_set.source}: entity type(s) {unseen} do not occur in the training data"
        )
    return train_set, dev_set, types


def featurize(features, sentences):
    """Word, casing and char ids of each sentence, by the model's own `TokenFeatures`.

    Returns three lists of arrays: `(n,)`, `(n,)` and `(n, chars)` per sentence.
    """
    import tensorflow as tf

    words, casings, chars = (
        [None] * len(sentences),
        [None] * len(sentences),
        [None] * len(sentences),
    )
    order = np.argsort([len(s) for s in sentences], kind="stable")
    for start in range(0, len(order), FEATURE_CHUNK):
        chunk = order[start : start + FEATURE_CHUNK]
        longest = max(1, max(len(sentences[i]) for i in chunk))
        padded = [list(sentences[i]) + [""] * (longest - len(sentences[i])) for i in chunk]
        word_ids, casing_ids, char_ids = (x.numpy() for x in features(tf.constant(padded)))
        for row, index in enumerate(chunk):
            n = len(sentences[index])
            char_row = char_ids[row, :n]
            width = int((char_row > 0).sum(axis=1).max()) if n else 0
            words[index] = word_ids[row, :n]
            casings[index] = casing_ids[row, :n]
            chars[index] = char_row[:, : max(width, 1)]
    return words, casings, chars


def collate(words, casings, chars, tags, indices, replace=None, multiple=1):
    """Pad a batch: `((word_ids, casing_ids, char_ids), tag_ids)`, tags -1 at padding.

    `replace(word_ids)` may swap words for the unknown id (training only). Lengths are
    rounded up to `multiple` (fewer shapes, so fewer XLA compilations with --jit).
    """
    from seqapps.training.batching import pad

    batch_words = pad([words[i] for i in indices], multiple)
    if replace is not None:
        batch_words = replace(batch_words)
    longest = batch_words.shape[1]
    width = max(chars[i].shape[1] for i in indices)
    width = -(-width // multiple) * multiple
    batch_chars = np.zeros((len(indices), longest, width), dtype="int32")
    for row, i in enumerate(indices):
        block = chars[i]
        batch_chars[row, : block.shape[0], : block.shape[1]] = block
    inputs = (batch_words, pad([casings[i] for i in indices], multiple), batch_chars)
    if tags is None:
        return inputs
    return inputs, pad([tags[i] for i in indices], multiple, value=-1)


class TrainingData:
    """Everything a training run needs besides the model (see the module docstring).

    Building it prints what it trains on, and with --embeddings sets `options.word_dim`
    to the size of the vectors read. Given `start` (the `--init-from` model), the
    vocabularies, tags and scheme are the model's, and it says how many words of the
    training data the vocabulary does not know.

    Attributes:
        train_set, dev_set: The `Corpus` of each side.
        tags: The tag names the model learns, in id order.
        scheme: Their scheme (`options.tag_scheme`, normalised).
        features: The `TokenFeatures` layer holding the vocabularies.
        embedding_matrix: Initial word vectors `(words, dim)`, or None.
    """

    def __init__(self, options, config, start=None):
        import tensorflow as tf

        from apps.ner import model as ner_model
        from seqapps.text.words import build_vocabulary, load_word_vectors
        from seqapps.training.batching import bucketed_batches
        from seqapps.training.runs import report_coverage

        self.options = options
        self.config = config
        train_set, dev_set, types = load_data(options, config.seed)
        self.train_set, self.dev_set = train_set, dev_set
        if start is None:
            self.scheme = tagging.scheme_name(options.tag_scheme)
            self.tags = tagging.tag_set(types, self.scheme)
        else:
            known = ner_model.describe(start)
            unknown = sorted(set(types) - set(known["entity_types"]))
            if unknown:
                raise UserError(
                    f"{train_set.source}: entity type(s) {unknown} are not types of the "
                    f"--init-from model ({', '.join(known['entity_types'])})"
                )
            self.scheme, self.tags = known["scheme"], list(known["tags"])
        tag_index = {tag: i for i, tag in enumerate(self.tags)}
        print(
            f"Training on {len(train_set)} sentences from {train_set.source} "
            f"({train_set.scheme}), dev {len(dev_set)} from {dev_set.source} "
            f"({dev_set.scheme}); entity types: {', '.join(types)}; learning {self.scheme} tags",
            file=sys.stderr,
        )
        distinct = sorted({token for sentence in train_set.sentences for token in sentence})
        normalized_forms = ner_model.normalize_words(tf.constant(distinct)).numpy()
        forms = {token: form.decode("utf-8") for token, form in zip(distinct, normalized_forms)}
        normalized = [[forms[token] for token in sentence] for sentence in train_set.sentences]
        if start is None:
            vocabulary = build_vocabulary(normalized, options.max_vocab, options.min_count)
            char_vocabulary = build_vocabulary(
                [list(token) for s in train_set.sentences for token in s]
            )
            self.features = ner_model.TokenFeatures(
                vocabulary, char_vocabulary, options.max_word_chars, name="features"
            )
        else:
            known_features = ner_model.describe(start)["features"]
            self.features = ner_model.TokenFeatures.from_config(known_features.get_config())
            words = [form for sentence in normalized for form in sentence]
            report_coverage(config.init_from, "words", words, set(self.features.words))
        self.embedding_matrix = None
        if options.embeddings and start is None:
            full = ["", "[UNK]", *vocabulary]
            self.embedding_matrix, found = load_word_vectors(options.embeddings, full)
            options.word_dim = self.embedding_matrix.shape[1]
            print(
                f"Word vectors for {found} of {len(full)} words from {options.embeddings}",
                file=sys.stderr,
            )

        self._train_ids = featurize(self.features, train_set.sentences)
        self._dev_ids = featurize(self.features, dev_set.sentences)
        self._train_tags = [
            np.array([tag_index[t] for t in sentence], "int32")
            for sentence in train_set.converted(self.scheme)
        ]
        self.dev_gold = dev_set.converted("IOB2")
        counts = {}
        for sentence in self._train_ids[0]:
            for word in sentence.tolist():
                counts[word] = counts.get(word, 0) + 1
        self._singletons = np.array(
            sorted(w for w, c in counts.items() if c == 1 and w > 1), "int32"
        )
        self._multiple = 8 if config.jit else 1
        self._dev_batches = bucketed_batches([len(s) for s in dev_set.sentences], DEV_BATCH)

    def run_record(self):
        """The `config.json` entries of the data: tags, schemes and vocabulary sizes."""
        return {
            "tags": self.tags,
            "tag_scheme": self.scheme,
            "data_schemes": {"data": self.train_set.scheme, "dev": self.dev_set.scheme},
            "vocabulary_size": self.features.word_vocabulary_size,
            "char_vocabulary_size": self.features.char_vocabulary_size,
        }

    def train_batches(self, epoch):
        """The `tf.data.Dataset` of one epoch: length-bucketed, shuffled by seed and epoch."""
        import tensorflow as tf

        from seqapps.training.batching import bucketed_batches, dataset_from_batches

        options, config = self.options, self.config
        seed = config.seed + epoch
        rng = np.random.default_rng([config.seed, epoch])
        singletons = self._singletons

        def replace(word_ids):
            if not options.singleton_unk or not len(singletons):
                return word_ids
            hit = np.isin(word_ids, singletons) & (
                rng.random(word_ids.shape) < options.singleton_unk
            )
            return np.where(hit, 1, word_ids).astype("int32")

        batches = bucketed_batches(
            [len(s) for s in self.train_set.sentences], config.batch_size, seed=seed
        )
        signature = (
            (
                tf.TensorSpec((None, None), tf.int32),
                tf.TensorSpec((None, None), tf.int32),
                tf.TensorSpec((None, None, None), tf.int32),
            ),
            tf.TensorSpec((None, None), tf.int32),
        )
        return dataset_from_batches(
            batches,
            lambda idx: collate(*self._train_ids, self._train_tags, idx, replace, self._multiple),
            signature,
        )

    def predict_dev(self, inference):
        """The IOB2 tags the id-level `inference` model gives each dev sentence."""
        import tensorflow as tf

        if not hasattr(inference, "_seqapps_infer"):
            inference._seqapps_infer = tf.function(
                lambda x: inference(x, training=False)["tag_ids"], reduce_retracing=True
            )
        sentences = self.dev_set.sentences
        predicted = [None] * len(sentences)
        for idx in self._dev_batches:
            batch = collate(*self._dev_ids, None, idx)
            ids = inference._seqapps_infer(tuple(tf.constant(x) for x in batch)).numpy()
            for row, i in enumerate(idx):
                internal = [self.tags[t] for t in ids[row, : len(sentences[i])]]
                predicted[i] = tagging.convert(internal, "IOB2")
        return predicted

    def dev_scores(self, inference):
        """`seqapps.text.tagging.entity_scores` of `inference` on the dev set."""
        return tagging.entity_scores(self.dev_gold, self.predict_dev(inference))

    def epoch_scores(self, inference):
        """The dev scores `Trainer` records each epoch (F1 is the monitored one)."""
        scores = self.dev_scores(inference)
        return {k: scores[k] for k in ("precision", "recall", "f1", "token_accuracy")}

    def metrics(self, inference, best, history):
        """The metrics.json of a finished run, and the one-line summary of its dev scores."""
        report = self.dev_scores(inference)
        report["data"] = str(self.dev_set.source)
        metrics = {
            "epoch": best["epoch"],
            "dev": report,
            "train_sentences": len(self.train_set),
            "seconds": history[-1]["seconds"] if history else 0.0,
        }
        summary = (
            f"dev entity F1 {100 * report['f1']:.2f} "
            f"(precision {100 * report['precision']:.2f}, recall {100 * report['recall']:.2f})"
        )
        return metrics, summary
