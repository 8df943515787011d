"""Chord symbols in jazz notation: parsing, chord vectors, progressions, voicings.

A chord conditions the melody as one `CHORD_DIM` = 13 vector per step: twelve
pitch-class flags (C = 0) and a "no chord" flag. `parse_chord_symbol` reads
lead-sheet and WJazzD symbols; `parse_progression` reads bars separated by `|`.
"""

import dataclasses
import re

import numpy as np

from seqapps.errors import UserError
from seqapps.music.tokens import STEPS_PER_BEAT

CHORD_DIM = 13
NO_CHORD = 12

_PITCH_CLASS_OF_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL_SHIFT = {"b": -1, "♭": -1, "#": 1, "♯": 1}
_NO_CHORD_SYMBOLS = {"", "N.C.", "N.C", "NC", "N/C", "NO CHORD"}
_PITCH_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclasses.dataclass(frozen=True)
class Chord:
    """A parsed chord symbol.

    Attributes:
        root: Pitch class of the root (C = 0), or None for "no chord".
        pitch_classes: Sorted pitch classes the chord holds (empty for no chord).
        symbol: The symbol as written.
        bass: Pitch class of a slash bass (`C7/E`), or None.
    """

    root: int | None
    pitch_classes: tuple[int, ...]
    symbol: str
    bass: int | None = None

    @property
    def is_no_chord(self):
        return self.root is None


NO_CHORD_CHORD = Chord(root=None, pitch_classes=(), symbol="N.C.")


# Offsets of the tensions above the root, by degree and alteration.
_DEGREE_OFFSETS = {2: 2, 4: 5, 9: 2, 11: 5, 13: 9}
_QUALITY_WORDS = (
    # Longest first, so `min` is not read as `m` + `in`.
    ("maj", "major"),
    ("min", "minor"),
    ("dim", "diminished"),
    ("aug", "augmented"),
    ("sus", "sus"),
    ("add", "add"),
    ("alt", "altered"),
    ("mi", "minor"),
    ("ma", "major"),
    ("m", "minor"),
    ("M", "major"),
    ("j", "major"),
    ("Δ", "major"),
    ("^", "major"),
    ("-", "minor"),
    ("+", "augmented"),
    ("o", "diminished"),
    ("°", "diminished"),
    ("ø", "half-diminished"),
)
# Stacked degrees are written without separators (`7911` is 7 9 11).
_NUMBER = re.compile(r"1[13]|[2-9]")


def _invalid(text):
    return ValueError(f"unrecognised chord symbol {text!r}")


def _parse_root(text, symbol):
    if not text or text[0] not in _PITCH_CLASS_OF_LETTER:
        raise _invalid(symbol)
    pitch_class = _PITCH_CLASS_OF_LETTER[text[0]]
    position = 1
    while position < len(text) and text[position] in _ACCIDENTAL_SHIFT and position < 3:
        pitch_class += _ACCIDENTAL_SHIFT[text[position]]
        position += 1
    return pitch_class % 12, text[position:]


def _uses_trailing_accidentals(tail):
    """Whether alterations follow their degree, as in WJazzD's `79b13` (b9 and 13).

    WJazzD stacks the degrees after the seventh or sixth (`7911#`, `69`) and
    writes an alteration after its number; lead sheets write it before (`7b9#11`).
    """
    stripped = tail.lstrip("jΔ^+-mo")
    return bool(re.match(r"(7|6)(9|11|13)", stripped)) or bool(re.search(r"\d[b#♭♯]$", tail))


