"""Train a character-level language model on names, words, short lines or running text.

The defaults are the recipe measured in apps/names/README.md (target: dev
negative log-likelihood per character at most 1.50 nats on dinos.txt).

Examples:
  python -m apps.names.train --data data/names/dinos.txt --out runs/dinos
  python -m apps.names.train --data data/tinyshakespeare/input.txt --mode text \\
      --window 100 --out runs/shakespeare
  python -m apps.names.train --data data/names/dinos.txt --cell rnn --no-clip \\
      --lr 0.05 --out runs/no_clip          # shows why gradient clipping matters
  python -m apps.names.train --init-from dinos --data my-names.txt --out runs/mine

dinos.txt: a list of dinosaur genus names, one per line (from Wikipedia's list of dinosaur
genera). input.txt: tiny-shakespeare, data/tinyshakespeare/input.txt of
https://github.com/karpathy/char-rnn. --init-from starts from the preset dinos (or a run)
and trains it further on --data.
"""

import argparse
import dataclasses
import sys

from apps.names import data as names_data
from seqapps.cli import (
    make_parser,
    open_fraction,
    positive_int,
    rate,
    require,
    run_main,
)
from seqapps.errors import UserError
from seqapps.training import (
    add_training_arguments,
    in_run_directory,
    train_script,
    write_run_config,
)

DEFAULTS = {
    "epochs": 150,
    "batch_size": 32,
    "lr": 3e-3,
    "cell": "lstm",
    "bidirectional": False,
    "units": 256,
    "layers": 1,
    "dropout": 0.5,
    "patience": 10,
    "plateau": 3,
    "clipvalue": 5.0,
    "recurrent_dropout": 0.2,
}


def build_parser():
    parser = make_parser("apps.names.train", __doc__)
    source = parser.add_argument_group("data")
    source.add_argument("--data", help="training data: one example per line, or running text")
    source.add_argument(
        "--mode",
        choices=names_data.MODES,
        default="lines",
        help="lines: one example per line (names, words); text: running text cut into windows",
    )
    source.add_argument("--dev", help="dev data (same mode); default: a seeded split of --data")
    source.add_argument(
        "--dev-fraction",
        type=open_fraction,
        default=0.1,
        help="dev share when --dev is not given (text mode: the last part of the text)",
    )
    source.add_argument(
        "--window", type=int, default=100, help="text mode: characters per training window"
    )
    source.add_argument(
        "--lowercase", action="store_true", help="fold case (the model then sees lower case only)"
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--input",
        choices=("embedding", "onehot"),
        default="embedding",
        help="characters enter as learned embeddings or as one-hot vectors",
    )
    model.add_argument(
        "--embedding-dim", type=positive_int, default=64, help="character vector size"
    )
    model.add_argument(
        "--embedding-dropout", type=rate, default=0.2, help="dropout of the character vectors"
    )
    model.add_argument(
        "--input-skip",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="the output layer also reads the previous character's vector, next to the "
        "recurrent output (a direct bigram path)",
    )
    model.add_argument(
        "--ensemble",
        type=positive_int,
        default=1,
        help="train N independent members side by side; the model scores and samples with "
        "their mean probabilities (N times the training time)",
    )
    add_training_arguments(parser, **DEFAULTS)
    extras = parser.add_argument_group("gradient clipping")
    extras.description = (
        "Gradients are clipped by value (--clipvalue, default 5) unless --clipnorm (clip by "
        "norm instead) or --no-clip is given."
    )
    extras.add_argument(
        "--no-clip",
        action="store_true",
        help="no gradient clipping at all (overrides --clipvalue and --clipnorm); the training "
        "log's grad_norm columns show what clipping would have cut",
    )
    return parser


def _check_options(options):
    require(options, "data", "out")
    if options.bidirectional:
        raise UserError(
            "--bidirectional cannot be used: a language model predicts each character from the "
            "ones before it only"
        )
    if options.no_clip:
        options.clipvalue = options.clipnorm = None
    elif options.clipnorm and options.clipvalue:
        if options.clipvalue != DEFAULTS["clipvalue"]:
            raise UserError(
                f"--clipvalue {options.clipvalue:g} and --clipnorm {options.clipnorm:g}: "
                "clip by value or by norm, not both"
            )
        options.clipvalue = None  # clipping by norm replaces the default clipping by value
    if options.window < 2:
        raise UserError(f"--window must be at least 2; received {options.window}")


