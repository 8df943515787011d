"""Evaluation measures of the jazz-generation literature, on our step-grid solos.

Two families, defined as the authors' code computes them so that our numbers can be
set beside theirs.

Harmonic coherence (MINGUS: Madaghiele, Lisena and Troncy, "MINGUS: Melodic
Improvisation Neural Generator Using Seq2Seq", ISMIR 2021; code
`vincenzomadaghiele/MINGUS`, `D_evaluate/eval_funct.py::HarmonicCoherence`, chord
tones from `B_train/loadDB.py` (`CustomToMidiChords`), melody grouping from
`A_preprocessData/data_preprocessing.py::xmlToStructuredSong`). They report on WJazzD:
real solos 49.17 % chord tones / 72.16 % scale tones, MINGUS 51.81 / 77.49, BebopNet
40.66 / 64.55.

* What counts: every melody note once (each note event; rests are skipped), judged
  against the chord symbol of the beat it was grouped into. Notes under "NC", and
  under chords music21 cannot parse, are left out of the denominator. Counts are
  pooled over the whole corpus (one ratio over all notes of all pieces), not
  averaged per piece.
* Chord tones: the pitches of `music21.harmony.ChordSymbol(figure)`; when that gives
  fewer than four pitches, `add 7` (music21 adds the root's *major* seventh) and then
  `add 8` (the octave) pad it to four. So a plain triad C, Cm, Cdim, C+ or Csus also
  counts the major seventh B as a chord tone. Names come from MIDI numbers on both
  sides, so the comparison is by pitch class.
* Scale tones: there is no per-quality scale table. The "scale" is
  `ChordSymbol(figure)` with `add 2` ... `add 8`, which music21 fills with the
  degrees of the root's major scale: the chord's own tones plus the Ionian scale of
  the root (C7 gives C D E F G A Bb B; Cm7 gives C D Eb E F G A Bb B), except that
  `add n` is a no-op when the chord's degree list already holds a plain n, which
  keeps the perfect fifth out of `m7b5` and `7b5` (music21 reads WJazzD's `-7b5` as
  `m7 add b5`) but not out of `o`, `o7`, `+`, `+7`. This set is
  compared by *spelled name* (`pitch.name`) with the melody note's name from its MIDI
  number, which music21 spells C C# D E- E F F# G G# A B- B. A note whose default
  spelling differs from the scale's spelling does not count (over Bb-7 the chord's
  D- and A- are missed by melody C# and G#; over Db7 even the root is). This module
  reproduces that (``spelled=True``) and also offers the pitch-class reading
  (``spelled=False``).

On our representation: a note is judged against the chord sounding at its onset step.
MINGUS uses the chord symbol current when its beat group is closed, which is the same
chord except where a chord changes inside a beat (WJazzD chords change on beats).
The root comes from an explicit per-step root array or, without one, from
`seqapps.music.chord_voicing`'s stacked-thirds reading. Roots are spelled as WJazzD
writes them most often (C Db D Eb E F Gb G Ab A Bb B); the chord's tones are spelled
above the root by degree (b3 unless a major third is present, then #9; b5 unless a
perfect fifth is present, then #11; #5 without a perfect fifth, else b13; bb7 in a
diminished seventh chord), as music21 spells chord symbols.

MGEval distribution measures (Yang and Lerch, "On the evaluation of generative models
in music", Neural Computing and Applications 2018; code `RichardYang40148/mgeval`,
`mgeval/core.py` and `mgeval/utils.py`, as vendored and driven by MINGUS in
`D_evaluate/mgeval/` and `D_evaluate/eval_funct.py::MGEval`; MINGUS reports e.g. a
pitch-class-histogram KL of 0.088).

* Per-piece features (`piece_features`): `total_used_pitch` (distinct pitches),
  `total_used_note` (notes), `total_pitch_class_histogram` (12 bins weighted by
  sounding time, as MGEval sums a piano roll, normalised to sum 1), `pitch_range`
  (highest minus lowest pitch), `avg_pitch_shift` (mean absolute interval between
  consecutive notes), `avg_IOI` (mean time between consecutive onsets, in seconds at
  ``tempo``), `pitch_class_transition_matrix` (12x12 counts, pretty_midi's definition:
  note i to note j whenever |end_i - start_j| < 0.05 s, unnormalised as MGEval's
  default), `note_length_hist` (MGEval's 12 classes full, half, quarter, 8th, 16th,
  dotted half, dotted quarter, dotted 8th, dotted 16th, half-, quarter- and
  8th-note triplet, i.e. 96 48 24 12 6 72 36 18 9 32 16 8 units of a 4/4 bar / 96;
  each note goes to the nearest class, ties to the first listed; normalised).
* Distances: Euclidean norm of the difference of two pieces' (flattened) features.
  Intra-set: each piece against every other piece of its set (leave-one-out; each
  pair appears twice, n(n - 1) values). Inter-set: each reference piece against every
  generated piece (n_ref * n_gen values).
* Each distance sample is smoothed by a Gaussian KDE (`scipy.stats.gaussian_kde`,
  Scott's bandwidth n^(-1/5) times the sample's standard deviation with ddof=1),
  reimplemented here in numpy.
* KL divergence (`utils.kl_dist`): KL(intra || inter), each density evaluated on 1000
  evenly spaced points spanning *its own* sample's range, both vectors normalised to
  sum 1 (`scipy.stats.entropy`). Overlap area (`utils.overlap_area`): the integral of
  min(pdf_intra, pdf_inter) from the smallest to the largest distance of either
  sample.
* MINGUS stores both `ref_KL-div` / `ref_overlap-area` (intra-set of the reference
  set against the inter-set) and `gen_KL-div` / `gen_overlap-area` (intra-set of the
  generated set against the inter-set) and its paper's table shows one pair per
  model without saying which; `compare_solos` returns both.

Divergences that our representation forces: there is no velocity (MGEval's piano roll
weights by it) and no tempo (seconds need ``tempo``); MINGUS's MIDI files carry a
piano chord track that pretty_midi's all-instrument features (`avg_IOI`, the
transition matrix) also read, while ours use the melody only.
"""

