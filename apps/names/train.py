"""Train a character-level language model on names, words, short lines or running text.

The defaults are the recipe measured in apps/names/README.md (target: dev
negative log-likelihood per character at most 1.50 nats on dinos.txt).

Examples:
  python -m apps.names.train --data ../shared/data/names/dinos.txt --out runs/dinos
  python -m apps.names.train --data ../shared/data/tinyshakespeare/input.txt --mode text \\
      --window 100 --out runs/shakespeare
  python -m apps.names.train --data ../shared/data/names/dinos.txt --cell rnn --no-clip \\
      --lr 0.05 --out runs/no_clip          # shows why gradient clipping matters
"""

import argparse
import math
import sys

from apps.names import data as names_data
from seqapps.cli import UserError, make_parser, require, run_main
from seqapps.files import write_text
from seqapps.training import (
    add_training_arguments,
    check_training_options,
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
        type=float,
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
    model.add_argument("--embedding-dim", type=int, default=64, help="character vector size")
    model.add_argument(
        "--embedding-dropout", type=float, default=0.2, help="dropout of the character vectors"
    )
    model.add_argument(
        "--recurrent-dropout", type=float, default=0.2, help="dropout on recurrent connections"
    )
    model.add_argument(
        "--input-skip",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="the output layer also reads the previous character's vector, next to the "
        "recurrent output (a direct bigram path)",
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
    check_training_options(options)
    if options.no_clip:
        options.clipvalue = options.clipnorm = None
    elif options.clipnorm and options.clipvalue:
        if options.clipvalue != DEFAULTS["clipvalue"]:
            raise UserError(
                f"--clipvalue {options.clipvalue:g} and --clipnorm {options.clipnorm:g}: "
                "clip by value or by norm, not both"
            )
        options.clipvalue = None  # clipping by norm replaces the default clipping by value
    if options.embedding_dim <= 0:
        raise UserError(
            f"--embedding-dim must be a positive integer; received {options.embedding_dim}"
        )
    if options.window < 2:
        raise UserError(f"--window must be at least 2; received {options.window}")
    for name in ("embedding_dropout", "recurrent_dropout"):
        value = getattr(options, name)
        if not 0.0 <= value < 1.0:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1); received {value}")


def _load_data(options):
    train_set = names_data.load(options.data, options.mode, options.lowercase)
    if options.dev:
        dev_set = names_data.load(options.dev, options.mode, options.lowercase)
    else:
        window = options.window if options.mode == "text" else None
        train_set, dev_set = names_data.split(train_set, options.dev_fraction, options.seed, window)
    return train_set, dev_set


def train(options):
    """Train from parsed options; returns the metrics of the kept epoch."""
    _check_options(options)
    return in_run_directory(options, lambda run_dir: _train(options, run_dir))


def _examples(corpus, options, offset=0):
    if corpus.mode == "lines":
        return corpus.strings
    # Windows one character longer than the model's input: the last is only a target.
    return names_data.windows(corpus.text, options.window + 1, offset)


def _train(options, run_dir):
    from seqapps.training import Trainer, make_optimizer, run_config, save_run, setup_runtime

    train_set, dev_set = _load_data(options)
    strategy = setup_runtime(options)

    import tensorflow as tf

    from apps.names import model as names_model
    from seqapps.batching import bucketed_batches, dataset_from_batches
    from seqapps.layers import CharVocabulary

    characters = names_data.characters(train_set)
    print(
        f"Training on {train_set.describe()} of {train_set.source}, dev {dev_set.describe()} "
        f"of {dev_set.source}; {len(characters)} distinct characters",
        file=sys.stderr,
    )
    vocabulary = CharVocabulary(
        characters,
        lowercase=options.lowercase,
        terminated=options.mode == "lines",
        name="vocabulary",
    )
    dev_pairs = names_model.encode_examples(vocabulary, _examples(dev_set, options))
    unknown = sum(pair[1].count(CharVocabulary.UNKNOWN_ID) for pair in dev_pairs)
    if unknown:
        print(f"Dev data has {unknown} character(s) unseen in training", file=sys.stderr)
    multiple = 8 if options.jit else 1
    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, None), tf.int32))

    def train_batches(epoch, skip=0):
        # Text mode shifts the window boundaries every epoch.
        offset = epoch * 7919 % options.window if options.mode == "text" else 0
        pairs = names_model.encode_examples(vocabulary, _examples(train_set, options, offset))
        batches = bucketed_batches(
            [len(pair[0]) for pair in pairs], options.batch_size, seed=options.seed + epoch
        )
        # Making a batch draws no random numbers: a resumed epoch just leaves the first out.
        return dataset_from_batches(
            batches[skip:], lambda idx: names_model.padded(pairs, idx, multiple), signature
        )

    dev_characters = sum(len(pair[1]) for pair in dev_pairs)

    def evaluate_dev(trainable):
        values = names_model.target_log_probs(trainable.core, dev_pairs)
        nll = -float(sum(v.sum() for v in values)) / dev_characters
        return {"nll": nll, "bits_per_char": nll / math.log(2), "perplexity": math.exp(nll)}

    with strategy.scope():
        core = names_model.build_core(vocabulary, options)
        trainable = names_model.GradientNormTracker(core)
        trainable.compile(optimizer=make_optimizer(options), jit_compile=bool(options.jit))
        # A subclassed model is built by its first call; `--resume` loads weights into it
        # before any training step, so build it here (no dropout runs outside training).
        trainable(tf.zeros((1, 1), tf.int32))
    if not options.dev and dev_set.mode == "lines":
        # The split's dev lines, so `evaluate --data RUN/dev.txt` reproduces the dev numbers.
        write_text(run_dir / "dev.txt", "".join(f"{line}\n" for line in dev_set.strings))
    config = run_config(options, {"data": options.data, "dev": options.dev})
    config["characters"] = characters
    write_run_config(run_dir, options, config)

    trainer = Trainer(trainable, run_dir, options, train_batches, evaluate_dev, "nll", mode="min")
    best = trainer.fit()

    # The kept weights are in `core`; write the run's files.
    dev_metrics = evaluate_dev(trainable)
    metrics = {
        "epoch": best["epoch"],
        "dev": {**dev_metrics, "characters": dev_characters, "examples": len(dev_pairs)},
        "train_examples": len(_examples(train_set, options)),
        "grad_norm_max": max(row.get("grad_norm_max", 0.0) for row in trainer.history),
    }
    from apps.names.export import export

    summary = (
        f"dev NLL {dev_metrics['nll']:.4f} nats per character "
        f"({dev_metrics['bits_per_char']:.3f} bits, perplexity {dev_metrics['perplexity']:.2f})"
    )
    save_run(run_dir, trainer, core, metrics, "nll", None if options.no_export else export, summary)
    return metrics


train_model, main = train_script("apps.names.train", build_parser, train)


if __name__ == "__main__":
    run_main(main, prog="apps.names.train")
