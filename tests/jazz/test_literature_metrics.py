"""The literature's jazz measures (MINGUS harmonic coherence, MGEval), on hand-built melodies."""

import json
import math

import numpy as np
import pytest

from apps.jazz import literature_metrics as lm
from seqapps import music

BEAT = music.STEPS_PER_BEAT
BAR = 4 * BEAT


def _tokens(notes, total):
    return music.encode_notes([music.Note(*n) for n in notes], total)


def _eighths(pitches, total=None):
    notes = [(i * 6, 6, p) for i, p in enumerate(pitches)]
    return _tokens(notes, total or 6 * len(pitches))


def _chords(progression):
    return music.chords_per_step(music.parse_progression(progression))


# --- harmonic coherence ------------------------------------------------------------------


def test_c7_bar_with_a_ninth_has_four_fifths_chord_tones_and_all_scale_tones():
    # C E G Bb are C7's tones; D is the major-scale second music21's `add 2` brings in.
    solo = (_eighths([60, 64, 67, 70, 62], total=BAR), _chords("C7"))
    result = lm.harmonic_coherence([solo])
    assert result["notes"] == 5
    assert result["chord_tone_share"] == pytest.approx(4 / 5)
    assert result["scale_tone_share"] == pytest.approx(1.0)


def test_scale_is_the_chord_plus_the_roots_major_scale():
    # C7's scale is C D E F G A Bb B: the major seventh counts, Eb and Db do not.
    assert lm.mingus_scale_tones(0, (0, 4, 7, 10)) == {0, 2, 4, 5, 7, 9, 10, 11}
    # Cm7: the major third E is added by `add 3` as well.
    assert lm.mingus_scale_tones(0, (0, 3, 7, 10)) == {0, 2, 3, 4, 5, 7, 9, 10, 11}


def test_triads_count_the_major_seventh_as_a_chord_tone():
    # MINGUS pads chords of fewer than four pitches with music21's `add 7`.
    assert lm.mingus_chord_tones(0, (0, 3, 7)) == {0, 3, 7, 11}
    assert lm.mingus_chord_tones(0, (0, 4, 7, 10)) == {0, 4, 7, 10}
    solo = (_eighths([71, 70], total=BAR), _chords("C"))
    assert lm.harmonic_coherence([solo])["chord_tone_share"] == pytest.approx(1 / 2)


def test_scale_tones_are_matched_by_spelled_name_as_mingus_does():
    # Over Bb-7 music21 spells Db and Ab as D- and A-, while MIDI notes 61 and 68 are
    # named C# and G#: chord tones, yet not scale tones. C (the ninth) is a scale tone.
    solo = (_eighths([70, 61, 65, 68, 72], total=BAR), _chords("Bb-7"))
    spelled = lm.harmonic_coherence([solo])
    assert spelled["chord_tone_share"] == pytest.approx(4 / 5)
    assert spelled["scale_tone_share"] == pytest.approx(3 / 5)
    by_pitch_class = lm.harmonic_coherence([solo], spelled=False)
    assert by_pitch_class["scale_tone_share"] == pytest.approx(1.0)


def test_a_fifth_altered_in_the_figure_keeps_the_perfect_fifth_out_of_the_scale():
    # `m7b5` is `m7 add b5` to music21, so `add 5` adds nothing; `o` lists -5 and gets G.
    assert 7 not in lm.mingus_scale_tones(0, (0, 3, 6, 10))
    assert 7 in lm.mingus_scale_tones(0, (0, 3, 6))
    assert 7 in lm.mingus_scale_tones(0, (0, 3, 6, 9))


def test_flat_roots_spell_their_scales_with_flats():
    # Db7 (D- F A- C-) and its scale D- E- F G- A- B- C: of the MIDI spellings only
    # E-, F, B- and C match; Gb's scale holds C- (not B).
    assert lm.mingus_scale_tones(1, (1, 5, 8, 11)) == {0, 3, 5, 10}
    assert 11 not in lm.mingus_scale_tones(6, (6, 10, 1, 4))
    assert 11 in lm.mingus_scale_tones(6, (6, 10, 1, 4), spelled=False)


