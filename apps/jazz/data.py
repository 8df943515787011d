"""Loading melodies with their chords: scores, music21's corpus and the Weimar Jazz Database.

Every source becomes a list of `Piece`s: melody tokens and chord vectors on the
`seqapps.music` grid (12 steps per quarter-note beat), step 0 on a downbeat.

Sources (`load_corpus` specs):

* a file music21 parses (MusicXML/.mxl, ABC, Humdrum, ...) or a MIDI file
  (read with mido: one part per track and channel), or a folder of them
  (searched recursively). The melody is one part (`melody_part`, or by default
  the highest busy monophonic part, see `choose_melody_part`). Chord symbols in
  the score give the chords; a score without them gets the pitch classes
  sounding in its other pitched parts at each step (drums excluded).
* `music21:<name>`: music21's bundled corpus, by composer or folder
  (`music21:leadSheet`, `music21:joplin`) or by work path
  (`music21:leadSheet/fosterBrownHair.mxl`).
* a Weimar Jazz Database folder (`index.csv`, `midi/`, `beats/`). The MIDI files
  hold the solo line only; the beats tables give beat times in seconds, bar
  numbers and chord symbols. Notes are placed on the grid by their position
  between the surrounding beat times, so the soloist's rubato follows the band's
  beat rather than the MIDI file's tempo.

Parsed pieces are cached as `.npz` files (see `load_corpus`), so later runs do
not parse again.
"""

import csv
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from seqapps import music
from seqapps.cli import UserError
from seqapps.files import atomic_path

# Bump when parsing or the token layout changes, so stale cache entries are ignored.
REPRESENTATION_VERSION = 2

# Bundled with music21, so the app runs without downloads: two lead sheets with
# chord symbols, and a piano rag whose left hand gives the chords.
DEFAULT_DATA = ["music21:leadSheet", "music21:joplin"]

SCORE_SUFFIXES = {
    ".mid",
    ".midi",
    ".xml",
    ".musicxml",
    ".mxl",
    ".abc",
    ".krn",
    ".mei",
    ".rntxt",
    ".capx",
}

# A part counts as monophonic when at most this share of its notes are chords or
# start before the previous note ends (MIDI transcriptions have stray overlaps).
MONOPHONIC_CHORD_SHARE = 0.3
MONOPHONIC_OVERLAP_SHARE = 0.15
# The melody plays a lot: only monophonic parts with at least this share of the
# busiest monophonic part's notes are candidates.
MELODY_MIN_NOTE_SHARE = 0.5

# The progress bar appears once loading has taken this long (parsing one score can take
# seconds), whatever the number of files.
PROGRESS_DELAY_SECONDS = 1.0


class SourceError(ValueError):
    """A file of the corpus that cannot be used; `path` is the file to blame (MIDI or table)."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def _read_midi(path):
    """`mido.MidiFile(path)`; `SourceError` "not a readable MIDI file" when mido cannot read it."""
    import mido

    try:
        return mido.MidiFile(str(path))
    except Exception as error:  # mido raises EOFError, OSError, ValueError, KeyError, ...
        raise SourceError(path, "not a readable MIDI file") from error


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


# --- scores -------------------------------------------------------------------------------


def _is_pitched(element):
    from music21 import chord, harmony, note

    if isinstance(element, harmony.Harmony):
        return False
    return isinstance(element, note.Note | chord.Chord)


def _element_pitches(element):
    return [p.midi for p in element.pitches]


def _pitched_events(part):
    """`(onset, end, pitches)` in quarter notes for a part's pitched notes, ties merged."""
    events = []
    for element in part.flatten().stripTies().notes:
        if not _is_pitched(element):
            continue
        pitches = _element_pitches(element)
        if not pitches:
            continue
        onset = float(element.offset)
        events.append((onset, onset + float(element.quarterLength), pitches))
    events.sort(key=lambda event: (event[0], -max(event[2])))
    return events


def _part_label(part, index):
    name = part.partName or (part.getInstrument().instrumentName if part.getInstrument() else "")
    return f"{index}:{name}" if name else str(index)


