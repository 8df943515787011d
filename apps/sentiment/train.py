"""Train a sentiment classifier: text in, a class (stars or polarity) out.

Examples:
  python -m apps.sentiment.train --data ../shared/data/sst/train.txt \\
      --dev ../shared/data/sst/dev.txt --sst-phrases --classes 2 --out runs/sst2
  python -m apps.sentiment.train --data reviews.csv --text-col review --label-col stars \\
      --out runs/reviews
"""

import sys

import numpy as np

from apps.sentiment import data as sentiment_data
from seqapps.cli import UserError, make_parser, require, run_main
from seqapps.training import (
    add_training_arguments,
    add_vocabulary_arguments,
    check_training_options,
    in_run_directory,
    train_script,
    write_run_config,
)

OOV_ID = 1  # the vectorizer's id of the unknown word

DEFAULTS = {
    "epochs": 8,
    "batch_size": 64,
    "lr": 2e-3,
    "cell": "gru",
    "bidirectional": True,
    "units": 128,
    "layers": 1,
    "dropout": 0.5,
    "patience": 2,
    "clipnorm": 5.0,
}


def build_parser():
    parser = make_parser("apps.sentiment.train", __doc__)
    source = parser.add_argument_group("data")
    source.add_argument(
        "--data",
        help="training data: CSV/TSV/JSONL, an SST tree file, or a folder with one "
        "sub-folder of .txt files per class",
    )
    source.add_argument("--dev", help="dev data (same formats); default: a seeded split of --data")
    source.add_argument(
        "--dev-fraction", type=float, default=0.1, help="dev share when --dev is not given"
    )
    source.add_argument("--text-col", default="text", help="text column of a table")
    source.add_argument("--label-col", default="label", help="label column of a table")
    source.add_argument(
        "--classes",
        type=int,
        choices=(2, 5),
        default=5,
        help="SST only: 5 fine-grained classes, or 2 (drops neutral, as SST-2)",
    )
    source.add_argument(
        "--sst-phrases",
        action="store_true",
        help="SST only: also train on every labelled phrase of the training trees",
    )
    source.add_argument(
        "--all-phrase-occurrences",
        action="store_true",
        help="SST only, with --sst-phrases: train on every occurrence of a phrase (frequent "
        "phrases weigh more) instead of each distinct phrase once",
    )
    model = parser.add_argument_group("model")
    model.add_argument("--embedding-dim", type=int, default=128, help="word vector size")
    model.add_argument(
        "--embeddings",
        help="initialise word vectors from a GloVe/word2vec text file (sets --embedding-dim)",
    )
    model.add_argument(
        "--embedding-dropout", type=float, default=0.3, help="dropout of embedding channels"
    )
    model.add_argument(
        "--word-dropout",
        type=float,
        default=0.0,
        help="in training, replace this share of words by the unknown word (teaches the model "
        "to cope with words it never saw)",
    )
    model.add_argument(
        "--pooling",
        choices=("last", "max", "mean", "max_mean"),
        default="max_mean",
        help="how the recurrent outputs become one vector: last state, or max/mean over time",
    )
    model.add_argument(
        "--hidden-units", type=int, default=0, help="dense ReLU layer before the softmax (0: none)"
    )
    model.add_argument(
        "--ensemble",
        type=int,
        default=1,
        help="train N independent members side by side and average their probabilities "
        "(N times the training time)",
    )
    add_vocabulary_arguments(model)
    add_training_arguments(parser, **DEFAULTS)
    return parser


def _load_data(options):
    train_set = sentiment_data.load(
        options.data,
        options.text_col,
        options.label_col,
        options.classes,
        options.sst_phrases,
        unique_phrases=not options.all_phrase_occurrences,
    )
    if options.dev:
        dev_set = sentiment_data.load(
            options.dev, options.text_col, options.label_col, options.classes, False
        )
    elif options.sst_phrases:
        raise UserError(
            "--sst-phrases needs --dev (an SST dev file): a random split of phrases would put "
            "parts of dev sentences in training"
        )
    else:
        if not 0.0 < options.dev_fraction < 1.0:
            raise UserError(f"--dev-fraction must be in (0, 1); received {options.dev_fraction}")
        train_set, dev_set = sentiment_data.split(train_set, options.dev_fraction, options.seed)
    labels = sentiment_data.label_names(train_set)
    unseen = sorted(set(dev_set.labels) - set(labels))
    if unseen:
        raise UserError(f"{dev_set.source}: label(s) {unseen} do not occur in the training data")
    if len(labels) < 2:
        raise UserError(f"{train_set.source}: needs at least two classes; found {labels}")
    return train_set, dev_set, labels


def train(options):
    """Train from parsed options; returns the dev metrics of the kept epoch."""
    require(options, "data", "out")
    check_training_options(options)
    if options.ensemble < 1:
        raise UserError(f"--ensemble must be >= 1; received {options.ensemble}")
    for name in ("embedding_dropout", "recurrent_dropout", "word_dropout"):
        value = getattr(options, name)
        if not 0.0 <= value < 1.0:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1); received {value}")
    return in_run_directory(options, lambda run_dir: _train(options, run_dir))


