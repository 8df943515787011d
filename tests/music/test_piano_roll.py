"""The piano roll names its chords at each change and numbers its bars."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from seqapps import music


def progression_steps(text, beats_per_bar=4):
    return music.chords_per_step(music.parse_progression(text, beats_per_bar))


def figure_of(text, bars, symbols=None):
    chords = progression_steps(text)
    steps = bars * 4 * music.STEPS_PER_BEAT
    chords = np.resize(chords, (steps, music.CHORD_DIM))
    tokens = np.full(steps, music.HOLD, dtype=np.int32)
    tokens[:: music.STEPS_PER_BEAT] = music.note_token(62)
    return music.piano_roll_figure(tokens, chords, 4, chord_symbols=symbols)


def texts(figure):
    return [text.get_text() for text in figure.axes[0].texts]


def test_each_chord_change_is_labelled_with_its_symbol():
    figure = figure_of("Dm7 G7 | Cmaj7", bars=2, symbols=["D-7", "G7", "Cj7"])
    assert texts(figure) == ["D-7", "G7", "Cj7"]
    plt.close(figure)


def test_without_symbols_the_chords_are_named_from_their_pitch_classes():
    figure = figure_of("Dm7 G7 | Cmaj7 | Bm7b5 E7 | Am", bars=4)
    assert texts(figure) == ["Dm7", "G7", "Cmaj7", "Bm7b5", "E7", "Am"]
    plt.close(figure)


def test_the_bars_are_numbered():
    figure = figure_of("Dm7 G7 | Cmaj7", bars=4)
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert labels == ["1", "2", "3", "4"]
    assert figure.axes[0].get_xlabel() == "bar"
    plt.close(figure)


def test_a_symbol_list_that_does_not_fit_the_changes_is_refused():
    with pytest.raises(ValueError, match="2 symbols for 3 chord changes"):
        figure_of("Dm7 G7 | Cmaj7", bars=2, symbols=["Dm7", "G7"])


def test_the_png_is_written(tmp_path):
    chords = progression_steps("F7 | Bb7")
    tokens = np.full(len(chords), music.REST, dtype=np.int32)
    path = music.piano_roll_png(tmp_path / "roll.png", tokens, chords)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