from typing import NamedTuple

import numpy as np

from seqapps import music

# --- harmonic coherence ------------------------------------------------------------------

# Pitch class of each natural letter C D E F G A B (letter index 0-6).
_LETTER_PITCH_CLASS = (0, 2, 4, 5, 7, 9, 11)
_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
# (letter, alteration) of each root pitch class, as WJazzD writes roots most often.
_ROOT_SPELLING = (
    (0, 0), (1, -1), (1, 0), (2, -1), (2, 0), (3, 0),
    (4, -1), (4, 0), (5, -1), (5, 0), (6, -1), (6, 0),
)  # fmt: skip
# music21's spelling of a MIDI number's pitch class: C C# D E- E F F# G G# A B- B.
_MIDI_SPELLING = (
    (0, 0), (0, 1), (1, 0), (2, -1), (2, 0), (3, 0),
    (3, 1), (4, 0), (4, 1), (5, 0), (6, -1), (6, 0),
)  # fmt: skip


class Solo(NamedTuple):
    """A melody with the chords it was played over.

    Attributes:
        tokens: One token per step (`seqapps.music`).
        chords: `[steps, CHORD_DIM]` chord vectors, one per step.
        roots: Optional root pitch class per step (ignored under "no chord"); without
            it the root is read from the pitch classes.
    """

    tokens: np.ndarray
    chords: np.ndarray
    roots: np.ndarray | None = None


def chord_root(pitch_classes):
    """The root a stacked-thirds reading of `pitch_classes` suggests (None if empty)."""
    voicing = music.chord_voicing(pitch_classes)
    return voicing[0] % 12 if voicing else None


def mingus_chord_tones(root, pitch_classes):
    """MINGUS's chord tones: the chord's pitch classes, padded with the major seventh.

    music21's chord symbol gives the chord's pitches; MINGUS adds `add 7` (the root's
    major seventh) when there are fewer than four, then `add 8` (the octave, no new
    pitch class).

    Returns:
        A frozenset of pitch classes.
    """
    tones = {int(pc) % 12 for pc in pitch_classes}
    if len(tones) < 4:
        tones.add((int(root) + 11) % 12)
    return frozenset(tones)


