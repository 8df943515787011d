"""Corpus loading: scores, chordified accompaniment, WJazzD alignment, failures and the cache."""

import csv
import os
from fractions import Fraction

import mido
import numpy as np
import pytest
from conftest import data_dir

from apps.jazz import data
from seqapps import music
from seqapps.cli import UserError
from seqapps.music import Note

STEP = music.STEPS_PER_BEAT


def melody_stream(pitches_and_lengths):
    from music21 import meter, note, stream

    part = stream.Part()
    part.append(meter.TimeSignature("4/4"))
    for pitch, length in pitches_and_lengths:
        element = note.Rest() if pitch is None else note.Note(pitch)
        element.quarterLength = length
        part.append(element)
    return part


def test_stream_tokens_round_trip():
    third = Fraction(1, 3)
    written = [
        ("C4", 1),
        ("D4", 0.5),
        ("E4", 0.25),
        ("F4", 0.25),
        (None, 0.5),
        ("G4", third),
        ("A4", third),
        ("B4", third),
        (None, 1),
        ("C5", 1.5),
        ("B-4", 0.5),
        ("A4", 2),
    ]
    expected, onset = [], 0
    for pitch, length in written:
        steps = round(length * STEP)
        if pitch is not None:
            from music21 import pitch as m21pitch

            expected.append(Note(onset, steps, m21pitch.Pitch(pitch).midi))
        onset += steps
    notes = data.melody_notes(data.part_events(melody_stream(written)))
    assert notes == expected
    tokens = music.encode_notes(notes, onset)
    assert music.decode_tokens(tokens) == expected

    (piece,) = data.score_pieces(melody_stream(written), "tune", "tune.xml")
    assert music.decode_tokens(piece.tokens) == expected
    assert piece.beats_per_bar == 4 and piece.steps == 9 * STEP  # rounded up to whole beats
    assert np.all(piece.chords[:, music.NO_CHORD] == 1)


def test_chord_symbols_in_a_score_give_the_chords():
    from music21 import harmony

    part = melody_stream([("C5", 4), ("A4", 4)])
    part.insert(0, harmony.ChordSymbol("Cm7"))
    part.insert(4, harmony.ChordSymbol("F7"))
    (piece,) = data.score_pieces(part, "lead", "lead.xml")
    assert np.flatnonzero(piece.chords[0]).tolist() == [0, 3, 7, 10]
    assert np.flatnonzero(piece.chords[4 * STEP]).tolist() == [0, 3, 5, 9]
    assert piece.notes == 2


@pytest.fixture
def two_part_midi(tmp_path):
    """Block-chord accompaniment (part 0) under a monophonic lead (part 1), as MIDI."""
    from music21 import chord, instrument, meter, note, stream

    score = stream.Score()
    comping = stream.Part()
    comping.insert(0, instrument.Piano())
    comping.append(meter.TimeSignature("4/4"))
    for pitches in (["C4", "E4", "G4"], ["F3", "A3", "C4", "E-4"]):
        comping.append(chord.Chord(pitches, quarterLength=4))
    lead = stream.Part()
    lead.insert(0, instrument.Trumpet())
    lead.append(meter.TimeSignature("4/4"))
    for pitch, length in [("E5", 1), ("D5", 0.5), ("C5", 0.5), ("G4", 2), ("A4", 3), ("C5", 1)]:
        lead.append(note.Note(pitch, quarterLength=length))
    score.insert(0, comping)
    score.insert(0, lead)
    path = tmp_path / "two parts.mid"
    score.write("midi", fp=str(path))
    return path


