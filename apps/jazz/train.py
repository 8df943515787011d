"""Train a jazz improviser: an LSTM that learns solo lines over chord progressions.

With no --data it trains on lead sheets and a rag bundled with music21 (no
download). For real jazz, point it at the Weimar Jazz Database folder.

Examples:
  python -m apps.jazz.train --out runs/music21-demo --epochs 3
  python -m apps.jazz.train --data path/to/wjazzd --out runs/wjazzd
  python -m apps.jazz.train --data path/to/original_metheny.mid --out runs/metheny
  python -m apps.jazz.train --init-from wjazzd --data my-solos/ --out runs/mine

path/to/wjazzd: the Weimar Jazz Database (https://jazzomat.hfm-weimar.de/, ODbL), a folder
with its solo MIDI files in midi/, its beats tables as CSV in beats/ and an index.csv
pairing them (see apps/jazz/README.md).

original_metheny.mid: midi/original_metheny.mid of https://github.com/jisungk/deepjazz (any
MIDI file with a melody works). --init-from starts from the preset wjazzd (or a run) and
trains it further on --data.
"""

import argparse
import sys

import numpy as np

from apps.jazz import model as jazz_model
from apps.jazz import windows
from apps.jazz.exporting import export
from seqapps import music
from seqapps.cli import make_parser, open_fraction, positive_int, require, run_main
from seqapps.errors import UserError
from seqapps.training import (
    add_training_arguments,
    in_run_directory,
    train_script,
    write_run_config,
)

DEFAULTS = {
    "epochs": 20,
    "batch_size": 32,
    "lr": 2e-3,
    "cell": "lstm",
    "bidirectional": False,
    "units": 256,
    "layers": 2,
    "dropout": 0.2,
    "patience": 3,
    "clipnorm": 1.0,
}


def build_parser():
    parser = make_parser("apps.jazz.train", __doc__)
    source = parser.add_argument_group("data")
    source.add_argument(
        "--data",
        action="append",
        help="training corpus, repeatable: a MIDI/MusicXML/ABC file or folder, "
        "'music21:<composer-or-path>' (music21's bundled corpus), or a Weimar Jazz Database "
        "folder (default: music21:leadSheet and music21:joplin)",
    )
    source.add_argument(
        "--dev",
        action="append",
        help="dev corpus (same forms, repeatable); default: a seeded split of --data that keeps "
        "takes and parts of one solo together",
    )
    source.add_argument(
        "--dev-fraction", type=open_fraction, default=0.1, help="dev share when --dev is not given"
    )
    source.add_argument(
        "--melody-part",
        help="the melody part of score files, by index or name (default: the highest "
        "monophonic part)",
    )
    source.add_argument(
        "--cache-dir", help="where parsed pieces are cached (default ~/.cache/seqapps/jazz)"
    )
    model = parser.add_argument_group("model")
    model.add_argument("--embedding-dim", type=positive_int, default=32, help="token vector size")
    model.add_argument(
        "--input-skip",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the output layer also reads the step's token, chord and position features",
    )
    model.add_argument(
        "--window-bars",
        type=positive_int,
        default=8,
        help="training windows of this many bars, starting on a downbeat at a random bar each "
        "epoch",
    )
    model.add_argument(
        "--transpose",
        choices=("all", "none"),
        default="all",
        help="all: move each training window to a random one of the 12 keys every epoch",
    )
    add_training_arguments(parser, **DEFAULTS)
    return parser


def check_options(options):
    if options.bidirectional:
        raise UserError(
            "--bidirectional cannot generate: an improviser reads the past only; "
            "use --no-bidirectional"
        )


def train(options, config):
    """Train from parsed options and their `TrainingConfig`; returns metrics.json's metrics."""
    require(options, "out")
    check_options(options)
    return in_run_directory(options, lambda run_dir: _train(options, config, run_dir))