def parse_chord_symbol(text):
    """Parse a jazz chord symbol into its root and pitch classes.

    Syntax: a root `A`-`G` with accidentals `b`/`#` (or `♭`/`♯`), then a quality
    and extensions:

    * minor: `-`, `m`, `mi`, `min`; major seventh: `j7`, `maj7`, `M7`, `Δ`, `^7`
      (`-j7`, `mM7`, `m(maj7)` for minor-major); `6`, `69`, `7`, `9`, `11`, `13`
      (9, 11 and 13 imply the seventh and the ninth below them unless a 6 is
      present); half-diminished `m7b5`/`ø`; diminished `o`/`dim` (`o7`/`dim7`
      has a diminished seventh); augmented `+`/`aug`; `sus`/`sus4`/`sus2`;
      `add9`; `alt` (the seventh with b9, #9, #11 and b13 and no fifth: one
      common voicing of an altered dominant, so approximate);
    * alterations before the degree (`7b9`, `7#11`, `13b9`) or, in WJazzD's
      stacked style, after it (`79b` is 7 b9, `7911#` is 7 9 #11);
    * a slash bass (`C7/E`): its pitch class is added to the chord's, since it
      sounds; the root stays the chord's root.

    `N.C.`, `NC`, `N.C` and an empty string are "no chord" (root None).

    Raises:
        ValueError: The symbol does not follow this syntax (names the symbol).
    """
    symbol = str(text).strip()
    if symbol.upper() in _NO_CHORD_SYMBOLS:
        return Chord(root=None, pitch_classes=(), symbol=symbol)
    body, bass = symbol, None
    if "/" in symbol:
        body, bass_text = symbol.rsplit("/", 1)
        if bass_text[:1].isdigit():
            # `6/9` is a chord, not a slash bass.
            body, bass = symbol.replace("/", ""), None
        else:
            bass, rest = _parse_root(bass_text, symbol)
            if rest:
                raise _invalid(symbol)
    root, tail = _parse_root(body, symbol)
    try:
        intervals = _tail_intervals(tail)
    except ValueError:
        raise _invalid(symbol) from None
    pitch_classes = {(root + interval) % 12 for interval in intervals}
    if bass is not None:
        pitch_classes.add(bass)
    return Chord(root=root, pitch_classes=tuple(sorted(pitch_classes)), symbol=symbol, bass=bass)


@dataclasses.dataclass
class _ChordReading:
    """What the part of a symbol after its root has said so far (a triad until told otherwise)."""

    third: int | None = 4
    fifth: int | None = 7
    seventh: int | None = None
    major_seventh: bool = False
    diminished: bool = False
    altered: bool = False
    sixth: bool = False
    tensions: dict = dataclasses.field(default_factory=dict)  # degree -> semitone shift
    added: set = dataclasses.field(default_factory=set)  # degrees after `add`: no implied 7th

    def read_degree(self, degree, shift, at_end, after_add, tail):
        """A degree number (`7`, `b9`, `#11`, a power chord's final `5`)."""
        if degree == 7:
            if shift:
                raise ValueError(tail)
            self.seventh = 7
        elif degree == 6 and not shift:
            self.sixth = True
        elif degree == 5:
            if shift:
                self.fifth = 7 + shift
            elif at_end and self.seventh is None and not self.tensions:
                self.third = None  # power chord `C5`
        elif degree in _DEGREE_OFFSETS or (degree == 6 and shift):
            self.tensions[13 if degree == 6 else degree] = shift
            if after_add:
                self.added.add(degree)
        else:
            raise ValueError(tail)

    def read_quality(self, word, quality, tail, start):
        """A quality word starting at `tail[start]`; returns where reading goes on."""
        position = start + len(word)
        following = tail[position : position + 1]
        if quality == "major":
            if start > 0 or word in ("j", "Δ", "^") or following.isdigit():
                self.major_seventh = True
            if word in ("Δ", "^", "j") and not following.isdigit():
                self.seventh = 7
        elif quality == "minor":
            self.third = 3
        elif quality == "diminished":
            self.third, self.fifth, self.diminished = 3, 6, True
        elif quality == "half-diminished":
            self.third, self.fifth, self.seventh = 3, 6, 7
            if following == "7":
                position += 1
        elif quality == "augmented":
            self.fifth = 8
        elif quality == "altered":
            self.altered = True
        elif quality == "sus":
            self.third = None
            if following == "2":
                self.tensions[2] = 0
                position += 1
            else:
                self.tensions[4] = 0
                if following == "4":
                    position += 1
        return position

    def intervals(self):
        """The chord's intervals above the root, with the sevenths its tensions imply."""
        highest = max(
            (d for d in self.tensions if d in (9, 11, 13) and d not in self.added), default=None
        )
        if highest is not None and not self.sixth:
            self.seventh = 7
            # An altered 11 or 13 (`7#11`) names that tension only; a plain one implies the 9.
            if highest >= 11 and self.tensions[highest] == 0:
                self.tensions.setdefault(9, 0)
        if self.altered:
            # One common voicing of an altered dominant: no fifth, b9 #9 #11 b13.
            return {0, 4 if self.third is None else self.third, 10, 1, 3, 6, 8}
        intervals = {0, self.fifth} if self.fifth is not None else {0}
        if self.third is not None:
            intervals.add(self.third)
        if self.sixth:
            intervals.add(9)
        if self.seventh is not None:
            if self.major_seventh:
                intervals.add(11)
            elif self.diminished and self.third == 3 and self.fifth == 6:
                intervals.add(9)
            else:
                intervals.add(10)
        for degree, shift in self.tensions.items():
            if shift is not None:
                intervals.add(_DEGREE_OFFSETS[degree] + shift)
        return intervals


