"""Score and MIDI files to `Piece`s: music21 parses scores, mido reads MIDI files.

The melody is one part (`melody_part`, or by default the highest busy monophonic
part, see `choose_melody_part`). Chord symbols in the score give the chords; a
score without them gets the pitch classes sounding in its other pitched parts at
each step (drums excluded).
"""

import math
from collections import Counter
from pathlib import Path

import numpy as np

from apps.jazz.data.pieces import Piece, SourceError
from seqapps import music
from seqapps.cli import UserError

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


def _is_pitched(element):
    from music21 import chord, harmony, note

    if isinstance(element, harmony.Harmony):
        return False
    return isinstance(element, note.Note | chord.Chord)


def part_events(part):
    """A music21 part's pitched notes as `(onset, end, pitches)` in quarter notes (ties merged).

    Chord symbols, rests and unpitched (drum) notes are left out.
    """
    events = []
    for element in part.flatten().stripTies().notes:
        if not _is_pitched(element):
            continue
        pitches = [p.midi for p in element.pitches]
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
    parts_events = [None if _is_percussion(part) else part_events(part) for part in parts]
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


# --- MIDI files (mido) ---------------------------------------------------------------------


def read_midi(path):
    """`mido.MidiFile(path)`; `SourceError` "not a readable MIDI file" when mido cannot read it."""
    import mido

    try:
        return mido.MidiFile(str(path))
    except Exception as error:  # mido raises EOFError, OSError, ValueError, KeyError, ...
        raise SourceError(path, "not a readable MIDI file") from error


def note_spans(messages):
    """`(onset, end, channel, pitch)` of the notes in MIDI messages (`time` is a delta).

    A note-off (or a note-on of velocity 0) ends the earliest sounding note of its
    channel and pitch; notes still sounding after the last message end there.
    """
    now = 0
    sounding = {}  # (channel, pitch) -> onsets
    for message in messages:
        now += message.time
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            sounding.setdefault(key, []).append(now)
        elif sounding.get(key):
            yield sounding[key].pop(0), now, message.channel, message.note
    for (channel, pitch), onsets in sounding.items():
        for onset in onsets:
            yield onset, now, channel, pitch


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
    midi = read_midi(path)
    ticks_per_beat = midi.ticks_per_beat
    signature = next(
        (message for track in midi.tracks for message in track if message.type == "time_signature"),
        None,
    )
    found = {}  # (track, channel) -> (track name, [(onset, end, pitch)])
    for track_index, track in enumerate(midi.tracks):
        for onset, end, channel, pitch in note_spans(track):
            notes = found.setdefault((track_index, channel), (track.name, []))[1]
            notes.append((onset, end, pitch))
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
    if signature is None:
        return labels, parts_events, 4
    return labels, parts_events, max(1, round(signature.numerator * 4 / signature.denominator))


def parse_score_file(path, melody_part=None, name=None):
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