def _letter_offset(interval, intervals):
    """The degree (0 = root letter ... 6 = seventh letter) music21 spells an interval as."""
    if interval == 3:
        return 1 if 4 in intervals else 2
    if interval == 6:
        return 3 if 7 in intervals else 4
    if interval == 8:
        return 5 if 7 in intervals else 4
    if interval == 9:
        diminished_seventh = {3, 6} <= intervals and not intervals & {7, 10, 11}
        return 6 if diminished_seventh else 5
    return {0: 0, 1: 1, 2: 1, 4: 2, 5: 3, 7: 4, 10: 6, 11: 6}[interval]


def _fifth_altered_by_figure(intervals):
    """Whether music21's `add 5` leaves out the perfect fifth.

    `add n` only appends the major-scale degree when the chord's degree list lacks
    the plain number n. A fifth lowered by an alteration in the figure (WJazzD's
    `-7b5`, `7b5`, read by music21 as `m7 add b5`) keeps "5" in that list, so the
    perfect fifth stays out; a fifth lowered or raised by the chord kind (`o`, `o7`,
    `+`, `+7`, and MINGUS's `+7` for `alt`) is listed as -5 or #5 and the perfect
    fifth is added.
    """
    return 6 in intervals and 10 in intervals and not intervals & {7, 8}


def _spell(root, interval, letter_offset):
    root_letter, _ = _ROOT_SPELLING[root]
    letter = (root_letter + letter_offset) % 7
    alteration = ((root + interval - _LETTER_PITCH_CLASS[letter] + 6) % 12) - 6
    return letter, alteration


def mingus_scale_tones(root, pitch_classes, spelled=True):
    """MINGUS's scale tones: the chord's tones plus the major scale of its root.

    Args:
        root: Root pitch class.
        pitch_classes: The chord's pitch classes.
        spelled: Match as MINGUS does, by spelled name: a pitch class counts only if
            music21's spelling of a MIDI note of that class (C C# D E- E F F# G G# A
            B- B) is among the scale's spelled names. False: by pitch class.

    Returns:
        A frozenset of the melody pitch classes that count as scale tones.
    """
    root = int(root) % 12
    intervals = {(int(pc) - root) % 12 for pc in pitch_classes} | {0}
    scale = dict(enumerate(_MAJOR_SCALE))
    if _fifth_altered_by_figure(intervals):
        del scale[4]
    if not spelled:
        return frozenset((root + i) % 12 for i in intervals | set(scale.values()))
    names = {_spell(root, i, _letter_offset(i, intervals)) for i in intervals}
    names |= {_spell(root, interval, degree) for degree, interval in scale.items()}
    return frozenset(pc for pc in range(12) if _MIDI_SPELLING[pc] in names)


def _as_solo(solo):
    return solo if isinstance(solo, Solo) else Solo(*solo)


def _step_chords(solo):
    """Per step: the chord's pitch classes (empty under "no chord") and its root."""
    chords = np.asarray(solo.chords, dtype=np.float32).reshape(-1, music.CHORD_DIM) > 0.5
    roots = None if solo.roots is None else np.asarray(solo.roots).reshape(-1)
    for step, row in enumerate(chords):
        pitch_classes = () if row[music.NO_CHORD] else tuple(np.flatnonzero(row[:12]).tolist())
        if not pitch_classes:
            yield (), None
            continue
        root = chord_root(pitch_classes) if roots is None else int(roots[step]) % 12
        yield pitch_classes, root


