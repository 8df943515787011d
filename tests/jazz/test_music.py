"""The melody/chord representation: tokens, chord symbols, progressions and file output."""

import mido
import numpy as np
import pytest

from seqapps import music
from seqapps.errors import UserError
from seqapps.music import Note


def relative(symbol):
    chord = music.parse_chord_symbol(symbol)
    return chord.root, {(pc - chord.root) % 12 for pc in chord.pitch_classes}


# --- tokens ---------------------------------------------------------------------------------


def test_vocabulary_layout():
    assert music.VOCAB_SIZE == 4 + 96 - 36 + 1
    assert music.note_token(36) == music.NOTE_OFFSET
    assert music.note_token(96) == music.VOCAB_SIZE - 1
    assert music.token_pitch(music.note_token(60)) == 60
    for special in (music.PAD, music.START, music.REST, music.HOLD):
        assert music.token_pitch(special) is None
    assert music.token_pitch(music.note_token(100)) == 88
    assert music.token_pitch(music.note_token(20)) == 44


def test_encode_decode_round_trip():
    notes = [Note(0, 12, 60), Note(12, 6, 62), Note(18, 3, 64), Note(24, 4, 65), Note(40, 8, 67)]
    tokens = music.encode_notes(notes, 60)
    assert tokens.dtype == np.int32
    assert tokens[0] == music.note_token(60) and tokens[1] == music.HOLD
    assert tokens[28] == music.REST
    assert music.decode_tokens(tokens) == notes


def test_encode_is_monophonic_and_folds_pitches():
    notes = [Note(0, 24, 60), Note(6, 6, 72), Note(6, 3, 50), Note(30, 4, 110)]
    decoded = music.decode_tokens(music.encode_notes(notes, 36))
    assert decoded == [Note(0, 6, 60), Note(6, 6, 72), Note(30, 4, 86)]


def test_decode_treats_stray_holds_and_specials_as_rests():
    tokens = [music.HOLD, music.START, music.note_token(60), music.HOLD, music.PAD, music.HOLD]
    assert music.decode_tokens(tokens) == [Note(2, 2, 60)]


def test_transpose_tokens_and_chords():
    tokens = music.encode_notes([Note(0, 2, 95), Note(2, 2, 60)], 5)
    chords = np.stack([music.chord_vector("C7")] * 4 + [music.chord_vector("N.C.")])
    shifted, rolled = music.transpose(tokens, chords, 2)
    assert [n.pitch for n in music.decode_tokens(shifted)] == [85, 62]
    assert music.parse_chord_symbol("D7").pitch_classes == tuple(np.flatnonzero(rolled[0][:12]))
    assert rolled[4, music.NO_CHORD] == 1 and rolled[4, :12].sum() == 0
    assert music.transpose(tokens, None, -1)[1] is None


# --- chord symbols --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "symbol, root, intervals",
    [
        ("C-7", 0, {0, 3, 7, 10}),
        ("Bb7", 10, {0, 4, 7, 10}),
        ("Ebj7", 3, {0, 4, 7, 11}),
        ("F#m7b5", 6, {0, 3, 6, 10}),
        ("Dm7", 2, {0, 3, 7, 10}),
        ("Cmaj7", 0, {0, 4, 7, 11}),
        ("Bb6", 10, {0, 4, 7, 9}),
        ("C-", 0, {0, 3, 7}),
        ("Co7", 0, {0, 3, 6, 9}),
        ("Co", 0, {0, 3, 6}),
        ("C+", 0, {0, 4, 8}),
        ("A7b9", 9, {0, 1, 4, 7, 10}),
        ("Db7#11", 1, {0, 4, 6, 7, 10}),
        ("E-j7", 4, {0, 3, 7, 11}),
        ("Gsus4", 7, {0, 5, 7}),
        ("C7sus4", 0, {0, 5, 7, 10}),
        ("C9#11", 0, {0, 2, 4, 6, 7, 10}),
        ("C13b9", 0, {0, 1, 4, 7, 9, 10}),
        ("C-6", 0, {0, 3, 7, 9}),
        ("CΔ", 0, {0, 4, 7, 11}),
        ("Cø", 0, {0, 3, 6, 10}),
        ("B♭7", 10, {0, 4, 7, 10}),
        # WJazzD writes an alteration after its degree: 7 b9 13, and 7 9 #11.
        ("A79b13", 9, {0, 1, 4, 7, 9, 10}),
        ("C7911#", 0, {0, 2, 4, 6, 7, 10}),
        ("Ab69", 8, {0, 2, 4, 7, 9}),
    ],
)
def test_chord_symbols(symbol, root, intervals):
    assert relative(symbol) == (root, intervals)


def test_alt_and_slash_chords():
    assert relative("C7alt")[1] >= {0, 4, 10, 1, 3}
    chord = music.parse_chord_symbol("F/A")
    assert (chord.root, chord.bass, set(chord.pitch_classes)) == (5, 9, {5, 9, 0})
    assert set(music.parse_chord_symbol("C7/Bb").pitch_classes) == {0, 4, 7, 10}
    assert 2 in music.parse_chord_symbol("C/D").pitch_classes