def train(options, config):
    """Train from parsed options and their `TrainingConfig`; returns the kept epoch's metrics."""
    _check_options(options)
    config = dataclasses.replace(config, clipvalue=options.clipvalue, clipnorm=options.clipnorm)
    return in_run_directory(options, lambda run_dir: _train(options, config, run_dir))


def _train(options, config, run_dir):
    from seqapps.export import load_model
    from seqapps.layers import CharVocabulary
    from seqapps.training import Trainer, make_optimizer, run_config, save_run, setup_runtime
    from seqapps.training.runs import report_coverage, start_weights

    train_set, dev_set = names_data.train_and_dev(options, config.seed)
    strategy = setup_runtime(config)

    from apps.names import model as names_model
    from apps.names.batches import training_batches
    from apps.names.exporting import export
    from apps.names.scoring import Likelihood

    characters = names_data.characters(train_set)
    print(
        f"Training on {train_set.describe()} of {train_set.source}, dev {dev_set.describe()} "
        f"of {dev_set.source}; {len(characters)} distinct characters",
        file=sys.stderr,
    )
    if config.init_from:
        start = load_model(config.init_from, app="names")
        known = names_model.vocabulary_of(start)
        vocabulary = CharVocabulary.from_config(known.get_config())
        report_coverage(
            config.init_from, "characters", train_set.all_text(), set(vocabulary.characters)
        )
        characters = list(vocabulary.characters)
    else:
        vocabulary = names_model.make_vocabulary(characters, options.mode, options.lowercase)
    dev = Likelihood(vocabulary, names_data.examples(dev_set, options.window))
    unknown = dev.unknown_targets()
    if unknown:
        print(f"Dev data has {unknown} character(s) unseen in training", file=sys.stderr)

    def evaluate_dev(trainable):
        return dev(trainable.core)

    with strategy.scope():
        core = names_model.build_core(vocabulary, options, config)
        if config.init_from:
            start_weights(core, start, "names")
        trainable = names_model.GradientNormTracker(core)
        trainable.compile(optimizer=make_optimizer(config), jit_compile=config.jit)
        trainable.build_weights()
    if not options.dev and dev_set.mode == "lines":
        # The split's dev lines, so `evaluate --data RUN/dev.txt` reproduces the dev numbers.
        names_data.write_lines(run_dir / "dev.txt", dev_set.strings)
    record = run_config(options, {"data": options.data, "dev": options.dev})
    record["characters"] = characters
    write_run_config(run_dir, options, record)

    train_batches = training_batches(train_set, vocabulary, options.window, config)
    trainer = Trainer(trainable, run_dir, config, train_batches, evaluate_dev, "nll", mode="min")
    best = trainer.fit()

    # The kept weights are in `core`; write the run's files.
    dev_metrics = evaluate_dev(trainable)
    metrics = {
        "epoch": best["epoch"],
        "dev": {**dev_metrics, "characters": dev.characters, "examples": dev.examples},
        "train_examples": len(names_data.examples(train_set, options.window)),
        "grad_norm_max": max(row.get("grad_norm_max", 0.0) for row in trainer.history),
    }
    summary = (
        f"dev NLL {dev_metrics['nll']:.4f} nats per character "
        f"({dev_metrics['bits_per_char']:.3f} bits, perplexity {dev_metrics['perplexity']:.2f})"
    )
    save_run(run_dir, trainer, core, metrics, "nll", None if config.no_export else export, summary)
    return metrics


# This app's flags that shape the model (besides the recurrent stack's): an `--init-from`
# run's own are kept.
MODEL_OPTIONS = (
    "mode",
    "lowercase",
    "input",
    "embedding_dim",
    "embedding_dropout",
    "input_skip",
    "ensemble",
)

train_model, main = train_script("apps.names.train", build_parser, train, MODEL_OPTIONS)


if __name__ == "__main__":
    run_main(main, prog="apps.names.train")
