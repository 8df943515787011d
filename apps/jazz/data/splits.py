"""Train/dev splits of a corpus: by group of takes, or (one piece) its last bars."""

import dataclasses
from collections import Counter

import numpy as np

from seqapps import music
from seqapps.cli import UserError


def split_dev(pieces, fraction, seed=0):
    """Split pieces into train and dev by group, so related takes stay together.

    Groups are shuffled with `seed`, then moved to dev until it holds at least
    `fraction` of the pieces. With a single group everything stays in train.

    Args:
        pieces: `Piece`s.
        fraction: Share of pieces for dev (0 for none).
        seed: Shuffle seed.

    Returns:
        `(train, dev)` lists of pieces, each in the input order.
    """
    if not 0 <= fraction < 1:
        raise UserError(f"dev fraction {fraction}: must be in [0, 1)")
    groups = sorted({piece.group or piece.name for piece in pieces})
    if fraction == 0 or len(groups) < 2:
        return list(pieces), []
    order = np.random.default_rng(seed).permutation(len(groups))
    wanted = max(1, round(fraction * len(pieces)))
    dev_groups = set()
    in_dev = 0
    sizes = Counter(piece.group or piece.name for piece in pieces)
    for index in order:
        if in_dev >= wanted or len(dev_groups) == len(groups) - 1:
            break
        dev_groups.add(groups[index])
        in_dev += sizes[groups[index]]
    train = [piece for piece in pieces if (piece.group or piece.name) not in dev_groups]
    dev = [piece for piece in pieces if (piece.group or piece.name) in dev_groups]
    return train, dev


def split_endings(pieces, fraction):
    """Hold out the last `fraction` of each piece's bars (for a corpus of one piece).

    Returns:
        `(train, dev)`: the openings and the endings, cut at a bar line.
    """
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
