"""Train a named-entity tagger: tokens in, one entity tag per token out.

Reads CoNLL column files (IOB1, IOB2 or BIOES, detected) or GMB-style CSV tables, trains
a character + word BiLSTM with a CRF on top (`--no-crf`: a softmax), keeps the epoch with
the best dev entity F1, and writes the run directory (model.keras, config.json,
metrics.json, history.csv, curves.png, saved_model/).

Internally the tagger learns BIOES tags (`--tag-scheme`): a tag says where an entity
starts, continues, ends, or is a single token, and the CRF forbids the moves BIOES does
not allow. Predictions are written as IOB2 by default.

Examples:
  python -m apps.ner.train --data ../shared/data/conll2003/eng.train \\
      --dev ../shared/data/conll2003/eng.testa --out runs/conll --max-minutes 60
  python -m apps.ner.train --data ner_dataset.csv --out runs/gmb --epochs 5
"""

import sys
from pathlib import Path

import numpy as np

from apps.ner import data as ner_data
from seqapps import tagging
from seqapps.cli import UserError, make_parser, require, run_main
from seqapps.training import (
    add_training_arguments,
    add_vocabulary_arguments,
    check_training_options,
    in_run_directory,
    train_script,
    write_run_config,
)

DEFAULTS = {
    "epochs": 50,
    "batch_size": 32,
    "lr": 2e-3,
    "optimizer": "nadam",
    "clipnorm": 5.0,
    "cell": "lstm",
    "bidirectional": True,
    "units": 200,
    "layers": 1,
    "dropout": 0.5,
    "patience": 6,
}
FEATURE_CHUNK = 1024  # sentences featurized per TokenFeatures call


def add_data_arguments(parser, with_scheme=True):
    """The flags that say how to read a labelled file (shared with evaluate)."""
    group = parser.add_argument_group("reading files")
    group.add_argument(
        "--word-col",
        help="token column: a number for CoNLL files (from 1; default 1), a name for tables "
        "(default 'Word')",
    )
    group.add_argument(
        "--tag-col",
        help="tag column: a number for CoNLL files (from 1, negative from the end; default the "
        "last), a name for tables (default 'Tag')",
    )
    group.add_argument(
        "--sentence-col", help="tables only: the sentence-id column (default 'Sentence #')"
    )
    if with_scheme:
        group.add_argument(
            "--scheme",
            choices=("auto", "iob1", "iob2", "bioes"),
            default="auto",
            help="tag scheme of the files (auto: detect per file)",
        )
        group.add_argument(
            "--lenient",
            action="store_true",
            help="repair invalid tag transitions (e.g. I-X after O becomes B-X) instead of "
            "failing; the number of repaired tags is printed",
        )
    return group


def build_parser():
    parser = make_parser("apps.ner.train", __doc__)
    source = parser.add_argument_group("data")
    source.add_argument("--data", help="training data: a CoNLL file, or a CSV/TSV/JSONL table")
    source.add_argument("--dev", help="dev data (same formats); default: a seeded split of --data")
    source.add_argument(
        "--dev-fraction", type=float, default=0.1, help="dev share when --dev is not given"
    )
    add_data_arguments(parser)
    model = parser.add_argument_group("model")
    model.add_argument(
        "--crf",
        action="store_true",
        default=True,
        help="decode with a linear-chain CRF (transition scores, Viterbi, marginals)",
    )
    model.add_argument(
        "--no-crf", dest="crf", action="store_false", help="predict each tag with a softmax"
    )
    model.add_argument(
        "--tag-scheme",
        choices=("bioes", "iob2"),
        default="bioes",
        help="tag scheme the model learns internally (outputs are converted to IOB2)",
    )
    model.add_argument("--word-dim", type=int, default=100, help="word vector size")
    model.add_argument(
        "--embeddings",
        help="initialise word vectors from a GloVe/word2vec text file (sets --word-dim)",
    )
    model.add_argument(
        "--casing-dim", type=int, default=8, help="casing-class vector size (0: no casing)"
    )
    model.add_argument("--char-dim", type=int, default=25, help="character vector size")
    model.add_argument(
        "--char-units",
        type=int,
        default=25,
        help="character recurrent units per direction (0: no character encoder)",
    )
    model.add_argument(
        "--char-cell", choices=("lstm", "gru"), default="lstm", help="character recurrent cell"
    )
    model.add_argument(
        "--max-word-chars",
        type=int,
        default=20,
        help="longer tokens give the character encoder their first and last halves only",
    )
    model.add_argument(
        "--singleton-unk",
        type=float,
        default=0.5,
        help="while training, replace words seen once by the unknown word with this "
        "probability (so the unknown-word vector is learned)",
    )
    add_vocabulary_arguments(model)
    add_training_arguments(parser, **DEFAULTS)
    return parser


