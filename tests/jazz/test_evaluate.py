"""The solo statistics of the jazz evaluation, on melodies built by hand."""

import numpy as np
import pytest

from apps.jazz.analysis import CopyDetector, chord_scale, pooled_statistics, solo_statistics
from seqapps import music

BAR = 4 * music.STEPS_PER_BEAT


def _melody(pitches, step=6, total=None):
    notes = [music.Note(i * step, step, p) for i, p in enumerate(pitches)]
    return music.encode_notes(notes, total or len(pitches) * step)


def test_chord_and_scale_tone_ratios_count_onsets_under_the_sounding_chord():
    # C E G (chord tones of C7), D (scale tone of C mixolydian), C# (neither)
    tokens = _melody([60, 64, 67, 62, 61, 70, 60, 60, 61, 61, 61, 72], total=2 * BAR)
    chords = music.chords_per_step(music.parse_progression("C7 | N.C."))
    stats = solo_statistics(tokens, chords)
    # The first bar (C7) holds 8 eighth notes; the second bar is "no chord" and not counted.
    assert stats["onsets_under_chords"] == 8
    assert stats["chord_tones"] == 6  # 60 64 67 70 60 60
    assert stats["scale_tones"] == 7  # and D
    assert stats["pitch_range"] == 12 and stats["notes_per_bar"] == 6.0
    assert stats["chord_tone_ratio"] == pytest.approx(6 / 8)


def test_chord_scales_follow_the_chord_quality():
    dorian_d = {2, 4, 5, 7, 9, 11, 0}
    assert chord_scale(music.parse_chord_symbol("D-7").pitch_classes) == dorian_d
    locrian_b = {11, 0, 2, 4, 5, 7, 9}
    assert chord_scale(music.parse_chord_symbol("Bm7b5").pitch_classes) == locrian_b
    # A chord's own tones always count, even outside the template's scale.
    assert 6 in chord_scale(music.parse_chord_symbol("C7#11").pitch_classes)


def test_pooled_ratios_weigh_solos_by_their_onsets():
    first = {"onsets_under_chords": 10, "chord_tones": 10, "scale_tones": 10, "notes": 10}
    second = {"onsets_under_chords": 30, "chord_tones": 0, "scale_tones": 15, "notes": 30}
    for stats, (low, high) in zip((first, second), ((60, 72), (50, 55))):
        stats.update(pitch_range=high - low, notes_per_bar=4.0)
    pooled = pooled_statistics([first, second])
    assert pooled["chord_tone_ratio"] == pytest.approx(0.25)
    assert pooled["scale_tone_ratio"] == pytest.approx(0.625)
    assert pooled["pitch_range"] == pytest.approx(8.5)


def test_copy_detector_finds_a_transposed_phrase_and_its_length_in_bars():
    rng = np.random.default_rng(0)
    phrase = [60, 62, 64, 65, 67, 65, 64, 62, 60, 59, 57, 55]  # 12 eighths = 1.5 bars
    training = _melody(list(rng.integers(48, 80, 40)) + phrase + list(rng.integers(48, 80, 40)))
    detector = CopyDetector([(training, 4)])
    # The same phrase a fourth higher, starting on the same place in the bar, among new notes.
    offset = 80 * 6 % BAR
    lead_in = list(rng.integers(40, 90, 16 + offset // 6))
    generated = _melody(lead_in + [p + 5 for p in phrase] + list(rng.integers(40, 90, 16)))
    notes, bars = detector.longest_copy(generated, 4)
    assert notes >= len(phrase)
    assert bars == pytest.approx((len(phrase) - 1) * 6 / BAR, abs=0.2)
    # Unrelated material copies (almost) nothing.
    fresh = _melody(list(rng.integers(40, 90, 60)), step=4)
    assert detector.longest_copy(fresh, 4)[0] <= 3
