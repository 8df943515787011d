"""What the corpus loaders produce: `Piece`s, the `CorpusReport` of a load, and `SourceError`."""

import dataclasses

import numpy as np

from seqapps import music


class SourceError(ValueError):
    """A file of the corpus that cannot be used; `path` is the file to blame (MIDI or table)."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclasses.dataclass
class Piece:
    """One melody with its chords on the step grid.

    Attributes:
        name: Short name (file stem, or performer_title for WJazzD).
        source: Where it came from (file path).
        tokens: `np.int32[T]` melody tokens (`seqapps.music`).
        chords: `np.float32[T, CHORD_DIM]` chord vector per step.
        beats_per_bar: Quarter-note beats per bar; step 0 is a downbeat.
        group: Pieces sharing a group (takes and parts of one solo) stay on one
            side of a train/dev split.
        notes: Number of melody notes.
        melody_part: Which score part gave the melody (empty for WJazzD).
    """

    name: str
    source: str
    tokens: np.ndarray
    chords: np.ndarray
    beats_per_bar: int = 4
    group: str = ""
    notes: int = 0
    melody_part: str = ""

    @property
    def steps(self):
        return len(self.tokens)


@dataclasses.dataclass
class CorpusReport:
    """What `load_corpus` did.

    Attributes:
        loaded: Pieces loaded.
        skipped: Files skipped (unreadable, or no notes).
        notes: Melody notes over all pieces.
        steps: Steps over all pieces.
        from_cache: Files whose pieces came from the cache.
        seconds: Wall time of the load.
        skipped_files: `(path, reason)` for each skipped file.
        melody_parts: Piece name -> the part chosen as melody (scores only).
    """

    loaded: int = 0
    skipped: int = 0
    notes: int = 0
    steps: int = 0
    from_cache: int = 0
    seconds: float = 0.0
    skipped_files: list = dataclasses.field(default_factory=list)
    melody_parts: dict = dataclasses.field(default_factory=dict)

    def summary(self):
        """One line for logs."""
        return (
            f"{self.loaded} pieces, {self.notes} notes, {self.steps} steps "
            f"({self.steps / music.STEPS_PER_BEAT:.0f} beats); {self.skipped} files skipped; "
            f"{self.from_cache} from cache; {self.seconds:.1f} s"
        )