def test_shares_are_pooled_over_notes_not_averaged_over_pieces():
    one_hit = (_eighths([60], total=BAR), _chords("C7"))
    three_misses = (_eighths([61, 61, 61], total=BAR), _chords("C7"))
    result = lm.harmonic_coherence([one_hit, three_misses])
    assert result["notes"] == 4
    assert result["chord_tone_share"] == pytest.approx(1 / 4)


def test_notes_under_no_chord_and_rests_are_not_counted():
    tokens = _tokens([(0, 6, 60), (12, 6, 61), (BAR, 6, 64)], 2 * BAR)
    result = lm.harmonic_coherence([(tokens, _chords("C7 | N.C."))])
    assert result["notes"] == 2
    assert result["chord_tone_share"] == pytest.approx(1 / 2)


def test_the_chord_is_the_one_sounding_at_the_onset():
    # A note struck on C7 and held into F7 is judged against C7 only.
    tokens = _tokens([(BEAT, 2 * BEAT, 64)], BAR)
    assert lm.coherence_counts((tokens, _chords("C7 F7")))[:2] == (1, 1)
    tokens = _tokens([(2 * BEAT, BEAT, 64)], BAR)
    assert lm.coherence_counts((tokens, _chords("C7 F7")))[:2] == (1, 0)


def test_an_explicit_root_changes_the_scale():
    # C E G A read as C6 (the stacked-thirds default) or as A-7 (root A).
    chords = _chords("C6")
    tokens = _eighths([65], total=BAR)  # F: in C major, not in A major
    assert lm.chord_root((0, 4, 7, 9)) == 0
    assert lm.coherence_counts((tokens, chords))[2] == 1
    roots = np.full(len(chords), 9)
    assert lm.coherence_counts(lm.Solo(tokens, chords, roots))[2] == 0


def test_no_notes_under_chords_gives_no_share():
    solo = (_eighths([60], total=BAR), _chords("N.C."))
    assert lm.harmonic_coherence([solo]) == {
        "chord_tone_share": None,
        "scale_tone_share": None,
        "notes": 0,
    }


def test_scales_agree_with_music21_chord_symbols():
    m21 = pytest.importorskip("music21")
    default_names = [m21.pitch.Pitch(60 + i).name for i in range(12)]
    for figure in ("C7", "B-m7", "D-7", "Cm7b5", "Co7", "A-maj7", "E7 add #9", "G7 add b13"):
        symbol = m21.harmony.ChordSymbol(figure)
        pitch_classes = sorted({p.pitchClass for p in symbol.pitches})
        root = symbol.root().pitchClass
        for degree in range(2, 9):
            modification = m21.harmony.ChordStepModification("add", degree)
            symbol.addChordStepModification(modification, updatePitches=True)
        names = {p.name for p in symbol.pitches}
        expected = {pc for pc in range(12) if default_names[pc] in names}
        assert lm.mingus_scale_tones(root, pitch_classes) == expected, figure


# --- MGEval features ---------------------------------------------------------------------


def test_note_length_classes_follow_mgeval():
    # Steps (12 per quarter) -> MGEval class index.
    cases = {48: 0, 24: 1, 12: 2, 6: 3, 3: 4, 36: 5, 18: 6, 9: 7, 16: 9, 8: 10, 4: 11, 5: 8}
    for steps, index in cases.items():
        assert lm.note_length_class(steps) == index, steps
    # 42 steps lies halfway between the whole note and the dotted half: the first listed wins.
    assert lm.note_length_class(42) == 0
    notes = [music.Note(0, 12, 60), music.Note(12, 6, 62), music.Note(18, 6, 64)]
    assert lm.note_length_histogram(notes).tolist() == [0, 0, 1 / 3, 2 / 3] + [0] * 8