def _tail_intervals(tail):
    """Intervals above the root for everything after it (`-7b5`, `79#`, `sus4`, ...).

    The tail is read left to right as degree numbers (with a leading, or in WJazzD's
    style a trailing, accidental), separators and quality words (`_QUALITY_WORDS`).
    """
    trailing = _uses_trailing_accidentals(tail)
    reading = _ChordReading()
    position = 0
    pending = 0  # a leading alteration waiting for its degree
    after_add = False
    while position < len(tail):
        rest = tail[position:]
        if rest[0] in "() ,":
            position += 1
            continue
        number = _NUMBER.match(rest)
        if number:
            position += len(number.group())
            shift, pending = pending, 0
            if trailing and position < len(tail) and tail[position] in _ACCIDENTAL_SHIFT:
                shift = _ACCIDENTAL_SHIFT[tail[position]]
                position += 1
            at_end = position == len(tail)
            reading.read_degree(int(number.group()), shift, at_end, after_add, tail)
            after_add = False
            continue
        if rest[0] in _ACCIDENTAL_SHIFT or (
            rest[0] in "+-" and position > 0 and rest[1:2].isdigit()
        ):
            pending = _ACCIDENTAL_SHIFT.get(rest[0], 1 if rest[0] == "+" else -1)
            position += 1
            continue
        found = next((pair for pair in _QUALITY_WORDS if rest.startswith(pair[0])), None)
        if found is None:
            raise ValueError(tail)
        word, quality = found
        after_add = after_add or quality == "add"
        position = reading.read_quality(word, quality, tail, position)
    if pending:
        raise ValueError(tail)
    return reading.intervals()


def chord_vector(chord):
    """The 13-d conditioning vector of a chord: pitch-class flags, then the no-chord flag.

    Args:
        chord: A `Chord`, a chord symbol, or None (no chord).

    Returns:
        `np.float32[CHORD_DIM]`.
    """
    if chord is None:
        chord = NO_CHORD_CHORD
    elif not isinstance(chord, Chord):
        chord = parse_chord_symbol(chord)
    vector = np.zeros(CHORD_DIM, dtype=np.float32)
    if chord.is_no_chord or not chord.pitch_classes:
        vector[NO_CHORD] = 1.0
    else:
        vector[list(chord.pitch_classes)] = 1.0
    return vector