def _train(options, run_dir):
    from seqapps.training import (
        Trainer,
        inference_function,
        run_config,
        save_run,
        setup_runtime,
    )

    strategy = setup_runtime(options)

    import tensorflow as tf

    from apps.sentiment import model as sentiment_model
    from seqapps import plots
    from seqapps.batching import bucketed_batches, dataset_from_batches, pad
    from seqapps.metrics import classification_report
    from seqapps.text import build_vocabulary, load_word_vectors, tokenize

    train_set, dev_set, labels = _load_data(options)
    label_index = {name: i for i, name in enumerate(labels)}
    print(
        f"Training on {len(train_set)} texts from {train_set.source}, dev {len(dev_set)} "
        f"from {dev_set.source}; classes: {', '.join(labels)}",
        file=sys.stderr,
    )
    vocabulary = build_vocabulary(
        tokenize(train_set.texts), max_size=options.max_vocab, min_count=options.min_count
    )
    vectorizer = sentiment_model.make_vectorizer(vocabulary)
    embedding_matrix = None
    if options.embeddings:
        full_vocabulary = vectorizer.get_vocabulary()
        embedding_matrix, found = load_word_vectors(options.embeddings, full_vocabulary)
        options.embedding_dim = embedding_matrix.shape[1]
        print(
            f"Word vectors for {found} of {len(full_vocabulary)} words from {options.embeddings}",
            file=sys.stderr,
        )

    def to_ids(texts):
        ids = []
        for start in range(0, len(texts), 8192):
            ragged = vectorizer(tf.constant(texts[start : start + 8192]))
            ids.extend(np.asarray(row, dtype="int32") for row in _rows(ragged))
        return ids

    train_ids, dev_ids = to_ids(train_set.texts), to_ids(dev_set.texts)
    train_y = np.array([label_index[x] for x in train_set.labels], dtype="int32")
    dev_y = np.array([label_index[x] for x in dev_set.labels], dtype="int32")
    train_lengths = np.array([len(x) for x in train_ids])
    multiple = 8 if options.jit else 1
    members = options.ensemble
    label_spec = tf.TensorSpec((None,), tf.int32)
    signature = (
        tf.TensorSpec((None, None), tf.int32),
        label_spec if members == 1 else (label_spec,) * members,
    )

    def targets(idx):
        return train_y[idx] if members == 1 else (train_y[idx],) * members

    def train_batches(epoch):
        batches = bucketed_batches(train_lengths, options.batch_size, seed=options.seed + epoch)
        rng = np.random.default_rng([options.seed, epoch])

        def collate(idx):
            ids = pad([train_ids[i] for i in idx], multiple)
            if options.word_dropout:
                dropped = (rng.random(ids.shape) < options.word_dropout) & (ids > 0)
                ids = np.where(dropped, OOV_ID, ids)
            return ids, targets(idx)

        return dataset_from_batches(batches, collate, signature)

    dev_batches = bucketed_batches([len(x) for x in dev_ids], 256)

    def predict_dev(core):
        if not hasattr(core, "_seqapps_infer"):
            core._seqapps_infer = inference_function(core)
        probabilities = np.zeros((len(dev_ids), len(labels)), dtype="float32")
        for idx in dev_batches:
            batch = pad([dev_ids[i] for i in idx], multiple)
            probabilities[idx] = core._seqapps_infer(batch)
        return probabilities

    def evaluate_dev(core):
        predicted = predict_dev(core).argmax(axis=1)
        report = classification_report(dev_y, predicted, labels)
        return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}

    with strategy.scope():
        trainable, core = sentiment_model.build_core(
            vectorizer.vocabulary_size(), len(labels), options, embedding_matrix
        )
        from seqapps.training import make_optimizer

        trainable.compile(
            optimizer=make_optimizer(options),
            loss="sparse_categorical_crossentropy"
            if members == 1
            else ["sparse_categorical_crossentropy"] * members,
            metrics=["accuracy"] if members == 1 else [["accuracy"]] * members,
            jit_compile=bool(options.jit),
        )
    config = run_config(options, {"data": options.data, "dev": options.dev})
    config["labels"] = labels
    config["vocabulary_size"] = vectorizer.vocabulary_size()
    write_run_config(run_dir, options, config)

    trainer = Trainer(
        trainable, run_dir, options, train_batches, lambda _: evaluate_dev(core), monitor="accuracy"
    )
    best = trainer.fit()

    # The kept weights are in `core`; write the run's files.
    ordinal = sentiment_data.is_ordinal(labels)
    end_to_end = sentiment_model.build_end_to_end(vectorizer, core, labels, ordinal)
    report = classification_report(dev_y, predict_dev(core).argmax(axis=1), labels)
    metrics = {"epoch": best["epoch"], "dev": report, "train_examples": len(train_set)}
    plots.confusion_matrix(
        report["confusion_matrix"], labels, run_dir / "confusion.png", "dev confusion matrix"
    )
    from apps.sentiment.export import export

    summary = f"dev accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}"
    save_run(
        run_dir,
        trainer,
        end_to_end,
        metrics,
        "accuracy",
        None if options.no_export else export,
        summary,
    )
    return metrics


def _rows(ragged_or_dense):
    """Rows of a vectorizer output without the trailing padding."""
    array = np.asarray(ragged_or_dense)
    for row in array:
        nonzero = np.flatnonzero(row)
        yield row[: nonzero[-1] + 1] if len(nonzero) else row[:0]


train_model, main = train_script("apps.sentiment.train", build_parser, train)


if __name__ == "__main__":
    run_main(main, prog="apps.sentiment.train")
