"""Greedy improvising (temperature 0): notes are decided by the pitches' total probability."""

from types import SimpleNamespace

import keras
import numpy as np

from apps.jazz.generate import improvise
from apps.jazz.model import build_model, metrical_positions
from seqapps import music
from seqapps.training import inference_function

BARS, BEATS = 2, 4
PITCH_CLASSES = {0, 4, 7, 10}  # C7


def note_friendly_model():
    """An untrained improviser whose output layer makes the rhythm tokens individually
    likelier than any one pitch, while the pitches together (chord tones most) are likelier
    than rest and hold together; the recurrent part keeps its random weights, so the
    logits still change with the history and the step."""
    options = SimpleNamespace(
        embedding_dim=8, cell="lstm", units=8, layers=1, bidirectional=False, dropout=0.0,
        recurrent_dropout=0.0, seed=4, input_skip=True,
    )  # fmt: skip
    keras.utils.set_random_seed(4)
    model = build_model(options)
    head = model.get_layer("next_token")
    kernel = 0.1 * np.random.default_rng(5).normal(size=head.kernel.shape).astype("float32")
    bias = np.zeros(music.VOCAB_SIZE, "float32")
    bias[[music.PAD, music.START]] = -10.0
    bias[music.REST], bias[music.HOLD] = 3.0, 2.5
    # The skip part of the head's input is [token embedding; chord; step; beat].
    chord_rows = options.units + options.embedding_dim + np.arange(12)
    for pitch in range(music.LOWEST_PITCH, music.HIGHEST_PITCH + 1):
        kernel[chord_rows[pitch % 12], music.note_token(pitch)] = 1.0
    head.set_weights([kernel, bias])
    return model


def greedy_choice(logits):
    """The documented rule: pitches or the rest by total probability, then the argmax."""
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    pitches = np.arange(len(logits)) >= music.NOTE_OFFSET
    side = pitches if probabilities[pitches].sum() >= probabilities[~pitches].sum() else ~pitches
    return int(np.flatnonzero(side)[np.argmax(logits[side])])


def test_greedy_solo_plays_notes_where_a_plain_argmax_only_rests():
    model = note_friendly_model()
    chords = music.chords_per_step(music.parse_progression("C7 | C7", BEATS))
    solo = improvise(model, chords, bars=BARS, beats_per_bar=BEATS, temperature=0.0)[0]
    steps = BARS * BEATS * music.STEPS_PER_BEAT
    assert len(solo.tokens) == steps

    # The compiled loop equals a step-by-step reference of the rule on the teacher-forced
    # model, and the plain argmax of those same logits is never a note.
    forward = inference_function(model)
    sequence = [music.START]
    plain = []
    for _ in range(steps):
        step_in_beat, beat_in_bar = metrical_positions(len(sequence), BEATS)
        logits = forward(
            [
                np.array([sequence], "int32"),
                np.resize(chords, (len(sequence), music.CHORD_DIM))[np.newaxis],
                step_in_beat[np.newaxis],
                beat_in_bar[np.newaxis],
            ]
        )[0, -1]
        plain.append(int(np.argmax(logits)))
        sequence.append(greedy_choice(logits))
    np.testing.assert_array_equal(solo.tokens, sequence[1:])
    assert set(plain) <= {music.REST, music.HOLD}

    notes = solo.notes
    assert len(notes) >= BARS * BEATS
    assert {pitch % 12 for _, _, pitch in notes} <= PITCH_CLASSES
    # The same in the graph loop without XLA.
    graph = improvise(model, chords, bars=BARS, beats_per_bar=BEATS, temperature=0.0, jit=False)
    np.testing.assert_array_equal(graph[0].tokens, solo.tokens)