def pitch_class_vector(pitch_classes):
    """The conditioning vector of a set of pitch classes (empty means no chord)."""
    vector = np.zeros(CHORD_DIM, dtype=np.float32)
    pitch_classes = {int(pc) % 12 for pc in pitch_classes}
    if pitch_classes:
        vector[sorted(pitch_classes)] = 1.0
    else:
        vector[NO_CHORD] = 1.0
    return vector


def parse_progression(text, beats_per_bar=4):
    """Parse a chord progression into one chord per beat.

    Bars are separated by `|`; the chords of a bar (separated by spaces) split it
    evenly, so `C-7 F7` in 4/4 gives each two beats. A `/` in place of a chord
    repeats the chord before it in the bar (`C / F /`), and a bar holding only
    `%` repeats the previous bar. Empty bars (from leading, trailing or double
    bar lines) are skipped.

    Args:
        text: E.g. `"| C-7 F7 | Bbj7 | % | Ebj7 Ab7 |"`.
        beats_per_bar: Beats in each bar.

    Returns:
        A list of `Chord`s, one per beat.

    Raises:
        UserError: A symbol does not parse, a bar's chords do not divide it evenly,
            `%` has no bar before it, or there are no chords.
    """
    beats = []
    previous_bar = None
    bar_number = 0
    for bar_text in str(text).split("|"):
        slots = bar_text.split()
        if not slots:
            continue
        bar_number += 1
        if slots == ["%"]:
            if previous_bar is None:
                raise UserError(f"chord progression bar {bar_number}: '%' repeats no bar")
            beats.extend(previous_bar)
            continue
        if beats_per_bar % len(slots):
            raise UserError(
                f"chord progression bar {bar_number}: {len(slots)} chords do not split "
                f"{beats_per_bar} beats evenly ({bar_text.strip()!r})"
            )
        chords = []
        for slot in slots:
            if slot == "/":
                if not chords:
                    raise UserError(
                        f"chord progression bar {bar_number}: '/' repeats no chord in its bar"
                    )
                chords.append(chords[-1])
                continue
            try:
                chords.append(parse_chord_symbol(slot))
            except ValueError:
                raise UserError(
                    f"chord progression bar {bar_number}: unrecognised chord symbol {slot!r}"
                ) from None
        per_chord = beats_per_bar // len(slots)
        bar = [chord for chord in chords for _ in range(per_chord)]
        beats.extend(bar)
        previous_bar = bar
    if not beats:
        raise UserError("chord progression holds no chords")
    return beats


def chords_per_step(beat_chords):
    """Repeat each beat's chord vector `STEPS_PER_BEAT` times.

    Args:
        beat_chords: `Chord`s or symbols (one per beat), or a `[beats, CHORD_DIM]` array.

    Returns:
        `np.float32[beats * STEPS_PER_BEAT, CHORD_DIM]`.
    """
    if isinstance(beat_chords, np.ndarray):
        vectors = beat_chords.astype(np.float32).reshape(-1, CHORD_DIM)
    else:
        vectors = np.stack([chord_vector(c) for c in beat_chords]) if len(beat_chords) else None
        if vectors is None:
            return np.zeros((0, CHORD_DIM), dtype=np.float32)
    return np.repeat(vectors, STEPS_PER_BEAT, axis=0)


def chord_changes(chords):
    """Where the per-step chords change: a list of `(onset, duration, pitch_classes)`.

    No-chord stretches are included with empty pitch classes.
    """
    if chords is None:
        return []
    chords = np.asarray(chords) > 0.5
    changes = []
    for step in range(len(chords)):
        if step == 0 or not np.array_equal(chords[step], chords[step - 1]):
            pitch_classes = tuple(np.flatnonzero(chords[step][:12]).tolist())
            changes.append([step, 1, pitch_classes])
        else:
            changes[-1][1] += 1
    return [tuple(change) for change in changes]


