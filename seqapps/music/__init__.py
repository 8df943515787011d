"""Melody and chord representation shared by the jazz app and its exported generator.

`tokens` (the step grid and melody tokens), `chords` (chord symbols and vectors) and
`writers` (MIDI, MusicXML, piano roll); every public name is importable from here.

Time runs on a grid of `STEPS_PER_BEAT` = 12 steps per beat, where a beat is a
quarter note. Twelve is the smallest grid that holds both sixteenth notes (3
steps) and eighth-note triplets (4 steps), the two subdivisions jazz lines mix
most; it also holds sixteenth triplets (2 steps).

A melody is one token per step:

* `PAD` (0) pads batches and `START` (1) primes generation; both decode as rest;
* `REST` (2): nothing sounds at this step;
* `HOLD` (3): the note sounding at the previous step goes on;
* a note token `note_token(pitch)` starts `pitch` at this step. Pitches run from
  `LOWEST_PITCH` to `HIGHEST_PITCH` (MIDI numbers, inclusive); others are folded
  into that range by octaves.

Melodies are monophonic: a note starting cuts the note before it short.

Chords condition the melody one vector per step (`CHORD_DIM` = 13): twelve
pitch-class flags (C = 0) and a last flag for "no chord". Chord symbols follow
jazz lead-sheet and Weimar Jazz Database (WJazzD) usage, not music21's: a `-`
after the root means minor (`C-7` is C minor seventh), not a flat (write `Bb`).
See `parse_chord_symbol` for the accepted syntax.

The package imports only numpy at import time (music21, mido and matplotlib are
imported inside the functions that write files), so the exported generator can
decode and write melodies without TensorFlow or any training code.
"""

from seqapps.music.chords import (
    CHORD_DIM,
    NO_CHORD,
    NO_CHORD_CHORD,
    Chord,
    chord_changes,
    chord_label,
    chord_name,
    chord_vector,
    chord_voicing,
    chords_per_step,
    parse_chord_symbol,
    parse_progression,
    pitch_class_vector,
)
from seqapps.music.tokens import (
    HIGHEST_PITCH,
    HOLD,
    LOWEST_PITCH,
    NOTE_OFFSET,
    PAD,
    REST,
    START,
    STEPS_PER_BEAT,
    VOCAB_SIZE,
    Note,
    decode_tokens,
    encode_notes,
    fold_pitch,
    note_token,
    token_pitch,
    transpose,
)
from seqapps.music.writers import (
    MIDI_TICKS_PER_BEAT,
    melody_score,
    midi_file,
    piano_roll_figure,
    piano_roll_png,
    write_midi,
    write_musicxml,
)

__all__ = [
    "CHORD_DIM",
    "Chord",
    "HIGHEST_PITCH",
    "HOLD",
    "LOWEST_PITCH",
    "MIDI_TICKS_PER_BEAT",
    "NOTE_OFFSET",
    "NO_CHORD",
    "NO_CHORD_CHORD",
    "Note",
    "PAD",
    "REST",
    "START",
    "STEPS_PER_BEAT",
    "VOCAB_SIZE",
    "chord_changes",
    "chord_label",
    "chord_name",
    "chord_vector",
    "chord_voicing",
    "chords_per_step",
    "decode_tokens",
    "encode_notes",
    "fold_pitch",
    "melody_score",
    "midi_file",
    "note_token",
    "parse_chord_symbol",
    "parse_progression",
    "piano_roll_figure",
    "piano_roll_png",
    "pitch_class_vector",
    "token_pitch",
    "transpose",
    "write_midi",
    "write_musicxml",
    "",
]