def coherence_counts(solo, spelled=True):
    """Notes under a chord, and how many are MINGUS chord tones and scale tones.

    Args:
        solo: A `Solo` or a `(tokens, chords[, roots])` tuple.
        spelled: See `mingus_scale_tones`.

    Returns:
        `(notes, chord_tones, scale_tones)`, counting each note once, judged against
        the chord at its onset step; notes under "no chord" or past the chords' end
        are not counted.
    """
    solo = _as_solo(solo)
    step_chords = list(_step_chords(solo))
    counted = chord_hits = scale_hits = 0
    cache = {}
    for note in music.decode_tokens(solo.tokens):
        if note.onset >= len(step_chords):
            continue
        pitch_classes, root = step_chords[note.onset]
        if not pitch_classes:
            continue
        key = (pitch_classes, root)
        if key not in cache:
            cache[key] = (
                mingus_chord_tones(root, pitch_classes),
                mingus_scale_tones(root, pitch_classes, spelled=spelled),
            )
        chord_tones, scale_tones = cache[key]
        pitch_class = note.pitch % 12
        counted += 1
        chord_hits += pitch_class in chord_tones
        scale_hits += pitch_class in scale_tones
    return counted, chord_hits, scale_hits


def harmonic_coherence(solos, spelled=True):
    """MINGUS harmonic coherence of a corpus: shares of chord tones and scale tones.

    Counts are pooled over all notes of all solos, as MINGUS computes them.

    Args:
        solos: `Solo`s or `(tokens, chords[, roots])` tuples.
        spelled: See `mingus_scale_tones`.

    Returns:
        `{"chord_tone_share", "scale_tone_share", "notes"}`; the shares are None when
        no note sounds under a chord.
    """
    totals = np.zeros(3, dtype=np.int64)
    for solo in solos:
        totals += coherence_counts(solo, spelled=spelled)
    notes, chord_hits, scale_hits = (int(x) for x in totals)
    return {
        "chord_tone_share": chord_hits / notes if notes else None,
        "scale_tone_share": scale_hits / notes if notes else None,
        "notes": notes,
    }


# --- MGEval features ---------------------------------------------------------------------

# MGEval's note-length classes in units of a 4/4 bar / 96 (a quarter note is 24 units).
NOTE_LENGTH_CLASSES = (
    "full", "half", "quarter", "8th", "16th", "dot half", "dot quarter", "dot 8th",
    "dot 16th", "half note triplet", "quarter note triplet", "8th note triplet",
)  # fmt: skip
_NOTE_LENGTH_UNITS = np.array([96, 48, 24, 12, 6, 72, 36, 18, 9, 32, 16, 8], dtype=np.float64)
NOTE_LENGTH_STEPS = _NOTE_LENGTH_UNITS * music.STEPS_PER_BEAT / 24
# pretty_midi's default threshold for a note's end meeting another note's start.
TRANSITION_THRESHOLD_SECONDS = 0.05

FEATURES = (
    "total_used_pitch",
    "total_used_note",
    "avg_IOI",
    "avg_pitch_shift",
    "note_length_hist",
    "total_pitch_class_histogram",
    "pitch_class_transition_matrix",
    "pitch_range",
)


def note_length_class(duration_steps):
    """Index in `NOTE_LENGTH_CLASSES` of the class nearest a duration (ties: the first)."""
    return int(np.argmin(np.abs(NOTE_LENGTH_STEPS - float(duration_steps))))


def _seconds_per_step(tempo):
    return 60.0 / float(tempo) / music.STEPS_PER_BEAT


def pitch_class_histogram(notes):
    """12 bins weighted by each note's duration, normalised (zeros without notes)."""
    histogram = np.zeros(12)
    for note in notes:
        histogram[note.pitch % 12] += note.duration
    total = histogram.sum()
    return histogram / total if total else histogram


def pitch_class_transition_matrix(notes, tempo=120):
    """pretty_midi's 12x12 counts: row pc(i), column pc(j) when |end_i - start_j| < 0.05 s."""
    matrix = np.zeros((12, 12))
    if len(notes) <= 1:
        return matrix
    starts = np.array([n.onset for n in notes], dtype=np.float64)
    ends = starts + np.array([n.duration for n in notes], dtype=np.float64)
    classes = np.array([n.pitch % 12 for n in notes])
    gaps = np.abs(np.subtract.outer(ends, starts)) * _seconds_per_step(tempo)
    sources, targets = np.nonzero(gaps < TRANSITION_THRESHOLD_SECONDS)
    np.add.at(matrix, (classes[sources], classes[targets]), 1)
    return matrix