def test_pitch_class_histogram_is_weighted_by_duration():
    tokens = _tokens([(0, 12, 60), (12, 6, 64), (18, 6, 72)], 24)
    histogram = lm.piece_features(tokens)["total_pitch_class_histogram"]
    assert histogram[0] == pytest.approx(0.75) and histogram[4] == pytest.approx(0.25)
    assert histogram.sum() == pytest.approx(1.0)


def test_scalar_features():
    tokens = _tokens([(0, 12, 60), (12, 12, 67), (24, 6, 62), (30, 6, 60)], 48)
    features = lm.piece_features(tokens, tempo=120)
    assert features["total_used_pitch"] == 3 and features["total_used_note"] == 4
    assert features["pitch_range"] == 7
    assert features["avg_pitch_shift"] == pytest.approx((7 + 5 + 2) / 3)
    # Onsets 0, 12, 24, 30 steps; at 120 bpm a step is 1/24 s.
    assert features["avg_IOI"] == pytest.approx((30 / 3) / 24)
    assert math.isnan(lm.piece_features(_tokens([(0, 6, 60)], 12))["avg_IOI"])


def test_transitions_need_a_note_end_within_50_ms_of_a_start():
    # C E contiguous; a one-step gap (1/24 s at 120 bpm) before G; a two-step gap before A.
    notes = [
        music.Note(0, 6, 60),
        music.Note(6, 6, 64),
        music.Note(13, 6, 67),
        music.Note(21, 6, 69),
    ]
    matrix = lm.pitch_class_transition_matrix(notes, tempo=120)
    assert matrix[0, 4] == 1 and matrix[4, 7] == 1 and matrix[7, 9] == 0
    assert matrix.sum() == 2
    # At 60 bpm a step lasts 1/12 s, so the one-step gap breaks the transition too.
    assert lm.pitch_class_transition_matrix(notes, tempo=60).sum() == 1


def test_intra_set_distances_leave_one_out_and_inter_set_distances_cross_sets():
    values = np.array([[0.0], [1.0], [3.0]])
    assert sorted(lm.intra_set_distances(values).tolist()) == [1, 1, 2, 2, 3, 3]
    assert sorted(lm.inter_set_distances(values, np.array([[0.5]])).tolist()) == [0.5, 0.5, 2.5]
    matrices = np.zeros((2, 12, 12))
    matrices[1, 0, 0], matrices[1, 3, 4] = 3, 4
    assert lm.intra_set_distances(matrices).tolist() == [5.0, 5.0]


# --- densities ---------------------------------------------------------------------------


def test_kde_matches_a_hand_computed_value():
    # Samples 0 1 3: sd (ddof=1) sqrt(7/3), Scott bandwidth h = 3**-0.2 * sqrt(7/3);
    # pdf(0) = (1 + exp(-1/(2h^2)) + exp(-9/(2h^2))) / (3 h sqrt(2 pi)).
    assert lm.gaussian_kde([0.0, 1.0, 3.0])(0.0)[0] == pytest.approx(0.19165564, rel=1e-6)


def test_kde_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    samples = np.random.default_rng(0).gamma(2.0, 1.5, size=60)
    points = np.linspace(-1, 12, 50)
    np.testing.assert_allclose(
        lm.gaussian_kde(samples)(points), stats.gaussian_kde(samples)(points), rtol=1e-10
    )


def test_kde_refuses_a_degenerate_sample():
    with pytest.raises(ValueError):
        lm.gaussian_kde([2.0, 2.0, 2.0])


def test_identical_distributions_give_no_divergence_and_full_overlap():
    sample = np.random.default_rng(1).normal(5, 1, size=80)
    assert lm.kl_divergence(sample, sample) == pytest.approx(0.0, abs=1e-12)
    assert lm.overlap_area(sample, sample) == pytest.approx(1.0, abs=0.02)