def _train(options, config, run_dir):
    from seqapps.training import (
        Trainer,
        inference_function,
        make_optimizer,
        run_config,
        save_run,
        setup_runtime,
    )
    from seqapps.training.runs import start_weights

    strategy = setup_runtime(config)

    import tensorflow as tf

    from seqapps.training.batching import bucketed_batches, dataset_from_batches

    train_pieces, dev_pieces = windows.split_pieces(options, config.seed)
    print(
        f"Training on {len(train_pieces)} pieces, dev {len(dev_pieces)} pieces",
        file=sys.stderr,
    )
    dev_windows = windows.training_windows(dev_pieces, options.window_bars)
    if not dev_windows:
        raise UserError("the dev pieces have no notes")

    signature = (
        (
            tf.TensorSpec((None, None), tf.int32),
            tf.TensorSpec((None, None, music.CHORD_DIM), tf.float32),
            tf.TensorSpec((None, None), tf.int32),
            tf.TensorSpec((None, None), tf.int32),
        ),
        tf.TensorSpec((None, None), tf.int32),
        tf.TensorSpec((None, None), tf.float32),
    )

    def train_batches(epoch, skip=0):
        rng = np.random.default_rng([config.seed, epoch])
        epoch_windows = windows.training_windows(
            train_pieces, options.window_bars, rng, transpose=options.transpose == "all"
        )
        batches = bucketed_batches(
            [len(w[0]) for w in epoch_windows], config.batch_size, seed=config.seed + epoch
        )
        # The windows drew the epoch's random numbers; making a batch draws none, so a
        # resumed epoch just leaves its first `skip` batches out.
        return dataset_from_batches(
            batches[skip:],
            lambda idx: windows.window_batch([epoch_windows[i] for i in idx]),
            signature,
        )

    def evaluate_dev(model):
        if not hasattr(model, "_seqapps_infer"):
            model._seqapps_infer = inference_function(model)
        scores = windows.token_scores(model._seqapps_infer, dev_windows)
        return {"nll": scores["nll"], "accuracy": scores["accuracy"]}

    with strategy.scope():
        model = jazz_model.build_model(options, config)
        if config.init_from:
            # The token vocabulary is every pitch of the range: new data has no unknown token.
            start_weights(model, config.init_from, "jazz")
        model.compile(
            optimizer=make_optimizer(config),
            loss=jazz_model.token_loss(),
            weighted_metrics=["accuracy"],
            jit_compile=config.jit,
        )
    record = run_config(
        options, {"data": options.data, "dev": options.dev, "cache_dir": options.cache_dir}
    )
    record["representation"] = {
        "steps_per_beat": music.STEPS_PER_BEAT,
        "lowest_pitch": music.LOWEST_PITCH,
        "highest_pitch": music.HIGHEST_PITCH,
        "vocab_size": music.VOCAB_SIZE,
    }
    write_run_config(run_dir, options, record)

    trainer = Trainer(
        model, run_dir, config, train_batches, evaluate_dev, monitor="nll", mode="min"
    )
    best = trainer.fit()

    metrics = {
        "epoch": best["epoch"],
        "dev": {k: v for k, v in best.items() if k != "epoch"},
        "train_pieces": len(train_pieces),
        "dev_pieces": len(dev_pieces),
        "dev_piece_names": [piece.name for piece in dev_pieces],
    }
    summary = f"dev NLL {best['nll']:.4f} nats/step, accuracy {best['accuracy']:.4f}"
    save_run(
        run_dir,
        trainer,
        model,
        metrics,
        "nll",
        None if config.no_export else export,
        summary,
    )
    return metrics


# This app's flags that shape the model (besides the recurrent stack's): an `--init-from`
# run's own are kept.
MODEL_OPTIONS = (
    "embedding_dim",
    "input_skip",
)

train_model, main = train_script("apps.jazz.train", build_parser, train, MODEL_OPTIONS)


if __name__ == "__main__":
    run_main(main, prog="apps.jazz.train")