def _is_percussion(part):
    from music21 import instrument

    found = part.getInstrument(returnDefault=False)
    return found is not None and (
        isinstance(found, instrument.UnpitchedPercussion) or found.midiChannel == 9
    )


def part_statistics(events):
    """How monophonic and how high a part is.

    Returns:
        `(notes, chord_share, overlap_share, mean_top_pitch)`.
    """
    if not events:
        return 0, 1.0, 1.0, 0.0
    chords = sum(len(pitches) > 1 for _, _, pitches in events)
    overlaps = sum(1 for before, after in zip(events, events[1:]) if after[0] < before[1] - 1e-6)
    mean_top = float(np.mean([max(pitches) for _, _, pitches in events]))
    return len(events), chords / len(events), overlaps / len(events), mean_top


def choose_melody_part(parts_events, labels, melody_part=None, source=""):
    """The index of the melody part.

    Args:
        parts_events: Per part, its `(onset, end, pitches)` events (None for drums).
        labels: Per part, `"index:name"`.
        melody_part: A part index (int or digit string) or name (case-insensitive);
            None picks the highest (by mean top pitch) of the busy monophonic parts:
            parts whose notes are rarely chords or overlapping and that have at least
            half as many notes as the busiest such part. Without monophonic parts it
            takes the highest pitched part, whose top line is then the melody.
        source: File named in errors.

    Raises:
        UserError: `melody_part` names no part, or the score has no pitched notes.
    """
    if melody_part is not None and str(melody_part).strip() != "":
        wanted = str(melody_part).strip()
        if wanted.lstrip("-").isdigit():
            index = int(wanted)
            if not -len(labels) <= index < len(labels):
                raise UserError(
                    f"{source}: melody part {wanted} out of range (parts: {', '.join(labels)})"
                )
            return index % len(labels)
        for index, label in enumerate(labels):
            if label.split(":", 1)[-1].lower() == wanted.lower():
                return index
        raise UserError(f"{source}: no part named {wanted!r} (parts: {', '.join(labels)})")
    statistics = [part_statistics(events) if events else None for events in parts_events]
    pitched = [index for index, stats in enumerate(statistics) if stats and stats[0]]
    if not pitched:
        raise UserError(f"{source}: no pitched notes")
    monophonic = [
        index
        for index in pitched
        if statistics[index][1] <= MONOPHONIC_CHORD_SHARE
        and statistics[index][2] <= MONOPHONIC_OVERLAP_SHARE
    ]
    if monophonic:
        busiest = max(statistics[index][0] for index in monophonic)
        candidates = [
            index for index in monophonic if statistics[index][0] >= MELODY_MIN_NOTE_SHARE * busiest
        ]
    else:
        candidates = pitched
    return max(candidates, key=lambda index: statistics[index][3])


def melody_notes(events, shift_quarters=0.0):
    """Melody `Note`s on the step grid from `(onset, end, pitches)` events in quarter notes.

    Onsets and ends are rounded to the nearest step; chords give their top pitch.

    Args:
        events: From a part (see `part_events`).
        shift_quarters: Added to every time (moves a pickup so step 0 is a downbeat).
    """
    notes = []
    for onset, end, pitches in events:
        start = round((onset + shift_quarters) * music.STEPS_PER_BEAT)
        stop = round((end + shift_quarters) * music.STEPS_PER_BEAT)
        if start < 0:
            continue
        notes.append(music.Note(start, max(1, stop - start), max(pitches)))
    return notes


def part_events(part):
    """A music21 part's pitched notes as `(onset, end, pitches)` in quarter notes (ties merged).

    Chord symbols, rests and unpitched (drum) notes are left out.
    """
    return _pitched_events(part)


def _beats_per_bar(score):
    from music21 import meter

    signatures = score.flatten().getElementsByClass(meter.TimeSignature)
    if not signatures:
        return 4
    return max(1, round(float(signatures[0].barDuration.quarterLength)))