def test_a_wider_inter_set_gives_a_larger_divergence_and_a_smaller_overlap():
    rng = np.random.default_rng(2)
    intra = rng.normal(5, 1, size=200)
    near = rng.normal(5.2, 1.1, size=200)
    far = rng.normal(8, 2.5, size=200)
    assert lm.kl_divergence(intra, far) > lm.kl_divergence(intra, near)
    assert lm.overlap_area(intra, far) < lm.overlap_area(intra, near)


def test_kl_compares_each_density_on_its_own_range_as_mgeval_does():
    # A pure shift leaves both grids' density shapes alike: KL ~ 0, though they barely overlap.
    sample = np.random.default_rng(3).normal(0, 1, size=100)
    assert lm.kl_divergence(sample, sample + 10) == pytest.approx(0.0, abs=1e-9)
    assert lm.overlap_area(sample, sample + 10) < 0.01


def test_kl_and_overlap_match_mgevals_scipy_definitions():
    pytest.importorskip("scipy")
    from scipy import integrate, stats

    rng = np.random.default_rng(4)
    a, b = rng.gamma(2.0, 1.0, size=90), rng.gamma(3.0, 1.2, size=120)
    pdf_a, pdf_b = stats.gaussian_kde(a), stats.gaussian_kde(b)
    kl = stats.entropy(
        pdf_a(np.linspace(a.min(), a.max(), 1000)), pdf_b(np.linspace(b.min(), b.max(), 1000))
    )
    overlap = integrate.quad(
        lambda x: min(pdf_a(x)[0], pdf_b(x)[0]), min(a.min(), b.min()), max(a.max(), b.max())
    )[0]
    assert lm.kl_divergence(a, b) == pytest.approx(kl, rel=1e-9)
    assert lm.overlap_area(a, b) == pytest.approx(overlap, abs=1e-5)


# --- the whole comparison ----------------------------------------------------------------


def _random_solo(rng, bars=2):
    notes, step = [], 0
    while step < bars * BAR:
        duration = int(rng.choice([3, 4, 6, 8, 12]))
        if rng.random() < 0.85:
            notes.append((step, duration, int(rng.integers(55, 80))))
        step += duration
    tokens = _tokens(notes, bars * BAR)
    return tokens, _chords("C-7 F7 | Bbj7")


def test_compare_solos_gives_a_json_ready_report():
    rng = np.random.default_rng(5)
    generated = [_random_solo(rng) for _ in range(6)]
    reference = [_random_solo(rng) for _ in range(7)]
    report = lm.compare_solos(generated, reference)
    json.dumps(report, allow_nan=False)
    assert report["pieces"] == {"generated": 6, "reference": 7}
    coherence = report["harmonic_coherence"]
    assert coherence["generated"]["chord_tone_share"] == pytest.approx(
        lm.harmonic_coherence(generated)["chord_tone_share"]
    )
    assert (
        coherence["reference"]["scale_tone_share"]
        <= coherence["reference"]["scale_tone_share_pitch_class"]
    )
    assert set(report["mgeval"]) == set(lm.FEATURES)
    histogram = report["mgeval"]["total_pitch_class_histogram"]
    assert histogram["reference_mean"] == pytest.approx(1 / 12)
    assert histogram["kl_reference"] >= 0 and 0 < histogram["overlap_reference"] <= 1.0 + 1e-6
    assert histogram["kl_generated"] >= 0 and 0 < histogram["overlap_generated"] <= 1.0 + 1e-6


def test_compare_solos_reports_none_where_distances_are_all_equal():
    # Every piece uses two pitches: all total_used_pitch distances are 0, no density.
    solo = (_eighths([60, 62], total=BAR), _chords("C7"))
    report = lm.compare_solos([solo, solo], [solo, solo])
    assert report["mgeval"]["total_used_pitch"]["kl_reference"] is None
    assert report["mgeval"]["total_used_pitch"]["overlap_generated"] is None
    json.dumps(report, allow_nan=False)
