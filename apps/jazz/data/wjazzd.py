"""The Weimar Jazz Database: a folder of `index.csv`, `midi/` and `beats/`.

The MIDI files hold the solo line only; the beats tables give beat times in
seconds, bar numbers and chord symbols. Notes are placed on the grid by their
position between the surrounding beat times, so the soloist's rubato follows the
band's beat rather than the MIDI file's tempo.
"""

import csv
import functools
import math
from collections import Counter
from pathlib import Path

import numpy as np

from apps.jazz.data.parsing import note_spans, read_midi
from apps.jazz.data.pieces import Piece, SourceError
from seqapps import music
from seqapps.cli import UserError


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
    midi = read_midi(path)
    try:
        messages = list(midi)  # merged tracks, `time` already in seconds
    except Exception as error:  # a tempo map mido cannot follow
        raise SourceError(path, "not a readable MIDI file") from error
    return sorted(
        (onset, end, pitch) for onset, end, channel, pitch in note_spans(messages) if channel != 9
    )


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
        beat_vectors.append(_chord_vector(symbol))
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


@functools.cache
def _chord_vector(symbol):
    """`music.chord_vector(symbol)`, parsed once per symbol (a corpus repeats a few hundred)."""
    return music.chord_vector(symbol)


def parse_wjazzd_solo(midi_path, beats_path, name, group):
    """Read one WJazzD solo (MIDI + beats table) into pieces; errors name the file to blame."""
    try:
        beats = read_beats_table(beats_path)
    except UnicodeDecodeError as error:
        raise SourceError(beats_path, "bytes that are not UTF-8") from error
    except (ValueError, KeyError, TypeError, csv.Error) as error:
        raise SourceError(beats_path, str(error) or type(error).__name__) from error
    piece = align_solo(midi_note_times(midi_path), beats, name, midi_path, group)
    return [piece] if piece is not None else []