@pytest.mark.parametrize("symbol", ["N.C.", "NC", "N.C", "", "  "])
def test_no_chord(symbol):
    chord = music.parse_chord_symbol(symbol)
    assert chord.root is None and chord.pitch_classes == ()
    vector = music.chord_vector(symbol)
    assert vector.shape == (music.CHORD_DIM,) and vector.dtype == np.float32
    assert vector[music.NO_CHORD] == 1 and vector.sum() == 1


def test_chord_vector():
    vector = music.chord_vector("C-7")
    assert np.flatnonzero(vector).tolist() == [0, 3, 7, 10]
    assert music.chord_vector(None)[music.NO_CHORD] == 1


@pytest.mark.parametrize("symbol", ["H7", "Cxyz", "C8", "7", "c7", "C7b", "C/X"])
def test_invalid_chord_symbols(symbol):
    with pytest.raises(ValueError, match=repr(symbol).replace("\\", "\\\\")):
        music.parse_chord_symbol(symbol)


# --- progressions ---------------------------------------------------------------------------


def symbols(chords):
    return [chord.symbol for chord in chords]


def test_progression_bars_split_and_repeat():
    beats = music.parse_progression("| C-7 F7 | Bbj7 | % | Eb7 / Ab7 / |", beats_per_bar=4)
    assert symbols(beats) == (
        ["C-7"] * 2 + ["F7"] * 2 + ["Bbj7"] * 8 + ["Eb7", "Eb7", "Ab7", "Ab7"]
    )
    assert symbols(music.parse_progression("C | G", beats_per_bar=3)) == ["C"] * 3 + ["G"] * 3
    assert symbols(music.parse_progression("N.C. | C", beats_per_bar=2))[0] == "N.C."


def test_progression_errors_name_the_problem():
    with pytest.raises(UserError, match=r"bar 2.*'Cxyz'"):
        music.parse_progression("C | Cxyz")
    with pytest.raises(UserError, match="bar 1.*3 chords"):
        music.parse_progression("C F G")
    with pytest.raises(UserError, match="'%'"):
        music.parse_progression("% | C")
    with pytest.raises(UserError, match="no chords"):
        music.parse_progression(" | | ")


def test_chords_per_step():
    steps = music.chords_per_step(music.parse_progression("C F"))
    assert steps.shape == (4 * music.STEPS_PER_BEAT, music.CHORD_DIM)
    assert steps.dtype == np.float32
    assert np.array_equal(steps[23], music.chord_vector("C"))
    assert np.array_equal(steps[24], music.chord_vector("F"))


# --- output ---------------------------------------------------------------------------------


@pytest.fixture
def two_bars():
    notes = [Note(0, 12, 60), Note(12, 6, 62), Note(18, 6, 64), Note(36, 4, 67), Note(40, 4, 65)]
    notes += [Note(44, 4, 64), Note(48, 48, 72)]
    tokens = music.encode_notes(notes, 96)
    chords = music.chords_per_step(music.parse_progression("| C-7 F7 | Bbj7 |"))
    return notes, tokens, chords


def test_write_midi_tracks_tempo_and_meter(tmp_path, two_bars):
    notes, tokens, chords = two_bars
    path = music.write_midi(tmp_path / "out.mid", tokens, chords, tempo=150, beats_per_bar=4)
    midi = mido.MidiFile(path)
    assert midi.ticks_per_beat == 480
    names = [track.name for track in midi.tracks]
    assert names[1:] == ["Melody", "Chords"]
    meta = [message for message in midi.tracks[0] if message.is_meta]
    tempo = next(m for m in meta if m.type == "set_tempo").tempo
    assert round(mido.tempo2bpm(tempo)) == 150
    signature = next(m for m in meta if m.type == "time_signature")
    assert (signature.numerator, signature.denominator) == (4, 4)
    melody_pitches = [m.note for m in midi.tracks[1] if m.type == "note_on" and m.velocity]
    assert melody_pitches == [n.pitch for n in notes]
    chord_onsets = [m for m in midi.tracks[2] if m.type == "note_on" and m.velocity]
    assert {m.note % 12 for m in chord_onsets[:4]} == {0, 3, 7, 10}
    assert not list(tmp_path.glob(".tmp*"))

    from music21 import converter

    score = converter.parse(str(path))
    assert [part.partName for part in score.parts] == ["Melody", "Chords"]
    assert len(score.parts[0].getElementsByClass("Measure")) == 2


def test_musicxml_and_piano_roll(tmp_path, two_bars):
    _, tokens, chords = two_bars
    score = music.melody_score(tokens, chords, tempo=100, beats_per_bar=4)
    assert [part.partName for part in score.parts] == ["Melody", "Chords"]
    xml = music.write_musicxml(tmp_path / "out.musicxml", tokens, chords)
    assert "Melody" in xml.read_text(encoding="utf-8")
    png = music.piano_roll_png(tmp_path / "roll.png", tokens, chords)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_output_without_chords(tmp_path, two_bars):
    _, tokens, _ = two_bars
    midi = mido.MidiFile(music.write_midi(tmp_path / "solo.mid", tokens))
    assert [track.name for track in midi.tracks][1:] == ["Melody", "Chords"]
    assert not [m for m in midi.tracks[2] if m.type == "note_on"]