def chord_label(pitch_classes):
    """The names of a set of pitch classes (`"C Eb G Bb"`), or `"N.C."` for none."""
    if not pitch_classes:
        return "N.C."
    return " ".join(_PITCH_NAMES[pc] for pc in pitch_classes)


# Chord qualities by their intervals above the root, as lead sheets write them, the
# commonest in jazz first: a set two roots can name (B D F A: Bm7b5 or Dm6) takes the first.
_QUALITIES = (
    ((0, 4, 7), ""),
    ((0, 3, 7), "m"),
    ((0, 4, 7, 10), "7"),
    ((0, 3, 7, 10), "m7"),
    ((0, 4, 7, 11), "maj7"),
    ((0, 3, 6, 10), "m7b5"),
    ((0, 3, 6, 9), "dim7"),
    ((0, 3, 6), "dim"),
    ((0, 4, 8), "+"),
    ((0, 5, 7, 10), "7sus4"),
    ((0, 5, 7), "sus4"),
    ((0, 2, 4, 7, 10), "9"),
    ((0, 2, 3, 7, 10), "m9"),
    ((0, 2, 4, 7, 11), "maj9"),
    ((0, 1, 4, 7, 10), "7b9"),
    ((0, 3, 4, 7, 10), "7#9"),
    ((0, 4, 8, 10), "7#5"),
    ((0, 4, 6, 10), "7b5"),
    ((0, 3, 7, 11), "m(maj7)"),
    ((0, 2, 4, 7, 9), "6/9"),
    ((0, 4, 7, 9), "6"),
    ((0, 3, 7, 9), "m6"),
    ((0, 2, 7), "sus2"),
)
_QUALITY_RANK = {intervals: rank for rank, (intervals, _) in enumerate(_QUALITIES)}


def chord_name(pitch_classes):
    """A lead-sheet name for a set of pitch classes (`"Dm7"`), or `"N.C."` for none.

    Where two roots name the set, the quality commoner in jazz wins (B D F A is
    `Bm7b5`, not `Dm6`); sets with no common name are spelled out (`"C(C D F#)"`).

    >>> chord_name(parse_chord_symbol("D-7").pitch_classes), chord_name((2, 5, 7, 11))
    ('Dm7', 'G7')
    >>> chord_name(())
    'N.C.'
    """
    pitch_classes = sorted({int(pc) % 12 for pc in pitch_classes})
    if not pitch_classes:
        return "N.C."
    named = []
    for root in pitch_classes:
        intervals = tuple(sorted((pc - root) % 12 for pc in pitch_classes))
        if intervals in _QUALITY_RANK:
            named.append((_QUALITY_RANK[intervals], root))
    if not named:
        root = max(pitch_classes, key=lambda pc: _root_score(pc, pitch_classes))
        return f"{_PITCH_NAMES[root]}({chord_label(pitch_classes)})"
    rank, root = min(named)
    return _PITCH_NAMES[root] + _QUALITIES[rank][1]


def chord_voicing(pitch_classes, root=None):
    """MIDI pitches for a block chord: the root in C3-B3, the other pitch classes above it.

    Args:
        pitch_classes: The chord's pitch classes.
        root: Its root; default the first pitch class that a stacked-thirds reading
            suggests (the one with the most chord tones a third or fifth above).
    """
    pitch_classes = sorted({int(pc) % 12 for pc in pitch_classes})
    if not pitch_classes:
        return []
    if root is None or root not in pitch_classes:
        root = max(pitch_classes, key=lambda pc: _root_score(pc, pitch_classes))
    root_pitch = 48 + root
    return [root_pitch] + [root_pitch + (pc - root) % 12 for pc in pitch_classes if pc != root]


def _root_score(candidate, pitch_classes):
    present = set(pitch_classes)
    return (
        2 * ((candidate + 7) % 12 in present)
        + ((candidate + 4) % 12 in present or (candidate + 3) % 12 in present)
        - 0.01 * candidate
    )