def note_length_histogram(notes):
    """MGEval's 12-class note-length histogram, normalised (zeros without notes)."""
    histogram = np.zeros(12)
    for note in notes:
        histogram[note_length_class(note.duration)] += 1
    total = histogram.sum()
    return histogram / total if total else histogram


def piece_features(tokens, tempo=120):
    """MGEval's per-piece features of one melody (see the module docstring).

    Args:
        tokens: One token per step.
        tempo: Beats per minute, for the features MGEval measures in seconds.

    Returns:
        A dict from each name in `FEATURES` to a float or an array; scalar features of
        a melody too short to define them are NaN.
    """
    notes = music.decode_tokens(tokens)
    pitches = np.array([n.pitch for n in notes], dtype=np.float64)
    onsets = np.array(sorted(n.onset for n in notes), dtype=np.float64)
    return {
        "total_used_pitch": float(len(set(pitches.tolist()))),
        "total_used_note": float(len(notes)),
        "avg_IOI": (
            float(np.mean(np.diff(onsets)) * _seconds_per_step(tempo))
            if len(onsets) > 1
            else np.nan
        ),
        "avg_pitch_shift": float(np.mean(np.abs(np.diff(pitches)))) if len(notes) > 1 else np.nan,
        "note_length_hist": note_length_histogram(notes),
        "total_pitch_class_histogram": pitch_class_histogram(notes),
        "pitch_class_transition_matrix": pitch_class_transition_matrix(notes, tempo),
        "pitch_range": float(pitches.max() - pitches.min()) if len(notes) else np.nan,
    }


def _stack(feature_dicts, name):
    return np.stack([np.asarray(f[name], dtype=np.float64).reshape(-1) for f in feature_dicts])


def intra_set_distances(values):
    """Leave-one-out distances within a set: each piece to every other (n(n-1) values).

    Args:
        values: `[pieces, ...]` features of one kind.
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    distances = np.linalg.norm(values[:, None, :] - values[None, :, :], axis=-1)
    return distances[~np.eye(len(values), dtype=bool)]


def inter_set_distances(reference, generated):
    """Distances from each reference piece to every generated piece (n_ref * n_gen)."""
    reference = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    generated = np.asarray(generated, dtype=np.float64).reshape(len(generated), -1)
    return np.linalg.norm(reference[:, None, :] - generated[None, :, :], axis=-1).reshape(-1)


# --- densities and their comparison ------------------------------------------------------


def gaussian_kde(samples):
    """A 1-d Gaussian KDE as `scipy.stats.gaussian_kde` builds it (Scott's bandwidth).

    The kernel's standard deviation is n^(-1/5) times the samples' standard
    deviation (ddof=1).

    Returns:
        A function from points to density values.

    Raises:
        ValueError: Fewer than two samples, or all samples equal (scipy fails on a
            singular covariance too).
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    if len(samples) < 2 or np.std(samples) == 0:
        raise ValueError("a kernel density estimate needs at least two distinct samples")
    bandwidth = len(samples) ** (-1 / 5) * np.std(samples, ddof=1)
    norm = 1.0 / (len(samples) * bandwidth * np.sqrt(2 * np.pi))

    def pdf(points):
        points = np.atleast_1d(np.asarray(points, dtype=np.float64))
        z = (points[:, None] - samples[None, :]) / bandwidth
        return norm * np.exp(-0.5 * z * z).sum(axis=1)

    return pdf


def kl_divergence(intra, inter, num_sample=1000):
    """MGEval's `kl_dist`: KL(pdf_intra || pdf_inter) on each sample's own grid.

    Each density is evaluated at `num_sample` points spanning its own sample's range;
    the two vectors are normalised to sum 1 and compared point by point, as
    `scipy.stats.entropy(pdf_A(grid_A), pdf_B(grid_B))`. Infinite where the inter
    density vanishes and the intra one does not.
    """
    intra = np.asarray(intra, dtype=np.float64).reshape(-1)
    inter = np.asarray(inter, dtype=np.float64).reshape(-1)
    p = gaussian_kde(intra)(np.linspace(intra.min(), intra.max(), num_sample))
    q = gaussian_kde(inter)(np.linspace(inter.min(), inter.max(), num_sample))
    p, q = p / p.sum(), q / q.sum()
    positive = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[positive] * np.log(p[positive] / q[positive])))