def test_chordify_path_picks_the_melody(two_part_midi, tmp_path):
    pieces, report = data.load_corpus(two_part_midi, cache_dir=tmp_path / "cache")
    (piece,) = pieces
    assert piece.melody_part.startswith("1")
    assert report.melody_parts == {"two parts": piece.melody_part}
    assert [n.pitch for n in music.decode_tokens(piece.tokens)] == [76, 74, 72, 67, 69, 72]
    assert piece.steps == 8 * STEP
    first_bar = np.flatnonzero(piece.chords[: 4 * STEP].max(axis=0)).tolist()
    second_bar = np.flatnonzero(piece.chords[4 * STEP :].max(axis=0)).tolist()
    assert first_bar == [0, 4, 7]
    assert second_bar == [0, 3, 5, 9]
    assert (report.loaded, report.skipped, report.notes) == (1, 0, 6)


def test_melody_part_by_index_and_name(two_part_midi):
    (by_index,), _ = data.load_corpus(two_part_midi, melody_part=0, cache_dir=False)
    assert by_index.melody_part.startswith("0")
    name = by_index.melody_part.split(":", 1)[1]
    (by_name,), _ = data.load_corpus(two_part_midi, melody_part=name.upper(), cache_dir=False)
    assert by_name.melody_part == by_index.melody_part
    with pytest.raises(UserError, match="no part named 'Kazoo'"):
        data.load_corpus(two_part_midi, melody_part="Kazoo", cache_dir=False)


def test_corrupt_file_is_skipped_with_a_warning(two_part_midi, tmp_path, capsys):
    (two_part_midi.parent / "x.mid").write_bytes(b"not a midi file at all")
    pieces, report = data.load_corpus(two_part_midi.parent, cache_dir=False, progress=False)
    assert len(pieces) == 1
    assert (report.loaded, report.skipped) == (1, 1)
    assert "x.mid" in report.skipped_files[0][0]
    assert "x.mid" in capsys.readouterr().err


