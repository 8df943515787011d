"""What training and evaluation read: a run's train/dev pieces, cut into windows and batched.

`split_pieces` loads the corpus the options name and splits it (`--dev`, or a
seeded share of the groups, or for one piece its last bars); `training_windows`
cuts pieces into windows of whole bars starting on a downbeat; `window_batch`
makes the model's teacher-forced inputs of a list of windows; `token_scores`
gives their negative log-likelihood and accuracy.
"""

import sys

import numpy as np

from apps.jazz import data
from apps.jazz.model import metrical_positions
from seqapps import music
from seqapps.batching import pad
from seqapps.cli import UserError


def load_pieces(specs, options, role):
    """`data.load_corpus` with the options' melody part and cache; logs a summary line."""
    pieces, report = data.load_corpus(
        specs, melody_part=options.melody_part, cache_dir=options.cache_dir
    )
    print(f"{role}: {report.summary()}", file=sys.stderr)
    return pieces


def split_pieces(options):
    """`(train, dev)` pieces as a run's options (`data`, `dev`, `dev_fraction`, `seed`) say."""
    pieces = load_pieces(options.data, options, "corpus")
    if options.dev:
        return pieces, load_pieces(options.dev, options, "dev")
    train_pieces, dev = data.split_dev(pieces, options.dev_fraction, options.seed)
    if not dev:
        train_pieces, dev = data.split_endings(pieces, options.dev_fraction)
        print(
            f"One piece (or one group of takes): its last {options.dev_fraction:.0%} of bars are "
            "the dev set",
            file=sys.stderr,
        )
    return train_pieces, dev


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