def _pickup_shift(part):
    """Quarter notes to add so that a pickup bar ends on a multiple of the bar length."""
    measures = part.getElementsByClass("Measure")
    if not measures:
        return 0.0
    return float(measures[0].paddingLeft or 0.0)


def _chord_symbol_vectors(score, total_steps, shift_quarters):
    """Per-step chord vectors from a score's chord symbols, or None if it has none."""
    from music21 import harmony

    symbols = []
    for symbol in score.flatten().getElementsByClass(harmony.ChordSymbol):
        step = round((float(symbol.offset) + shift_quarters) * music.STEPS_PER_BEAT)
        if isinstance(symbol, harmony.NoChord):
            pitch_classes = set()
        else:
            pitch_classes = {p.pitchClass for p in symbol.pitches}
        symbols.append((max(0, step), pitch_classes))
    if not symbols:
        return None
    symbols.sort(key=lambda item: item[0])
    chords = np.tile(music.chord_vector(None), (total_steps, 1))
    for index, (step, pitch_classes) in enumerate(symbols):
        end = symbols[index + 1][0] if index + 1 < len(symbols) else total_steps
        chords[step:end] = music.pitch_class_vector(pitch_classes)
    return chords


def _sounding_vectors(parts_events, total_steps, shift_quarters):
    """Per-step chord vectors: the pitch classes sounding in the given parts at each step."""
    sounding = np.zeros((total_steps, 12), dtype=bool)
    for events in parts_events:
        for onset, end, pitches in events:
            start = max(0, round((onset + shift_quarters) * music.STEPS_PER_BEAT))
            stop = min(total_steps, round((end + shift_quarters) * music.STEPS_PER_BEAT))
            for pitch in pitches:
                sounding[start:stop, pitch % 12] = True
    chords = np.zeros((total_steps, music.CHORD_DIM), dtype=np.float32)
    chords[:, :12] = sounding
    chords[:, music.NO_CHORD] = ~sounding.any(axis=1)
    return chords


def score_pieces(score, name, source, melody_part=None, group=None):
    """Turn a parsed music21 score (or an opus of them) into `Piece`s.

    Args:
        score: A `music21.stream.Score`, `Part`/`Stream` (one part) or `Opus`.
        name: Piece name (opus members get `#1`, `#2`, ...).
        source: File named in messages.
        melody_part: See `choose_melody_part`.
        group: Split group (default `source`).

    Returns:
        A list of `Piece`s (empty when the score has no melody notes).
    """
    from music21 import stream

    if isinstance(score, stream.Opus):
        pieces = []
        for number, member in enumerate(score.scores, start=1):
            pieces += score_pieces(member, f"{name}#{number}", source, melody_part, group)
        return pieces
    parts = list(score.parts) if isinstance(score, stream.Score) and score.parts else [score]
    labels = [_part_label(part, index) for index, part in enumerate(parts)]
    parts_events = [None if _is_percussion(part) else _pitched_events(part) for part in parts]
    shift = _pickup_shift(parts[0])
    return _events_pieces(
        parts_events,
        labels,
        name,
        source,
        melody_part,
        group,
        shift=shift,
        beats_per_bar=_beats_per_bar(score),
        symbol_chords=lambda total_steps: _chord_symbol_vectors(score, total_steps, shift),
    )


def _events_pieces(
    parts_events,
    labels,
    name,
    source,
    melody_part,
    group,
    shift=0.0,
    beats_per_bar=4,
    symbol_chords=None,
):
    """The piece of a score given as per-part events (see `score_pieces`)."""
    melody_index = choose_melody_part(parts_events, labels, melody_part, source)
    notes = melody_notes(parts_events[melody_index], shift)
    if not notes:
        return []
    ends = [end for events in parts_events if events for _, end, _ in events]
    last_beat = math.ceil(max(ends) + shift - 1e-9) if ends else 0
    total_steps = max(last_beat * music.STEPS_PER_BEAT, max(n.onset + 1 for n in notes))
    tokens = music.encode_notes(notes, total_steps)
    chords = symbol_chords(total_steps) if symbol_chords else None
    if chords is None:
        accompaniment = [
            events for index, events in enumerate(parts_events) if index != melody_index and events
        ]
        chords = _sounding_vectors(accompaniment, total_steps, shift)
    return [
        Piece(
            name=name,
            source=str(source),
            tokens=tokens,
            chords=chords,
            beats_per_bar=beats_per_bar,
            group=str(group if group is not None else source),
            notes=len(music.decode_tokens(tokens)),
            melody_part=labels[melody_index],
        )
    ]