def overlap_area(a, b, num_points=20001):
    """MGEval's `overlap_area`: the integral of min(pdf_a, pdf_b) over both samples' range.

    MGEval integrates with `scipy.integrate.quad`; the trapezoid rule on a fine grid
    agrees with it to about 1e-6 for these smooth densities.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    grid = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), num_points)
    return float(np.trapezoid(np.minimum(gaussian_kde(a)(grid), gaussian_kde(b)(grid)), grid))


def _finite(values):
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]


def _density_comparison(intra, inter):
    """KL and overlap of an intra-set sample against the inter-set one (None if undefined)."""
    intra, inter = _finite(intra), _finite(inter)
    try:
        kl = kl_divergence(intra, inter)
        overlap = overlap_area(intra, inter)
    except ValueError:
        return None, None
    return (kl if np.isfinite(kl) else None), overlap


def mgeval_comparison(generated_features, reference_features, features=FEATURES):
    """MGEval's comparison of two sets of per-piece features, feature by feature.

    Args:
        generated_features: `piece_features` dicts of the generated pieces.
        reference_features: Those of the reference (real) pieces.
        features: Which features to compare.

    Returns:
        `{feature: {...}}` with, as MINGUS stores them, `reference_mean`/`_std` and
        `generated_mean`/`_std` over all pieces and entries, `kl_reference` and
        `overlap_reference` (the reference intra-set against the inter-set) and
        `kl_generated` and `overlap_generated` (the generated intra-set against the
        inter-set). Distances involving an undefined (NaN) feature are dropped; a
        value that cannot be computed (too few distinct distances, infinite KL) is
        None.
    """
    result = {}
    for name in features:
        reference = _stack(reference_features, name)
        generated = _stack(generated_features, name)
        inter = inter_set_distances(reference, generated)
        kl_reference, overlap_reference = _density_comparison(intra_set_distances(reference), inter)
        kl_generated, overlap_generated = _density_comparison(intra_set_distances(generated), inter)
        result[name] = {
            "reference_mean": _json_float(np.nanmean(reference)),
            "reference_std": _json_float(np.nanstd(reference)),
            "generated_mean": _json_float(np.nanmean(generated)),
            "generated_std": _json_float(np.nanstd(generated)),
            "kl_reference": kl_reference,
            "overlap_reference": overlap_reference,
            "kl_generated": kl_generated,
            "overlap_generated": overlap_generated,
        }
    return result


def _json_float(value):
    value = float(value)
    return value if np.isfinite(value) else None


def compare_solos(generated, reference, tempo=120, features=FEATURES):
    """The literature's comparison of generated solos with real ones.

    Args:
        generated: `Solo`s or `(tokens, chords[, roots])` tuples.
        reference: The real solos, likewise.
        tempo: Beats per minute for the MGEval features measured in seconds.
        features: The MGEval features to compare.

    Returns:
        A JSON-ready dict: `harmonic_coherence` with, for `generated` and `reference`,
        MINGUS's chord-tone and scale-tone shares (spelled as MINGUS matches them)
        plus `scale_tone_share_pitch_class` (matched by pitch class) and the note
        count; and `mgeval` as `mgeval_comparison` gives it.
    """
    generated = [_as_solo(s) for s in generated]
    reference = [_as_solo(s) for s in reference]
    coherence = {}
    for label, solos in (("generated", generated), ("reference", reference)):
        spelled = harmonic_coherence(solos, spelled=True)
        spelled["scale_tone_share_pitch_class"] = harmonic_coherence(solos, spelled=False)[
            "scale_tone_share"
        ]
        coherence[label] = spelled
    return {
        "harmonic_coherence": coherence,
        "mgeval": mgeval_comparison(
            [piece_features(s.tokens, tempo) for s in generated],
            [piece_features(s.tokens, tempo) for s in reference],
            features,
        ),
        "pieces": {"generated": len(generated), "reference": len(reference)},
    }
