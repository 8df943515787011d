"""The parsed-corpus cache: one `.npz` file of `Piece`s per source file (or WJazzD solo).

An entry's name is a hash of `REPRESENTATION_VERSION`, how the file is parsed and
what identifies it (absolute path, size, modification time, melody part), so a
changed file, another melody part or a new representation is a miss.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from apps.jazz.data.pieces import Piece
from seqapps.files import atomic_path

# Bump when parsing or the token layout changes, so stale cache entries are ignored.
REPRESENTATION_VERSION = 2

_ARRAYS = ("tokens", "chords")


def default_cache_dir():
    """`$SEQAPPS_CACHE/jazz` when set, else `~/.cache/seqapps/jazz`."""
    root = os.environ.get("SEQAPPS_CACHE")
    if root:
        return Path(root) / "jazz"
    return Path.home() / ".cache" / "seqapps" / "jazz"


def file_identity(path):
    """What a cache key covers of a file: its absolute path, size and modification time."""
    path = Path(path).resolve()
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]


def cache_key(parse, identity):
    """The entry name (a hex digest) of a file parsed by `parse` with this identity."""
    text = json.dumps([REPRESENTATION_VERSION, parse, identity], default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def save_pieces(path, pieces):
    """Write `pieces` to the entry `path` (atomically)."""
    meta = [{k: v for k, v in vars(piece).items() if k not in _ARRAYS} for piece in pieces]
    arrays = {"meta": np.array(json.dumps(meta))}
    for index, piece in enumerate(pieces):
        arrays[f"tokens_{index}"] = piece.tokens.astype(np.int32)
        arrays[f"chords_{index}"] = piece.chords.astype(np.float32)
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def load_pieces(path):
    """The `Piece`s of the entry `path` (raises whatever a truncated or foreign file gives)."""
    with np.load(path, allow_pickle=False) as stored:
        meta = json.loads(str(stored["meta"]))
        return [
            Piece(tokens=stored[f"tokens_{index}"], chords=stored[f"chords_{index}"], **fields)
            for index, fields in enumerate(meta)
        ]