def _check_options(options):
    check_training_options(options)
    for name in ("recurrent_dropout", "singleton_unk"):
        value = getattr(options, name)
        if not 0.0 <= value < 1.0:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1); received {value}")
    for name in ("word_dim", "char_dim"):
        value = getattr(options, name)
        if value <= 0:
            raise UserError(
                f"--{name.replace('_', '-')} must be a positive integer; received {value}"
            )
    for name in ("casing_dim", "char_units"):
        value = getattr(options, name)
        if value < 0:
            raise UserError(f"--{name.replace('_', '-')} must be >= 0; received {value}")
    if options.max_word_chars < 2:
        raise UserError(f"--max-word-chars must be >= 2; received {options.max_word_chars}")
    if options.embeddings and not Path(options.embeddings).is_file():
        raise UserError(f"--embeddings {options.embeddings}: no such file")


def load_corpus(path, options, with_tags=True):
    """Load one file with the reading flags of `options`."""
    return ner_data.load(
        path,
        word_col=options.word_col,
        tag_col=options.tag_col,
        sentence_col=options.sentence_col,
        scheme=getattr(options, "scheme", None),
        lenient=getattr(options, "lenient", False),
        with_tags=with_tags,
    )


def _load_data(options):
    train_set = load_corpus(options.data, options)
    if options.dev:
        dev_set = load_corpus(options.dev, options)
    else:
        train_set, dev_set = ner_data.split(train_set, options.dev_fraction, options.seed)
    for corpus in (train_set, dev_set):
        if corpus.repairs:
            print(f"{corpus.source}: repaired {corpus.repairs} tag(s) (--lenient)", file=sys.stderr)
    types = train_set.entity_types()
    if not types:
        raise UserError(f"{train_set.source}: no entities in the training data (every tag is O)")
    unseen = sorted(set(dev_set.entity_types()) - set(types))
    if unseen:
        raise UserError(
            f"{dev_set.source}: entity type(s) {unseen} do not occur in the training data"
        )
    return train_set, dev_set, types


def train(options):
    """Train from parsed options; returns the metrics written to metrics.json."""
    require(options, "data", "out")
    _check_options(options)
    return in_run_directory(options, lambda run_dir: _train(options, run_dir))


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
    from seqapps.batching import pad

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