def midi_parts(path):
    """The parts of a MIDI file, read with mido: one per track and channel with notes.

    Reading MIDI directly is much faster than music21's parser and keeps the
    file's own timing (quantized later to the step grid). Notes of a part whose
    onsets fall on the same step form one chord event.

    Returns:
        `(labels, parts_events, beats_per_bar)`: labels `"index:track name"`, per part
        its `(onset, end, pitches)` events in quarter notes (None for the drum channel
        10), and the bar length in quarter notes from the first time signature (4 without).
    """
    midi = _read_midi(path)
    ticks_per_beat = midi.ticks_per_beat
    beats_per_bar = None
    found = {}  # (track, channel) -> (track name, [(onset, end, pitch)])
    for track_index, track in enumerate(midi.tracks):
        tick = 0
        sounding = {}
        for message in track:
            tick += message.time
            if message.type == "time_signature" and beats_per_bar is None:
                beats_per_bar = max(1, round(message.numerator * 4 / message.denominator))
            if message.type not in ("note_on", "note_off"):
                continue
            key = (message.channel, message.note)
            if message.type == "note_on" and message.velocity > 0:
                sounding.setdefault(key, []).append(tick)
            elif sounding.get(key):
                onset = sounding[key].pop(0)
                notes = found.setdefault((track_index, message.channel), (track.name, []))[1]
                notes.append((onset, tick, message.note))
        for (channel, pitch), onsets in sounding.items():
            notes = found.setdefault((track_index, channel), (track.name, []))[1]
            notes.extend((onset, tick, pitch) for onset in onsets)
    labels, parts_events = [], []
    channels_per_track = Counter(track for track, _ in found)
    for index, ((track, channel), (track_name, notes)) in enumerate(sorted(found.items())):
        label = track_name.strip() or f"track {track}"
        if channels_per_track[track] > 1:
            label += f" ch{channel + 1}"
        labels.append(f"{index}:{label}")
        if channel == 9:
            parts_events.append(None)
            continue
        by_step = {}
        for onset, end, pitch in sorted(notes):
            step = round(onset / ticks_per_beat * music.STEPS_PER_BEAT)
            event = by_step.setdefault(step, [onset / ticks_per_beat, 0.0, []])
            event[1] = max(event[1], end / ticks_per_beat)
            event[2].append(pitch)
        parts_events.append(sorted(tuple(event) for event in by_step.values()))
    return labels, parts_events, beats_per_bar or 4


def _parse_score_file(path, melody_part=None, name=None):
    """Parse one score file into pieces (mido reads MIDI, music21 everything else)."""
    name = name or Path(path).stem
    if Path(path).suffix.lower() in (".mid", ".midi"):
        labels, parts_events, beats_per_bar = midi_parts(path)
        if not labels:
            return []
        return _events_pieces(
            parts_events, labels, name, str(path), melody_part, None, beats_per_bar=beats_per_bar
        )
    from music21 import converter

    try:
        score = converter.parse(str(path))
    except Exception as error:  # music21 raises many types for a file it cannot read
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        reason = "not a readable score file" + (f" ({detail[:120]})" if detail else "")
        raise SourceError(path, reason) from error
    return score_pieces(score, name, str(path), melody_part)


# --- Weimar Jazz Database -------------------------------------------------------------------


def is_wjazzd_dir(path):
    """Whether `path` is a Weimar Jazz Database folder (`index.csv`, `midi/`, `beats/`)."""
    path = Path(path)
    return (
        path.is_dir()
        and (path / "index.csv").is_file()
        and (path / "midi").is_dir()
        and (path / "beats").is_dir()
    )


