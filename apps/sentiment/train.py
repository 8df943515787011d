"""Train a sentiment classifier: text in, a class (stars or polarity) out.

Examples:
  python -m apps.sentiment.train --data data/sst/train.txt \\
      --dev data/sst/dev.txt --sst-phrases --classes 2 --out runs/sst2
  python -m apps.sentiment.train --data reviews.csv --text-col review --label-col stars \\
      --out runs/reviews
  python -m apps.sentiment.train --init-from sst2 --data my-reviews.csv --out runs/mine

data/sst/: the train.txt and dev.txt of the trees/ folder in trainDevTestTrees_PTB.zip, the
Stanford Sentiment Treebank (https://nlp.stanford.edu/sentiment/). --init-from starts from a
preset (sst2, sst5) or a run and trains it further on --data.
"""

import sys

from apps.sentiment import data as sentiment_data
from seqapps.cli import (
    make_parser,
    non_negative_int,
    open_fraction,
    positive_int,
    rate,
    require,
    run_main,
)
from seqapps.training import (
    add_training_arguments,
    add_vocabulary_arguments,
    in_run_directory,
    train_script,
    write_run_config,
)

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
        "--dev-fraction", type=open_fraction, default=0.1, help="dev share when --dev is not given"
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
    model.add_argument("--embedding-dim", type=positive_int, default=128, help="word vector size")
    model.add_argument(
        "--embeddings",
        help="initialise word vectors from a GloVe/word2vec text file (sets --embedding-dim)",
    )
    model.add_argument(
        "--embedding-dropout", type=rate, default=0.3, help="dropout of embedding channels"
    )
    model.add_argument(
        "--word-dropout",
        type=rate,
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
        "--hidden-units",
        type=non_negative_int,
        default=0,
        help="dense ReLU layer before the softmax (0: none)",
    )
    model.add_argument(
        "--ensemble",
        type=positive_int,
        default=1,
        help="train N independent members side by side and average their probabilities "
        "(N times the training time)",
    )
    add_vocabulary_arguments(model)
    add_training_arguments(parser, **DEFAULTS)
    return parser


def train(options, config):
    """Train from parsed options and their `TrainingConfig`; returns the kept epoch's metrics."""
    require(options, "data", "out")
    return in_run_directory(options, lambda run_dir: _train(options, config, run_dir))


def _train(options, config, run_dir):
    from seqapps.export import load_model
    from seqapps.text.words import tokenize
    from seqapps.training import Trainer, make_optimizer, run_config, save_run, setup_runtime
    from seqapps.training.runs import report_coverage, start_weights

    strategy = setup_runtime(config)

    from apps.sentiment import model as sentiment_model
    from apps.sentiment.batches import DevSet, padding_multiple, token_ids, training_batches
    from apps.sentiment.exporting import export
    from seqapps.training import plots

    train_set, dev_set, labels = sentiment_data.train_and_dev(options, config.seed)
    print(
        f"Training on {len(train_set)} texts from {train_set.source}, dev {len(dev_set)} "
        f"from {dev_set.source}; classes: {', '.join(labels)}",
        file=sys.stderr,
    )
    start = None
    if config.init_from:
        start = load_model(config.init_from, app="sentiment")
        labels = sentiment_model.adopt_labels(start, labels, train_set.source)
        known = sentiment_model.vectorizer_of(start).get_vocabulary()[2:]  # after PAD and OOV
        vectorizer = sentiment_model.make_vectorizer(known)
        words = [word for tokens in tokenize(train_set.texts) for word in tokens]
        report_coverage(config.init_from, "words", words, set(known))
    else:
        vectorizer = sentiment_model.fit_vectorizer(
            train_set.texts, options.max_vocab, options.min_count
        )
    embedding_matrix = None
    if options.embeddings and start is None:
        embedding_matrix, found, words = sentiment_model.pretrained_embeddings(
            vectorizer, options.embeddings
        )
        options.embedding_dim = embedding_matrix.shape[1]
        print(
            f"Word vectors for {found} of {words} words from {options.embeddings}", file=sys.stderr
        )

    train_batches = training_batches(
        token_ids(vectorizer, train_set.texts),
        sentiment_data.class_ids(train_set.labels, labels),
        options,
        config,
    )
    dev = DevSet(
        token_ids(vectorizer, dev_set.texts),
        sentiment_data.class_ids(dev_set.labels, labels),
        labels,
        padding_multiple(config),
    )

    with strategy.scope():
        trainable, core = sentiment_model.build_core(
            vectorizer.vocabulary_size(), len(labels), options, config, embedding_matrix
        )
        if start is not None:
            start_weights(core, start.get_layer(core.name), "sentiment")
        trainable.compile(
            optimizer=make_optimizer(config),
            **sentiment_model.training_losses(options.ensemble),
            jit_compile=config.jit,
        )
    record = run_config(options, {"data": options.data, "dev": options.dev})
    record["labels"] = labels
    record["vocabulary_size"] = vectorizer.vocabulary_size()
    write_run_config(run_dir, options, record)

    trainer = Trainer(
        trainable, run_dir, config, train_batches, lambda _: dev.metrics(core), monitor="accuracy"
    )
    best = trainer.fit()

    # The kept weights are in `core`; write the run's files.
    ordinal = sentiment_data.is_ordinal(labels)
    end_to_end = sentiment_model.build_end_to_end(vectorizer, core, labels, ordinal)
    report = dev.report(core)
    metrics = {"epoch": best["epoch"], "dev": report, "train_examples": len(train_set)}
    plots.confusion_matrix(
        report["confusion_matrix"], labels, run_dir / "confusion.png", "dev confusion matrix"
    )
    summary = f"dev accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}"
    save_run(
        run_dir,
        trainer,
        end_to_end,
        metrics,
        "accuracy",
        None if config.no_export else export,
        summary,
    )
    return metrics


# This app's flags that shape the model (besides the recurrent stack's): an `--init-from`
# run's own are kept.
MODEL_OPTIONS = (
    "classes",
    "embedding_dim",
    "embedding_dropout",
    "pooling",
    "hidden_units",
    "ensemble",
)

train_model, main = train_script("apps.sentiment.train", build_parser, train, MODEL_OPTIONS)


if __name__ == "__main__":
    run_main(main, prog="apps.sentiment.train")
