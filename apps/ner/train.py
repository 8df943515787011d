"""Train a named-entity tagger: tokens in, one entity tag per token out.

Reads CoNLL column files (IOB1, IOB2 or BIOES, detected) or GMB-style CSV tables, trains
a character + word BiLSTM with a CRF on top (`--no-crf`: a softmax), keeps the epoch with
the best dev entity F1, and writes the run directory (model.keras, config.json,
metrics.json, history.csv, curves.png, saved_model/).

Internally the tagger learns BIOES tags (`--tag-scheme`): a tag says where an entity
starts, continues, ends, or is a single token, and the CRF forbids the moves BIOES does
not allow. Predictions are written as IOB2 by default.

Examples:
  python -m apps.ner.train --data data/conll2003/eng.train \\
      --dev data/conll2003/eng.testa --out runs/conll --max-minutes 60
  python -m apps.ner.train --data ner_dataset.csv --out runs/gmb --epochs 5
  python -m apps.ner.train --init-from conll03 --data my-news.conll --out runs/mine

data/conll2003/: CoNLL-2003 English, eng.train and the dev split eng.testa, built with the
script of https://www.clips.uantwerpen.be/conll2003/ner/ from the Reuters RCV1 corpus
(research use only). WNUT-17 (wnut17train.conll, emerging.dev.conll) trains the same way:
https://noisy-text.github.io/2017/emerging-rare-entities.html. --init-from starts from a
preset (conll03, wnut17) or a run and trains it further on --data.
"""

from pathlib import Path

from apps.ner.options import add_data_arguments
from seqapps.cli import (
    int_range,
    make_parser,
    non_negative_int,
    open_fraction,
    positive_int,
    rate,
    require,
    run_main,
)
from seqapps.errors import UserError
from seqapps.training import (
    add_training_arguments,
    add_vocabulary_arguments,
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


def build_parser():
    parser = make_parser("apps.ner.train", __doc__)
    source = parser.add_argument_group("data")
    source.add_argument("--data", help="training data: a CoNLL file, or a CSV/TSV/JSONL table")
    source.add_argument("--dev", help="dev data (same formats); default: a seeded split of --data")
    source.add_argument(
        "--dev-fraction", type=open_fraction, default=0.1, help="dev share when --dev is not given"
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
    model.add_argument("--word-dim", type=positive_int, default=100, help="word vector size")
    model.add_argument(
        "--embeddings",
        help="initialise word vectors from a GloVe/word2vec text file (sets --word-dim)",
    )
    model.add_argument(
        "--casing-dim",
        type=non_negative_int,
        default=8,
        help="casing-class vector size (0: no casing)",
    )
    model.add_argument("--char-dim", type=positive_int, default=25, help="character vector size")
    model.add_argument(
        "--char-units",
        type=non_negative_int,
        default=25,
        help="character recurrent units per direction (0: no character encoder)",
    )
    model.add_argument(
        "--char-cell", choices=("lstm", "gru"), default="lstm", help="character recurrent cell"
    )
    model.add_argument(
        "--char-cnn-filters",
        type=non_negative_int,
        default=0,
        help="also encode each token's characters with a convolution of this many filters, "
        "max-pooled over the characters, beside the recurrent encoder (0: none)",
    )
    model.add_argument(
        "--char-cnn-width",
        type=positive_int,
        default=3,
        help="characters in each window of the --char-cnn-filters convolution",
    )
    model.add_argument(
        "--max-word-chars",
        type=int_range(2),
        default=20,
        help="longer tokens give the character encoder their first and last halves only",
    )
    model.add_argument(
        "--singleton-unk",
        type=rate,
        default=0.5,
        help="while training, replace words seen once by the unknown word with this "
        "probability (so the unknown-word vector is learned)",
    )
    add_vocabulary_arguments(model)
    add_training_arguments(parser, **DEFAULTS)
    return parser


def _check_options(options):
    if options.embeddings and not Path(options.embeddings).is_file():
        raise UserError(f"--embeddings {options.embeddings}: no such file")


def train(options, config):
    """Train from parsed options and their `TrainingConfig`; returns metrics.json's metrics."""
    require(options, "data", "out")
    _check_options(options)
    return in_run_directory(options, lambda run_dir: _train(options, config, run_dir))


def _train(options, config, run_dir):
    from seqapps.export import load_model
    from seqapps.training import Trainer, make_optimizer, run_config, save_run, setup_runtime
    from seqapps.training.runs import start_weights

    strategy = setup_runtime(config)

    from apps.ner import model as ner_model
    from apps.ner.exporting import export
    from apps.ner.training import TrainingData

    start = load_model(config.init_from, app="ner") if config.init_from else None
    data = TrainingData(options, config, start)
    with strategy.scope():
        training, inference, loss = ner_model.build_tagger(
            data.features, data.tags, data.scheme, options, config, data.embedding_matrix
        )
        if start is not None:
            start_weights(inference, start.get_layer(inference.name), "ner")
        training.compile(optimizer=make_optimizer(config), loss=loss, jit_compile=config.jit)
    record = run_config(options, {"data": options.data, "dev": options.dev})
    record.update(data.run_record())
    write_run_config(run_dir, options, record)

    def evaluate_dev(_):
        # Trainer hands over the training model; dev tags come from the inference model,
        # which shares its weights.
        return data.epoch_scores(inference)

    trainer = Trainer(training, run_dir, config, data.train_batches, evaluate_dev, monitor="f1")
    best = trainer.fit()

    end_to_end = ner_model.build_end_to_end(data.features, inference, data.tags)
    metrics, summary = data.metrics(inference, best, trainer.history)
    save_run(
        run_dir, trainer, end_to_end, metrics, "f1", None if config.no_export else export, summary
    )
    return metrics


# This app's flags that shape the model (besides the recurrent stack's): an `--init-from`
# run's own are kept.
MODEL_OPTIONS = (
    "crf",
    "tag_scheme",
    "word_dim",
    "casing_dim",
    "char_dim",
    "char_units",
    "char_cell",
    "char_cnn_filters",
    "char_cnn_width",
    "max_word_chars",
)

train_model, main = train_script("apps.ner.train", build_parser, train, MODEL_OPTIONS)


if __name__ == "__main__":
    run_main(main, prog="apps.ner.train")
