"""How a solo sounds against its chords, and whether it copies a training solo.

* `solo_statistics`: chord-tone ratio (share of note onsets whose pitch class
  belongs to the chord sounding then; onsets under "no chord" are not counted),
  scale-tone ratio (the same for the chord's scale: the chord is matched to a
  template, e.g. m7 -> dorian, 7 -> mixolydian, m7b5 -> locrian, and its own
  tones always count), pitch range (semitones) and notes per bar;
  `pooled_statistics` pools them over solos.
* `CopyDetector`: the longest run of consecutive notes whose intervals and
  rhythm (onset gaps, durations, places in the bar) occur verbatim, in any key,
  in a training piece, in notes and in bars.
* `targets`: pass/fail of the app's quality targets (see the README).
"""

import numpy as np

from seqapps import music

# Chord templates (intervals above the root) and the scale each implies,
# most specific first.
_SCALES = {
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "melodic_minor": (0, 2, 3, 5, 7, 9, 11),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "diminished": (0, 2, 3, 5, 6, 8, 9, 11),
    "whole_tone": (0, 2, 4, 6, 8, 10),
    "lydian_dominant": (0, 2, 4, 6, 7, 9, 10),
    "altered": (0, 1, 3, 4, 6, 8, 10),
}
_TEMPLATES = (
    ((0, 4, 7, 11), "ionian"),
    ((0, 3, 7, 11), "melodic_minor"),
    ((0, 4, 7, 10), "mixolydian"),
    ((0, 3, 7, 10), "dorian"),
    ((0, 3, 6, 10), "locrian"),
    ((0, 3, 6, 9), "diminished"),
    ((0, 4, 6, 10), "lydian_dominant"),
    ((0, 4, 8, 10), "whole_tone"),
    ((0, 4, 7, 9), "ionian"),
    ((0, 3, 7, 9), "dorian"),
    ((0, 5, 7, 10), "mixolydian"),
    ((0, 4, 8), "whole_tone"),
    ((0, 4, 7), "ionian"),
    ((0, 3, 7), "dorian"),
    ((0, 3, 6), "locrian"),
    ((0, 5, 7), "mixolydian"),
)
_scale_cache = {}


def chord_scale(pitch_classes):
    """The pitch classes of the scale a chord implies (its own tones included)."""
    key = frozenset(int(pc) for pc in pitch_classes)
    if key not in _scale_cache:
        scale = set(key)
        for template, scale_name in _TEMPLATES:
            roots = [r for r in sorted(key) if all((r + i) % 12 in key for i in template)]
            if roots:
                scale |= {(roots[0] + i) % 12 for i in _SCALES[scale_name]}
                break
        _scale_cache[key] = frozenset(scale)
    return _scale_cache[key]


def solo_statistics(tokens, chords, beats_per_bar=4):
    """Chord-tone and scale-tone counts, pitch range and density of one solo.

    Returns:
        Dict with `notes`, `chord_tone_ratio`, `scale_tone_ratio` (NaN without
        chords), `chord_tones`, `scale_tones`, `onsets_under_chords` (for
        pooling), `pitch_range` (semitones) and `notes_per_bar`.
    """
    notes = music.decode_tokens(tokens)
    chords = np.asarray(chords) > 0.5
    chord_tones = scale_tones = counted = 0
    for note in notes:
        if note.onset >= len(chords) or chords[note.onset, music.NO_CHORD]:
            continue
        present = np.flatnonzero(chords[note.onset, :12])
        if not len(present):
            continue
        counted += 1
        pitch_class = note.pitch % 12
        chord_tones += pitch_class in present
        scale_tones += pitch_class in chord_scale(present)
    pitches = [note.pitch for note in notes]
    bars = max(len(tokens) / (music.STEPS_PER_BEAT * beats_per_bar), 1e-9)
    return {
        "notes": len(notes),
        "chord_tones": chord_tones,
        "scale_tones": scale_tones,
        "onsets_under_chords": counted,
        "chord_tone_ratio": chord_tones / counted if counted else float("nan"),
        "scale_tone_ratio": scale_tones / counted if counted else float("nan"),
        "pitch_range": (max(pitches) - min(pitches)) if pitches else 0,
        "notes_per_bar": len(notes) / bars,
    }


