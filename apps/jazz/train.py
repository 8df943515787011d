"""Train a jazz improviser: an LSTM that learns solo lines over chord progressions.

With no --data it trains on lead sheets and a rag bundled with music21 (no
download). For real jazz, point it at the Weimar Jazz Database folder.

Examples:
  python -m apps.jazz.train --out runs/music21-demo --epochs 3
  python -m apps.jazz.train --data ../shared/data/jazz/wjazzd --out runs/wjazzd
  python -m apps.jazz.train --data ../shared/data/jazz/original_metheny.mid --out runs/metheny
"""

import argparse
import sys

import numpy as np

from seqapps import music
from seqapps.cli import UserError, make_parser, require, run_main
from seqapps.training import (
    add_training_arguments,
    check_training_options,
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
        "--dev-fraction", type=float, default=0.1, help="dev share when --dev is not given"
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
    model.add_argument("--embedding-dim", type=int, default=32, help="token vector size")
    model.add_argument(
        "--recurrent-dropout", type=float, default=0.0, help="dropout on recurrent connections"
    )
    model.add_argument(
        "--input-skip",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the output layer also reads the step's token, chord and position features",
    )
    model.add_argument(
        "--window-bars",
        type=int,
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


def load_pieces(specs, options, role):
    from apps.jazz import data

    pieces, report = data.load_corpus(
        specs, melody_part=options.melody_part, cache_dir=options.cache_dir
    )
    print(f"{role}: {report.summary()}", file=sys.stderr)
    return pieces


def training_windows(pieces, window_bars, rng=None, transpose=False):
    """Windows of `window_bars` bars, each starting on a downbeat.

    Args:
        pieces: `apps.jazz.data.Piece`s.
        window_bars: Bars per window.
        rng: Picks each piece's first window start (a random bar) and the
            keys; None: start at bar 0, keep the key.
        transpose: Move each window to a random key (needs `rng`).

    Returns:
        List of `(tokens, chords, beats_per_bar)`; windows without notes are dropped.
    """
    windows = []
    for piece in pieces:
        bar = music.STEPS_PER_BEAT * piece.beats_per_bar
        length = window_bars * bar
        offset = int(rng.integers(window_bars)) * bar if rng is not None else 0
        starts = ([0] if offset else []) + list(range(offset, piece.steps, length))
        for index, start in enumerate(starts):
            end = offset if (offset and index == 0) else start + length
            tokens = piece.tokens[start:end]
            if not np.any(tokens >= music.NOTE_OFFSET):
                continue
            chords = piece.chords[start:end]
            if transpose:
                tokens, chords = music.transpose(tokens, chords, int(rng.integers(-6, 6)))
            windows.append((tokens, chords, piece.beats_per_bar))
    return windows


def window_batch(windows):
    """Model inputs, targets and weights for a list of windows (right-padded)."""
    from apps.jazz.model import metrical_positions
    from seqapps.batching import pad

    targets = pad([w[0] for w in windows])
    length = targets.shape[1]
    previous = np.full_like(targets, music.START)
    previous[:, 1:] = targets[:, :-1]
    chords = pad([w[1] for w in windows], dtype="float32")
    positions = [metrical_positions(length, w[2]) for w in windows]
    step_in_beat = np.stack([p[0] for p in positions])
    beat_in_bar = np.stack([p[1] for p in positions])
    weights = (targets != music.PAD).astype("float32")
    return (previous, chords, step_in_beat, beat_in_bar), targets, weights


def token_scores(infer, windows, batch_size=64):
    """Negative log-likelihood (nats per token) and accuracy of the real tokens of `windows`."""
    total_nll, correct, count = 0.0, 0, 0
    order = np.argsort([len(w[0]) for w in windows], kind="stable")
    for start in range(0, len(windows), batch_size):
        inputs, targets, weights = window_batch(
            [windows[i] for i in order[start : start + batch_size]]
        )
        logits = infer(inputs).astype("float64")
        logits -= logits.max(axis=-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        chosen = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
        mask = weights > 0
        total_nll -= chosen[mask].sum()
        correct += int((log_probs.argmax(axis=-1) == targets)[mask].sum())
        count += int(mask.sum())
    if count == 0:
        raise UserError("the dev pieces have no notes to score")
    return {"nll": total_nll / count, "accuracy": correct / count, "tokens": count}


def check_options(options):
    check_training_options(options)
    if options.bidirectional:
        raise UserError(
            "--bidirectional cannot generate: an improviser reads the past only; "
            "use --no-bidirectional"
        )
    if options.window_bars < 1:
        raise UserError(f"--window-bars must be >= 1; received {options.window_bars}")
    if options.embedding_dim < 1:
        raise UserError(f"--embedding-dim must be >= 1; received {options.embedding_dim}")
    if not 0.0 <= options.recurrent_dropout < 1.0:
        raise UserError(
            f"--recurrent-dropout must be in [0, 1); received {options.recurrent_dropout}"
        )


def train(options):
    """Train from parsed options; returns the metrics written to metrics.json."""
    require(options, "out")
    check_options(options)
    return in_run_directory(options, lambda run_dir: _train(options, run_dir))


def split_pieces(options):
    """`(train, dev)` pieces as the options describe them (also used by evaluate)."""
    from apps.jazz import data

    pieces = load_pieces(options.data, options, "corpus")
    if options.dev:
        dev = load_pieces(options.dev, options, "dev")
        return pieces, dev
    train_pieces, dev = data.split_dev(pieces, options.dev_fraction, options.seed)
    if not dev:
        train_pieces, dev = split_endings(pieces, options.dev_fraction)
        print(
            f"One piece (or one group of takes): its last {options.dev_fraction:.0%} of bars are "
            "the dev set",
            file=sys.stderr,
        )
    return train_pieces, dev


def split_endings(pieces, fraction):
    """Hold out the last `fraction` of each piece's bars (for a corpus of one piece).

    Returns:
        `(train, dev)`: the openings and the endings, cut at a bar line.
    """
    import dataclasses

    if not 0 < fraction < 1:
        raise UserError(f"--dev-fraction must be in (0, 1); received {fraction}")
    train_pieces, dev = [], []
    for piece in pieces:
        bar = music.STEPS_PER_BEAT * piece.beats_per_bar
        bars = piece.steps // bar
        if bars < 2:
            raise UserError(f"{piece.source}: {bars} bar(s) are too few to hold out a dev part")
        cut = min(bars - 1, max(1, round(bars * (1 - fraction)))) * bar
        for part, start, end in ((train_pieces, 0, cut), (dev, cut, piece.steps)):
            tokens = piece.tokens[start:end]
            part.append(
                dataclasses.replace(
                    piece,
                    name=f"{piece.name}[{start // bar + 1}:{end // bar}]",
                    tokens=tokens,
                    chords=piece.chords[start:end],
                    notes=int(np.sum(tokens >= music.NOTE_OFFSET)),
                )
            )
    return train_pieces, dev


def _train(options, run_dir):
    from seqapps.training import (
        Trainer,
        inference_function,
        make_optimizer,
        run_config,
        save_run,
        setup_runtime,
    )

    strategy = setup_runtime(options)

    import tensorflow as tf

    from apps.jazz import model as jazz_model
    from seqapps.batching import bucketed_batches, dataset_from_batches

    train_pieces, dev_pieces = split_pieces(options)
    print(
        f"Training on {len(train_pieces)} pieces, dev {len(dev_pieces)} pieces",
        file=sys.stderr,
    )
    dev_windows = training_windows(dev_pieces, options.window_bars)
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
        rng = np.random.default_rng([options.seed, epoch])
        windows = training_windows(
            train_pieces, options.window_bars, rng, transpose=options.transpose == "all"
        )
        batches = bucketed_batches(
            [len(w[0]) for w in windows], options.batch_size, seed=options.seed + epoch
        )
        # The windows drew the epoch's random numbers; making a batch draws none, so a
        # resumed epoch just leaves its first `skip` batches out.
        return dataset_from_batches(
            batches[skip:], lambda idx: window_batch([windows[i] for i in idx]), signature
        )

    def evaluate_dev(model):
        if not hasattr(model, "_seqapps_infer"):
            model._seqapps_infer = inference_function(model)
        scores = token_scores(model._seqapps_infer, dev_windows)
        return {"nll": scores["nll"], "accuracy": scores["accuracy"]}

    with strategy.scope():
        model = jazz_model.build_model(options)
        model.compile(
            optimizer=make_optimizer(options),
            loss=jazz_model.token_loss(),
            weighted_metrics=["accuracy"],
            jit_compile=bool(options.jit),
        )
    config = run_config(
        options, {"data": options.data, "dev": options.dev, "cache_dir": options.cache_dir}
    )
    config["representation"] = {
        "steps_per_beat": music.STEPS_PER_BEAT,
        "lowest_pitch": music.LOWEST_PITCH,
        "highest_pitch": music.HIGHEST_PITCH,
        "vocab_size": music.VOCAB_SIZE,
    }
    write_run_config(run_dir, options, config)

    trainer = Trainer(
        model, run_dir, options, train_batches, evaluate_dev, monitor="nll", mode="min"
    )
    best = trainer.fit()

    metrics = {
        "epoch": best["epoch"],
        "dev": {k: v for k, v in best.items() if k != "epoch"},
        "train_pieces": len(train_pieces),
        "dev_pieces": len(dev_pieces),
        "dev_piece_names": [piece.name for piece in dev_pieces],
    }
    from apps.jazz.export import export

    summary = f"dev NLL {best['nll']:.4f} nats/step, accuracy {best['accuracy']:.4f}"
    save_run(
        run_dir, trainer, model, metrics, "nll", None if options.no_export else export, summary
    )
    return metrics


train_model, main = train_script("apps.jazz.train", build_parser, train)


if __name__ == "__main__":
    run_main(main, prog="apps.jazz.train")
