"""Melody tokens on the step grid: `encode_notes`, `decode_tokens`, `transpose`.

Time runs on a grid of `STEPS_PER_BEAT` = 12 steps per beat (a quarter note); a
melody is one token per step (`PAD`, `START`, `REST`, `HOLD` or a note token). See
`seqapps.music` for the whole representation.
"""

from typing import NamedTuple

import numpy as np

STEPS_PER_BEAT = 12
LOWEST_PITCH = 36
HIGHEST_PITCH = 96

PAD = 0
START = 1
REST = 2
HOLD = 3
NOTE_OFFSET = 4
VOCAB_SIZE = NOTE_OFFSET + HIGHEST_PITCH - LOWEST_PITCH + 1


class Note(NamedTuple):
    """One melody note on the step grid.

    Attributes:
        onset: First step the note sounds.
        duration: Number of steps it sounds (at least 1).
        pitch: MIDI pitch.
    """

    onset: int
    duration: int
    pitch: int


def fold_pitch(pitch):
    """Move `pitch` by octaves into `LOWEST_PITCH`..`HIGHEST_PITCH`."""
    pitch = int(pitch)
    while pitch < LOWEST_PITCH:
        pitch += 12
    while pitch > HIGHEST_PITCH:
        pitch -= 12
    return pitch


def note_token(pitch):
    """The token that starts `pitch` (folded into range by octaves)."""
    return NOTE_OFFSET + fold_pitch(pitch) - LOWEST_PITCH


def token_pitch(token):
    """The MIDI pitch a note token starts, or None for `PAD`/`START`/`REST`/`HOLD`."""
    token = int(token)
    if NOTE_OFFSET <= token < VOCAB_SIZE:
        return token - NOTE_OFFSET + LOWEST_PITCH
    return None


def encode_notes(notes, total_steps):
    """Tokens for a melody: a note token at each onset, `HOLD` while it sounds, else `REST`.

    A note starting while another sounds cuts the earlier one short; of notes
    starting on the same step only the highest is kept (the top line is the
    melody). Notes starting at or after `total_steps` are dropped.

    Args:
        notes: `Note`s (or `(onset, duration, pitch)` tuples) in steps.
        total_steps: Length of the token sequence.

    Returns:
        `np.int32[total_steps]`.
    """
    tokens = np.full(int(total_steps), REST, dtype=np.int32)
    top_by_onset = {}
    for onset, duration, pitch in notes:
        onset = int(onset)
        if 0 <= onset < total_steps:
            kept = top_by_onset.get(onset)
            if kept is None or pitch > kept[1]:
                top_by_onset[onset] = (max(1, int(duration)), int(pitch))
    onsets = sorted(top_by_onset)
    for index, onset in enumerate(onsets):
        duration, pitch = top_by_onset[onset]
        end = min(onset + duration, total_steps)
        if index + 1 < len(onsets):
            end = min(end, onsets[index + 1])
        tokens[onset] = note_token(pitch)
        tokens[onset + 1 : end] = HOLD
    return tokens


def decode_tokens(tokens):
    """The notes a token sequence plays (inverse of `encode_notes` on the grid).

    A `HOLD` with no note sounding (at the start or after a rest) is a rest;
    `PAD` and `START` are rests.

    Returns:
        A list of `Note`s in onset order.
    """
    notes = []
    onset = pitch = None
    for step, token in enumerate(np.asarray(tokens).reshape(-1).tolist()):
        if token == HOLD and pitch is not None:
            continue
        if pitch is not None:
            notes.append(Note(onset, step - onset, pitch))
            onset = pitch = None
        started = token_pitch(token)
        if started is not None:
            onset, pitch = step, started
    if pitch is not None:
        notes.append(Note(onset, len(np.asarray(tokens).reshape(-1)) - onset, pitch))
    return notes


def transpose(tokens, chords, semitones):
    """Shift a melody and its chords by `semitones`.

    Note tokens move by `semitones` and are folded into range by octaves; the
    chords' pitch-class columns are rolled; the no-chord flag stays put.

    Args:
        tokens: Token array (any shape).
        chords: `[..., CHORD_DIM]` array, or None.
        semitones: Interval, positive up.

    Returns:
        `(tokens, chords)` as new arrays (`chords` None if given None).
    """
    tokens = np.asarray(tokens)
    shifted = tokens.copy()
    is_note = (tokens >= NOTE_OFFSET) & (tokens < VOCAB_SIZE)
    pitches = tokens[is_note].astype(np.int64) - NOTE_OFFSET + LOWEST_PITCH + int(semitones)
    shifted[is_note] = [note_token(pitch) for pitch in pitches.tolist()]
    if chords is None:
        return shifted, None
    chords = np.asarray(chords)
    rolled = chords.copy()
    rolled[..., :12] = np.roll(chords[..., :12], int(semitones), axis=-1)
    return shifted, rolled