def read_wjazzd_index(directory):
    """The solos of a WJazzD folder: dicts with `midi`, `beats_csv` (absolute), `name`, `group`.

    Raises:
        UserError: `index.csv` lacks the `midi` or `beats_csv` column.
    """
    directory = Path(directory)
    with open(directory / "index.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"midi", "beats_csv"} <= set(rows[0]):
        raise UserError(f"{directory / 'index.csv'}: needs columns midi and beats_csv")
    solos = []
    for row in rows:
        midi_path = directory / row["midi"]
        name = midi_path.stem.removesuffix("_FINAL")
        solos.append(
            {
                "midi": midi_path,
                "beats_csv": directory / row["beats_csv"],
                "name": name,
                "group": row.get("tune_group") or name,
            }
        )
    return solos


def midi_note_times(path):
    """Notes of a MIDI file in seconds, following its tempo map: `(onset, offset, pitch)`.

    Drum-channel notes are left out; a note still sounding at the end ends there.
    """
    midi = _read_midi(path)
    now = 0.0
    try:
        messages = list(midi)  # merged tracks, `time` already in seconds
    except Exception as error:  # a tempo map mido cannot follow
        raise SourceError(path, "not a readable MIDI file") from error
    sounding = {}
    notes = []
    for message in messages:
        now += message.time
        if message.type not in ("note_on", "note_off") or message.channel == 9:
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            sounding.setdefault(key, []).append(now)
        elif sounding.get(key):
            notes.append((sounding[key].pop(0), now, message.note))
    for (_, pitch), onsets in sounding.items():
        notes.extend((onset, now, pitch) for onset in onsets)
    notes.sort()
    return notes


def read_beats_table(path):
    """A WJazzD beats table: beat times, bar and beat numbers, forward-filled chords.

    Returns:
        A dict of `onset` (float seconds), `bar`, `beat` (ints), `chord` (forward-filled
        symbol, "" before the first) and `beats_per_bar` (the most common signature's
        numerator; 4 without signatures).

    Raises:
        ValueError: A column is missing, or the beat times do not increase.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError("no beats")
    missing = {"onset", "bar", "beat", "chord"} - set(rows[0])
    if missing:
        raise ValueError(f"missing column(s) {sorted(missing)}")
    onsets = np.array([float(row["onset"]) for row in rows])
    if np.any(np.diff(onsets) <= 0):
        raise ValueError("beat onsets do not increase")
    chords, signatures = [], []
    chord = signature = ""
    for row in rows:
        chord = (row.get("chord") or "").strip() or chord
        signature = (row.get("signature") or "").strip() or signature
        chords.append(chord)
        signatures.append(signature)
    numerators = Counter(
        int(s.split("/")[0]) for s in signatures if s and s.split("/")[0].isdigit()
    )
    return {
        "onset": onsets,
        "bar": [int(float(row["bar"])) for row in rows],
        "beat": [int(float(row["beat"])) for row in rows],
        "chord": chords,
        "beats_per_bar": numerators.most_common(1)[0][0] if numerators else 4,
    }


def _beat_positions(seconds, beat_onsets):
    """Fractional beat indices of times: linear between beats, extrapolated outside them."""
    seconds = np.asarray(seconds, dtype=np.float64)
    indices = np.arange(len(beat_onsets), dtype=np.float64)
    if len(beat_onsets) == 1:
        return seconds - beat_onsets[0]
    positions = np.interp(seconds, beat_onsets, indices)
    first_length = beat_onsets[1] - beat_onsets[0]
    last_length = beat_onsets[-1] - beat_onsets[-2]
    before = seconds < beat_onsets[0]
    after = seconds > beat_onsets[-1]
    positions[before] = (seconds[before] - beat_onsets[0]) / first_length
    positions[after] = len(beat_onsets) - 1 + (seconds[after] - beat_onsets[-1]) / last_length
    return positions


def align_solo(note_times, beats, name="", source="", group=""):
    """Place a solo's notes (in seconds) on the step grid of its beats table.

    Each onset and offset becomes a fractional beat index by linear interpolation
    between the surrounding beat times (extrapolated with the first or last beat's
    length outside them), then `round(beat * 12)`. The grid starts on the downbeat
    of bar 1, or of an earlier bar (pickups) when notes start before it; when the
    table begins mid-bar, beats before its first row are extrapolated back to the
    downbeat. It ends with the table's last beat, or up to one bar later for
    notes that run on; notes outside are dropped. The chord of each beat is the
    last symbol at or before it ("no chord" before the first and on extrapolated beats).

    Args:
        note_times: `(onset_seconds, offset_seconds, pitch)` triples.
        beats: From `read_beats_table`.
        name, source, group: Copied to the `Piece`.

    Returns:
        A `Piece`, or None when no note falls on the grid.
    """
    beat_onsets = beats["onset"]
    rows = len(beat_onsets)
    bars, beat_numbers = beats["bar"], beats["beat"]
    downbeats = [index for index in range(rows) if beat_numbers[index] == 1]
    start = next((i for i in downbeats if bars[i] >= 1), downbeats[0] if downbeats else 0)
    note_times = sorted(note_times)
    if not note_times:
        return None
    onsets = _beat_positions([n[0] for n in note_times], beat_onsets)
    offsets = _beat_positions([n[1] for n in note_times], beat_onsets)
    half_step = 0.5 / music.STEPS_PER_BEAT
    earliest = float(onsets.min())
    # Earlier downbeats for pickups; a table opening mid-bar counts back to that bar's.
    earlier = [index for index in downbeats if index < start]
    if beat_numbers[0] > 1:
        earlier.insert(0, -(beat_numbers[0] - 1))
    for index in reversed(earlier):
        if earliest >= start - half_step:
            break
        start = index
    beats_per_bar = beats["beats_per_bar"]
    table_beats = rows - start
    last = float(offsets.max()) - start
    total_beats = int(min(max(table_beats, math.ceil(last)), table_beats + beats_per_bar))
    total_steps = total_beats * music.STEPS_PER_BEAT
    notes = []
    for (_, _, pitch), onset, offset in zip(note_times, onsets, offsets):
        step = round((onset - start) * music.STEPS_PER_BEAT)
        stop = round((offset - start) * music.STEPS_PER_BEAT)
        if 0 <= step < total_steps:
            notes.append(music.Note(step, max(1, stop - step), pitch))
    if not notes:
        return None
    beat_vectors = []
    for beat in range(total_beats):
        row = min(start + beat, rows - 1)
        symbol = beats["chord"][row] if row >= 0 else ""
        beat_vectors.append(_cached_chord_vector(symbol))
    tokens = music.encode_notes(notes, total_steps)
    return Piece(
        name=name,
        source=str(source),
        tokens=tokens,
        chords=music.chords_per_step(np.stack(beat_vectors)),
        beats_per_bar=beats_per_bar,
        group=group,
        notes=len(music.decode_tokens(tokens)),
    )


_CHORD_VECTORS = {}


def _cached_chord_vector(symbol):
    if symbol not in _CHORD_VECTORS:
        _CHORD_VECTORS[symbol] = music.chord_vector(symbol)
    return _CHORD_VECTORS[symbol]


def _parse_wjazzd_solo(midi_path, beats_path, name, group):
    """Read one WJazzD solo (MIDI + beats table) into pieces; errors name the file to blame."""
    try:
        beats = read_beats_table(beats_path)
    except UnicodeDecodeError as error:
        raise SourceError(beats_path, "bytes that are not UTF-8") from error
    except (ValueError, KeyError, TypeError, csv.Error) as error:
        raise SourceError(beats_path, str(error) or type(error).__name__) from error
    piece = align_solo(midi_note_times(midi_path), beats, name, midi_path, group)
    return [piece] if piece is not None else []


# --- corpus -------------------------------------------------------------------------------


def default_cache_dir():
    """`$SEQAPPS_CACHE/jazz` when set, else `~/.cache/seqapps/jazz`."""
    root = os.environ.get("SEQAPPS_CACHE")
    if root:
        return Path(root) / "jazz"
    return Path.home() / ".cache" / "seqapps" / "jazz"


def _file_identity(path):
    path = Path(path).resolve()
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]


@dataclasses.dataclass
class _Job:
    """One file (or WJazzD solo) to load: how to parse it and what its cache key covers."""

    label: str
    parse: str
    arguments: tuple
    identity: list

    def key(self):
        text = json.dumps([REPRESENTATION_VERSION, self.parse, self.identity], default=str)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _music21_corpus_files(name):
    from music21 import corpus

    if "/" in name or Path(name).suffix:
        try:
            found = corpus.getWork(name)
        except Exception:
            found = []
        found = found if isinstance(found, list) else [found]
        if found:
            return [Path(p) for p in found]
    files = [Path(p) for p in corpus.getComposer(name)]
    files = [p for p in files if p.suffix.lower() in SCORE_SUFFIXES]
    if not files:
        raise UserError(
            f"music21:{name}: music21's corpus has no composer, folder or work of that name"
        )
    return sorted(files)


def _score_files(directory):
    return sorted(
        path
        for path in Path(directory).rglob("*")
        if path.is_file() and path.suffix.lower() in SCORE_SUFFIXES
    )


def _jobs_for_spec(spec, melody_part):
    spec = str(spec)
    part = None if melody_part is None else str(melody_part)
    if spec.startswith("music21:"):
        files = _music21_corpus_files(spec.removeprefix("music21:"))
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise UserError(f"--data {spec}: no such file or directory")
        if is_wjazzd_dir(path):
            jobs = []
            for solo in read_wjazzd_index(path):
                if not solo["midi"].is_file() or not solo["beats_csv"].is_file():
                    jobs.append(
                        _Job(solo["name"], "missing", (solo["midi"], solo["beats_csv"]), [])
                    )
                    continue
                jobs.append(
                    _Job(
                        label=str(solo["midi"]),
                        parse="wjazzd",
                        arguments=(solo["midi"], solo["beats_csv"], solo["name"], solo["group"]),
                        identity=[
                            _file_identity(solo["midi"]),
                            _file_identity(solo["beats_csv"]),
                            solo["name"],
                            solo["group"],
                        ],
                    )
                )
            return jobs
        files = _score_files(path) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise UserError(f"--data {spec}: folder holds no score or MIDI files")
    return [
        _Job(
            label=str(file),
            parse="score",
            arguments=(file, part),
            identity=[_file_identity(file), part],
        )
        for file in files
    ]


def _run_job(job):
    if job.parse == "wjazzd":
        return _parse_wjazzd_solo(*job.arguments)
    if job.parse == "missing":
        raise FileNotFoundError(f"missing {' or '.join(str(p) for p in job.arguments)}")
    return _parse_score_file(*job.arguments)


def _save_cache(path, pieces):
    meta = [
        {
            "name": piece.name,
            "source": piece.source,
            "beats_per_bar": piece.beats_per_bar,
            "group": piece.group,
            "notes": piece.notes,
            "melody_part": piece.melody_part,
        }
        for piece in pieces
    ]
    arrays = {"meta": np.array(json.dumps(meta))}
    for index, piece in enumerate(pieces):
        arrays[f"tokens_{index}"] = piece.tokens.astype(np.int32)
        arrays[f"chords_{index}"] = piece.chords.astype(np.float32)
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def _load_cache(path):
    with np.load(path, allow_pickle=False) as stored:
        meta = json.loads(str(stored["meta"]))
        return [
            Piece(
                tokens=stored[f"tokens_{index}"],
                chords=stored[f"chords_{index}"],
                **fields,
            )
            for index, fields in enumerate(meta)
        ]


def _warn(message, bar):
    if bar is not None:
        bar.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr)


def load_corpus(specs, melody_part=None, cache_dir=None, progress=True):
    """Load melodies and chords from files, folders, music21's corpus and WJazzD folders.

    A file that cannot be read, or holds no melody notes, is skipped with a warning
    on stderr naming it (for a WJazzD solo, the MIDI file or beats table at fault);
    when it is the only file, that is the `UserError` instead. A cache entry that
    cannot be read is a miss: the file is parsed again and the entry rewritten.

    Args:
        specs: One spec or a list: a score/MIDI file, a folder of them, `music21:<name>`,
            or a WJazzD folder (see the module docstring). None or empty: `DEFAULT_DATA`.
        melody_part: The melody part of score files, by index or name (default: chosen
            per file, see `choose_melody_part`).
        cache_dir: Where parsed pieces are cached (default `default_cache_dir()`);
            False turns the cache off. Entries are keyed by each file's absolute path,
            size and modification time, `melody_part` and `REPRESENTATION_VERSION`.
        progress: Show a progress bar on stderr when loading takes more than
            `PROGRESS_DELAY_SECONDS`.

    Returns:
        `(pieces, report)`: a list of `Piece`s and a `CorpusReport`.

    Raises:
        UserError: A spec names nothing loadable, or no piece has melody notes.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    if specs is None or (not isinstance(specs, str | Path) and not list(specs)):
        specs = DEFAULT_DATA
    if isinstance(specs, str | Path):
        specs = [specs]
    jobs = [job for spec in specs for job in _jobs_for_spec(spec, melody_part)]
    if cache_dir is None:
        cache_dir = default_cache_dir()
    cache = Path(cache_dir) if cache_dir is not False else None

    report = CorpusReport()
    pieces = []
    bar = tqdm(
        total=len(jobs),
        desc="loading",
        unit="file",
        file=sys.stderr,
        disable=not progress,
        delay=PROGRESS_DELAY_SECONDS,
        leave=False,
    )
    try:
        for job in jobs:
            loaded = None
            entry = cache / f"{job.key()}.npz" if cache is not None and job.identity else None
            if entry is not None and entry.is_file():
                try:
                    loaded = _load_cache(entry)
                    report.from_cache += 1
                except Exception:  # a truncated or foreign entry is a miss: parse and rewrite it
                    loaded = None
            if loaded is None:
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        loaded = _run_job(job)
                except UserError:
                    raise
                except Exception as error:
                    if isinstance(error, SourceError):
                        blamed, reason = error.path, error.reason
                    else:
                        blamed = job.label
                        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                    if len(jobs) == 1:  # the only file: its problem is the error
                        raise UserError(f"{blamed}: {reason}") from None
                    _warn(f"warning: skipping {blamed}: {reason}", bar)
                    report.skipped += 1
                    report.skipped_files.append((blamed, reason))
                    bar.update()
                    continue
                for warning in caught:  # through the bar, not over it
                    _warn(f"warning: {job.label}: {warning.message}", bar)
                if entry is not None:
                    try:
                        _save_cache(entry, loaded)
                    except OSError as error:
                        _warn(f"warning: cannot write cache {entry}: {error}", bar)
            if not loaded:
                if len(jobs) == 1:
                    raise UserError(f"{job.label}: no melody notes")
                _warn(f"warning: skipping {job.label}: no melody notes", bar)
                report.skipped += 1
                report.skipped_files.append((job.label, "no melody notes"))
            for piece in loaded:
                pieces.append(piece)
                if piece.melody_part:
                    report.melody_parts[piece.name] = piece.melody_part
            bar.update()
    finally:
        bar.close()

    report.loaded = len(pieces)
    report.notes = sum(piece.notes for piece in pieces)
    report.steps = sum(piece.steps for piece in pieces)
    report.seconds = time.perf_counter() - started
    if not pieces or report.notes == 0:
        named = ", ".join(str(spec) for spec in specs)
        raise UserError(
            f"no melody notes in {named} ({report.skipped} file(s) skipped, see warnings)"
        )
    return pieces, report


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