def _transitions(notes, beats_per_bar):
    """One hashable code per pair of consecutive notes.

    The code holds the interval, the onset gap, the first note's duration and
    the second note's place in the bar: a copied phrase has the same intervals
    and rhythm at the same place in the bar, in any key.
    """
    if len(notes) < 2:
        return np.zeros(0, "uint64")
    pitch = np.array([n.pitch for n in notes], "int64")
    onset = np.array([n.onset for n in notes], "int64")
    duration = np.array([n.duration for n in notes], "int64")
    place = onset[1:] % (music.STEPS_PER_BEAT * beats_per_bar)
    code = (pitch[1:] - pitch[:-1] + 128) * 1_000_003 + (onset[1:] - onset[:-1]) * 1009
    code = (code + np.minimum(duration[:-1], 1000)) * 131 + place
    return code.astype("uint64")


def _gram_hashes(codes, k):
    """Polynomial hashes of every run of `k` consecutive codes (uint64 wrap-around)."""
    if len(codes) < k:
        return np.zeros(0, "uint64")
    hashes = np.zeros(len(codes) - k + 1, "uint64")
    with np.errstate(over="ignore"):
        for offset in range(k):
            hashes = hashes * np.uint64(1_000_000_007) + codes[offset : offset + len(hashes)]
    return hashes


class CopyDetector:
    """Finds runs of notes that a training corpus holds verbatim (in any key).

    Args:
        training_pieces: `(tokens, beats_per_bar)` of each training piece.
        max_notes: Longest run looked for.
    """

    def __init__(self, training_pieces, max_notes=200):
        self.codes = [_transitions(music.decode_tokens(t), b) for t, b in training_pieces]
        self.max_notes = max_notes
        self._grams = {}

    def _training_grams(self, k):
        if k not in self._grams:
            parts = [_gram_hashes(codes, k) for codes in self.codes]
            self._grams[k] = np.unique(np.concatenate(parts)) if parts else np.zeros(0, "uint64")
        return self._grams[k]

    def longest_copy(self, tokens, beats_per_bar=4):
        """`(notes, bars)`: the longest copied run in notes, and the longest in bars.

        A run's length in bars runs from its first note's onset to its last's.
        """
        notes = music.decode_tokens(tokens)
        codes = _transitions(notes, beats_per_bar)
        onsets = np.array([n.onset for n in notes])
        steps_per_bar = music.STEPS_PER_BEAT * beats_per_bar
        longest_notes, longest_bars = (1 if notes else 0), 0.0
        for k in range(1, min(len(codes), self.max_notes) + 1):
            found = np.isin(_gram_hashes(codes, k), self._training_grams(k))
            if not found.any():
                break
            longest_notes = k + 1
            starts = np.flatnonzero(found)
            # From the first onset to the last: the last note's length is not compared.
            spans = (onsets[starts + k] - onsets[starts]) / steps_per_bar
            longest_bars = max(longest_bars, float(spans.max()))
        return longest_notes, longest_bars


def pooled_statistics(per_solo):
    """Pool per-solo statistics: ratios over all onsets, means of range and density."""
    counted = sum(s["onsets_under_chords"] for s in per_solo)
    return {
        "solos": len(per_solo),
        "notes": int(sum(s["notes"] for s in per_solo)),
        "chord_tone_ratio": sum(s["chord_tones"] for s in per_solo) / counted
        if counted
        else float("nan"),
        "scale_tone_ratio": sum(s["scale_tones"] for s in per_solo) / counted
        if counted
        else float("nan"),
        "pitch_range": float(np.mean([s["pitch_range"] for s in per_solo])),
        "notes_per_bar": float(np.mean([s["notes_per_bar"] for s in per_solo])),
    }


def targets(result):
    """Pass/fail of each quality target (see the app README)."""
    real, generated, zeroed = result["real"], result["generated"], result["chords_zeroed"]

    def within(key, share=0.25):
        return bool(abs(generated[key] - real[key]) <= share * real[key])

    checks = {
        "chord_tone_ratio_at_least_real": bool(
            generated["chord_tone_ratio"] >= real["chord_tone_ratio"]
        ),
        "chord_tone_ratio_0.15_above_zeroed_chords": bool(
            generated["chord_tone_ratio"] - zeroed["chord_tone_ratio"] >= 0.15
        ),
        "pitch_range_within_25_percent": within("pitch_range"),
        "notes_per_bar_within_25_percent": within("notes_per_bar"),
    }
    if "longest_copy_bars" in generated:
        checks["no_copy_longer_than_2_bars"] = bool(generated["longest_copy_bars"] <= 2.0)
    return checks