def _train(options, run_dir):
    from seqapps.training import Trainer, make_optimizer, run_config, save_run, setup_runtime

    strategy = setup_runtime(options)

    import tensorflow as tf

    from apps.ner import model as ner_model
    from seqapps.batching import bucketed_batches, dataset_from_batches
    from seqapps.text import build_vocabulary, load_word_vectors

    train_set, dev_set, types = _load_data(options)
    scheme = tagging.scheme_name(options.tag_scheme)
    tags = tagging.tag_set(types, scheme)
    tag_index = {tag: i for i, tag in enumerate(tags)}
    print(
        f"Training on {len(train_set)} sentences from {train_set.source} ({train_set.scheme}), "
        f"dev {len(dev_set)} from {dev_set.source} ({dev_set.scheme}); entity types: "
        f"{', '.join(types)}; learning {scheme} tags",
        file=sys.stderr,
    )
    distinct = sorted({token for sentence in train_set.sentences for token in sentence})
    forms = {
        token: form.decode("utf-8")
        for token, form in zip(distinct, ner_model.normalize_words(tf.constant(distinct)).numpy())
    }
    normalized = [[forms[token] for token in sentence] for sentence in train_set.sentences]
    vocabulary = build_vocabulary(normalized, options.max_vocab, options.min_count)
    char_vocabulary = build_vocabulary([list(token) for s in train_set.sentences for token in s])
    features = ner_model.TokenFeatures(
        vocabulary, char_vocabulary, options.max_word_chars, name="features"
    )
    embedding_matrix = None
    if options.embeddings:
        full = ["", "[UNK]", *vocabulary]
        embedding_matrix, found = load_word_vectors(options.embeddings, full)
        options.word_dim = embedding_matrix.shape[1]
        print(
            f"Word vectors for {found} of {len(full)} words from {options.embeddings}",
            file=sys.stderr,
        )

    train_words, train_casings, train_chars = featurize(features, train_set.sentences)
    dev_words, dev_casings, dev_chars = featurize(features, dev_set.sentences)
    train_tags = [
        np.array([tag_index[t] for t in sentence], "int32")
        for sentence in train_set.converted(scheme)
    ]
    dev_gold = dev_set.converted("IOB2")
    counts = {}
    for sentence in train_words:
        for word in sentence.tolist():
            counts[word] = counts.get(word, 0) + 1
    singletons = np.array(sorted(w for w, c in counts.items() if c == 1 and w > 1), "int32")

    multiple = 8 if options.jit else 1

    def train_batches(epoch):
        seed = options.seed + epoch
        rng = np.random.default_rng([options.seed, epoch])

        def replace(word_ids):
            if not options.singleton_unk or not len(singletons):
                return word_ids
            hit = np.isin(word_ids, singletons) & (
                rng.random(word_ids.shape) < options.singleton_unk
            )
            return np.where(hit, 1, word_ids).astype("int32")

        batches = bucketed_batches(
            [len(s) for s in train_set.sentences], options.batch_size, seed=seed
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
            lambda idx: collate(
                train_words, train_casings, train_chars, train_tags, idx, replace, multiple
            ),
            signature,
        )

    dev_batches = bucketed_batches([len(s) for s in dev_set.sentences], 128)

    def predict_dev(inference):
        if not hasattr(inference, "_seqapps_infer"):
            inference._seqapps_infer = tf.function(
                lambda x: inference(x, training=False)["tag_ids"], reduce_retracing=True
            )
        predicted = [None] * len(dev_set)
        for idx in dev_batches:
            batch = collate(dev_words, dev_casings, dev_chars, None, idx)
            ids = inference._seqapps_infer(tuple(tf.constant(x) for x in batch)).numpy()
            for row, i in enumerate(idx):
                internal = [tags[t] for t in ids[row, : len(dev_set.sentences[i])]]
                predicted[i] = tagging.convert(internal, "IOB2")
        return predicted

    def evaluate_dev(_):
        scores = tagging.entity_scores(dev_gold, predict_dev(inference))
        return {k: scores[k] for k in ("precision", "recall", "f1", "token_accuracy")}

    with strategy.scope():
        training, inference, loss = ner_model.build_tagger(
            features, tags, scheme, options, embedding_matrix
        )
        training.compile(
            optimizer=make_optimizer(options), loss=loss, jit_compile=bool(options.jit)
        )
    config = run_config(options, {"data": options.data, "dev": options.dev})
    config.update(
        tags=tags,
        tag_scheme=scheme,
        data_schemes={"data": train_set.scheme, "dev": dev_set.scheme},
        vocabulary_size=features.word_vocabulary_size,
        char_vocabulary_size=features.char_vocabulary_size,
    )
    write_run_config(run_dir, options, config)

    trainer = Trainer(training, run_dir, options, train_batches, evaluate_dev, monitor="f1")
    best = trainer.fit()

    end_to_end = ner_model.build_end_to_end(features, inference, tags)
    report = tagging.entity_scores(dev_gold, predict_dev(inference))
    report["data"] = str(dev_set.source)
    metrics = {
        "epoch": best["epoch"],
        "dev": report,
        "train_sentences": len(train_set),
        "seconds": trainer.history[-1]["seconds"] if trainer.history else 0.0,
    }
    from apps.ner.export import export

    summary = (
        f"dev entity F1 {100 * report['f1']:.2f} "
        f"(precision {100 * report['precision']:.2f}, recall {100 * report['recall']:.2f})"
    )
    save_run(
        run_dir, trainer, end_to_end, metrics, "f1", None if options.no_export else export, summary
    )
    return metrics


train_model, main = train_script("apps.ner.train", build_parser, train)


if __name__ == "__main__":
    run_main(main, prog="apps.ner.train")