def test_corpus_without_notes_is_a_user_error(tmp_path, capsys):
    (tmp_path / "x.mid").write_bytes(b"garbage")
    (tmp_path / "y.mid").write_bytes(b"")
    with pytest.raises(UserError, match="no melody notes"):
        data.load_corpus(tmp_path, cache_dir=False)
    assert "x.mid" in capsys.readouterr().err
    with pytest.raises(UserError, match="no such file"):
        data.load_corpus(tmp_path / "missing.mid", cache_dir=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no score or MIDI files"):
        data.load_corpus(tmp_path / "empty", cache_dir=False)
    with pytest.raises(UserError, match="music21:noSuchComposer"):
        data.load_corpus("music21:noSuchComposer", cache_dir=False)


def test_cache_hit_skips_parsing(two_part_midi, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first, report = data.load_corpus(two_part_midi, cache_dir=cache)
    assert report.from_cache == 0 and len(list(cache.glob("*.npz"))) == 1

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again despite the cache")

    monkeypatch.setattr(data.corpus, "parse_score_file", no_parsing)
    second, report = data.load_corpus(two_part_midi, cache_dir=cache)
    assert report.from_cache == 1
    assert np.array_equal(first[0].tokens, second[0].tokens)
    assert np.array_equal(first[0].chords, second[0].chords)
    assert second[0].melody_part == first[0].melody_part

    # Another melody part, or a changed file, is another cache entry.
    monkeypatch.undo()
    _, report = data.load_corpus(two_part_midi, melody_part=0, cache_dir=cache)
    assert report.from_cache == 0
    two_part_midi.write_bytes(two_part_midi.read_bytes())
    os.utime(two_part_midi, ns=(0, 10**9))
    _, report = data.load_corpus(two_part_midi, cache_dir=cache)
    assert report.from_cache == 0


# --- WJazzD -------------------------------------------------------------------------------

# Beat times of a rubato performance: uneven, and unrelated to the MIDI file's tempo.
BEAT_SECONDS = [1.00, 1.55, 2.20, 2.70, 3.30, 3.80, 4.45, 5.00, 5.70, 6.20]
BEAT_ROWS = [(0, 3), (0, 4), (1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (2, 3), (2, 4)]
CHORDS = {(1, 1): "C-7", (1, 3): "F7", (2, 1): "Bbj7"}


def seconds_at(row_position):
    """Seconds at a fractional beat-row index, interpolating the beat times."""
    return float(np.interp(row_position, np.arange(len(BEAT_SECONDS)), BEAT_SECONDS))


def write_solo(directory, stem, notes, ticks_per_beat=960, bpm=100):
    """A one-track MIDI solo; `notes` are (onset_row, offset_row, pitch) in beat rows."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    events = []
    for onset, offset, pitch in notes:
        for row, kind in ((onset, "note_on"), (offset, "note_off")):
            tick = round(seconds_at(row) * bpm / 60 * ticks_per_beat)
            events.append((tick, kind == "note_on", kind, pitch))
    now = 0
    for tick, _, kind, pitch in sorted(events):
        track.append(mido.Message(kind, note=pitch, velocity=80, time=tick - now))
        now = tick
    midi.tracks.append(track)
    midi.save(directory / "midi" / f"{stem}_FINAL.mid")


def write_beats(directory, name):
    """A beats table like WJazzD's: chords only where they change, signature on bar 1 only."""
    with open(directory / "beats" / f"{name}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["bar", "bass_pitch", "beat", "chord", "chorus_id", "form", "onset", "signature"]
        )
        for (bar, beat), seconds in zip(BEAT_ROWS, BEAT_SECONDS):
            chord = CHORDS.get((bar, beat), "")
            signature = "4/4" if (bar, beat) == (1, 1) else ""
            writer.writerow([bar, 40, beat, chord, 1, "", seconds, signature])


@pytest.fixture
def wjazzd(tmp_path):
    """Two solos over the same beats: one with a pickup note, one starting on bar 1."""
    root = tmp_path / "wjazzd"
    (root / "midi").mkdir(parents=True)
    (root / "beats").mkdir()
    # Rows: 0, 1 are bar 0 beats 3, 4 (pickup); row 2 is bar 1 beat 1.
    pickup = [(1.0, 1.5, 60), (2.0, 3.0, 63), (2 + 2 / 3, 3.0, 65), (3.25, 3.5, 67)]
    pickup += [(8 + 1 / 3, 8 + 2 / 3, 70)]
    on_the_one = [(2.0, 4.0, 62), (6.5, 7.0, 64)]
    write_solo(root, "Sonny_Pop#1'=", pickup)
    write_solo(root, "Sonny_Other", on_the_one, ticks_per_beat=192, bpm=73)
    write_beats(root, "Sonny_PopTune1_Solo")
    write_beats(root, "sonny_other_solo")
    with open(root / "index.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["midi", "beats_csv", "performer_key", "title_key", "tune_group"])
        writer.writerow(
            ["midi/Sonny_Pop#1'=_FINAL.mid", "beats/Sonny_PopTune1_Solo.csv"] + ["x"] * 2 + ["A"]
        )
        writer.writerow(
            ["midi/Sonny_Other_FINAL.mid", "beats/sonny_other_solo.csv"] + ["x"] * 2 + ["B"]
        )
    return root


def test_wjazzd_alignment_follows_the_beat_table(wjazzd, tmp_path):
    pieces, report = data.load_corpus(wjazzd, cache_dir=tmp_path / "cache", progress=False)
    by_name = {piece.name: piece for piece in pieces}
    assert set(by_name) == {"Sonny_Pop#1'=", "Sonny_Other"}
    assert (report.loaded, report.skipped, report.notes) == (2, 0, 7)

    # The pickup solo's grid starts on the (extrapolated) downbeat of bar 0, two beats
    # before the table's first row, so row r is beat r + 2.
    pickup = by_name["Sonny_Pop#1'="]
    assert pickup.group == "A" and pickup.beats_per_bar == 4
    assert music.decode_tokens(pickup.tokens) == [
        Note(3 * STEP, 6, 60),
        Note(4 * STEP, 8, 63),
        Note(4 * STEP + 8, 4, 65),
        Note(5 * STEP + 3, 3, 67),
        Note(10 * STEP + 4, 4, 70),
    ]
    assert pickup.steps == 12 * STEP
    chords = pickup.chords
    assert np.all(chords[: 4 * STEP, music.NO_CHORD] == 1)
    for beat, symbol in [(4, "C-7"), (5, "C-7"), (6, "F7"), (7, "F7"), (8, "Bbj7"), (11, "Bbj7")]:
        for step in (beat * STEP, beat * STEP + STEP - 1):
            assert np.array_equal(chords[step], music.chord_vector(symbol)), (beat, symbol)

    # Without a pickup note the grid starts on bar 1; the pickup rows are left out.
    other = by_name["Sonny_Other"]
    assert other.group == "B"
    assert music.decode_tokens(other.tokens) == [Note(0, 2 * STEP, 62), Note(4 * STEP + 6, 6, 64)]
    assert other.steps == 8 * STEP
    assert np.array_equal(other.chords[0], music.chord_vector("C-7"))


def test_wjazzd_missing_file_is_skipped(wjazzd, capsys):
    (wjazzd / "midi" / "Sonny_Other_FINAL.mid").unlink()
    pieces, report = data.load_corpus(wjazzd, cache_dir=False)
    assert [piece.name for piece in pieces] == ["Sonny_Pop#1'="]
    assert report.skipped == 1
    assert "Sonny_Other" in capsys.readouterr().err


def test_split_dev_keeps_groups_together():
    def piece(name, group):
        return data.Piece(
            name, name, np.zeros(1, np.int32), np.zeros((1, 13), np.float32), group=group
        )

    pieces = [piece(f"p{i}", f"g{i // 2}") for i in range(20)]
    train, dev = data.split_dev(pieces, 0.2, seed=3)
    assert len(train) + len(dev) == 20 and len(dev) >= 4
    assert not {p.group for p in train} & {p.group for p in dev}
    assert data.split_dev(pieces, 0.2, seed=3)[1] == dev
    assert data.split_dev(pieces, 0.0)[1] == []
    assert data.split_dev(pieces[:2], 0.5)[1] == []  # one group: nothing to hold out


def test_default_corpus_needs_no_download():
    pieces, report = data.load_corpus(None, cache_dir=False, progress=False)
    assert report.loaded >= 2 and report.skipped == 0
    lead_sheets = [piece for piece in pieces if "leadSheet" in piece.source]
    assert lead_sheets and all(piece.chords[:, :12].any() for piece in lead_sheets)


# --- real data ----------------------------------------------------------------------------

METHENY = data_dir() / "jazz" / "original_metheny.mid"
WJAZZD = data_dir() / "jazz" / "wjazzd"


@pytest.mark.skipif(
    not METHENY.is_file(),
    reason=f"jazz/original_metheny.mid not found under SEQAPPS_DATA ({data_dir()})",
)
def test_metheny_loads_with_melody_and_chords():
    (piece,), report = data.load_corpus(METHENY, cache_dir=False)
    assert piece.notes > 500
    assert piece.chords[:, :12].any(axis=1).mean() > 0.5
    assert piece.beats_per_bar == 4
    assert report.melody_parts[piece.name] == piece.melody_part


@pytest.mark.skipif(
    not data.is_wjazzd_dir(WJAZZD),
    reason=f"jazz/wjazzd not found under SEQAPPS_DATA ({data_dir()})",
)
def test_one_wjazzd_solo_loads():
    solo = data.read_wjazzd_index(WJAZZD)[0]
    beats = data.read_beats_table(solo["beats_csv"])
    notes = data.midi_note_times(solo["midi"])
    piece = data.align_solo(notes, beats, solo["name"], solo["midi"], solo["group"])
    assert piece.notes > 0.95 * len(notes)
    assert piece.tokens[0] != music.PAD and piece.chords[:, :12].any(axis=1).mean() > 0.9
    assert piece.steps % music.STEPS_PER_BEAT == 0
