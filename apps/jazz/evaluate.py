"""Evaluate an improviser: held-out likelihood, and how its solos compare with real ones.

1. Token negative log-likelihood (nats per step) and accuracy on the dev pieces.
2. The model improvises over each dev piece's own chords (the first --bars bars),
   once with the chords and once with the chord input zeroed, and the solos are
   compared with the real dev solos over the same bars:
   * chord-tone ratio: share of note onsets whose pitch class belongs to the
     chord sounding then (onsets under "no chord" are not counted);
   * scale-tone ratio: the same for the chord's scale (the chord is matched to
     a template, e.g. m7 -> dorian, 7 -> mixolydian, m7b5 -> locrian, and its
     own tones always count);
   * pitch range (semitones, per solo) and notes per bar;
   * longest copy: the longest run of consecutive notes whose intervals and
     rhythm (onset gaps, durations, places in the bar) occur verbatim, in any
     key, in a training piece, in notes and in bars.

Without --data the dev split of the run is rebuilt from its config.json (same
corpus, fraction and seed). JSON goes to stdout, a readable report to stderr.

Example:
  python -m apps.jazz.evaluate --model runs/wjazzd
"""

import json
import sys
from pathlib import Path

import numpy as np

from apps.jazz.predict import DEFAULT_TEMPERATURE, DEFAULT_TOP_P, check_sampling_flags
from seqapps import music
from seqapps.cli import UserError, make_parser, non_negative_int, positive_int, require, run_main
from seqapps.sampling import add_sampling_arguments, check_sampling_options

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


def build_parser():
    parser = make_parser("apps.jazz.evaluate", __doc__)
    parser.add_argument("--model", help="run directory or .keras file")
    parser.add_argument(
        "--data",
        action="append",
        help="dev corpus (repeatable; same forms as train --data); default: the run's dev split",
    )
    parser.add_argument(
        "--train-data",
        action="append",
        help="training corpus for the copy check (default: the run's training split)",
    )
    parser.add_argument(
        "--bars",
        type=positive_int,
        default=32,
        help="improvise over the first N bars of each dev piece",
    )
    add_sampling_arguments(
        parser, unit="pitches", temperature=DEFAULT_TEMPERATURE, top_p=DEFAULT_TOP_P
    )
    check_sampling_flags(parser)
    parser.add_argument(
        "--samples",
        metavar="DIR",
        help="also write the first --num-samples generated solos (MIDI + piano roll) here",
    )
    parser.add_argument(
        "--num-samples", type=non_negative_int, default=4, help="solos written to --samples"
    )
    parser.add_argument("--cache-dir", help="parsed-corpus cache (default: the run's)")
    return parser


def _run_options(model_path):
    """The training options recorded in a run directory's config.json, or None."""
    if model_path is None:
        return None
    path = Path(model_path)
    config = (path if path.is_dir() else path.parent) / "config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text())["options"]


def _corpora(options):
    """`(training pieces or None, dev pieces, window bars)` for the evaluation."""
    import argparse

    from apps.jazz import train

    recorded = _run_options(options.model)
    if recorded is None and not options.data:
        raise UserError(
            f"--model {options.model}: no config.json to rebuild the dev split from; pass --data"
        )
    cache_dir = options.cache_dir or (recorded or {}).get("cache_dir")
    settings = argparse.Namespace(melody_part=None, cache_dir=cache_dir)
    run_split = None
    if recorded and not (options.data and options.train_data):
        run_split = train.split_pieces(argparse.Namespace(**{**recorded, "cache_dir": cache_dir}))
    dev = train.load_pieces(options.data, settings, "dev") if options.data else run_split[1]
    if options.train_data:
        train_pieces = train.load_pieces(options.train_data, settings, "train")
    else:
        train_pieces = run_split[0] if run_split else None
    return train_pieces, dev, (recorded or {}).get("window_bars", 8)


def generate_over(model, pieces, bars, zero_chords=False, **sampling):
    """One solo per piece over its first `bars` bars (one batch); returns token arrays."""
    from apps.jazz.model import sampler, sampler_conditions

    lengths = [
        min(piece.steps, bars * music.STEPS_PER_BEAT * piece.beats_per_bar) for piece in pieces
    ]
    steps = max(lengths)
    conditions = []
    for piece, length in zip(pieces, lengths):
        chords = piece.chords[:length]
        if zero_chords:
            chords = np.zeros_like(chords)
        # Rows are cycled to the longest piece; the extra steps are cut off again.
        conditions.append(
            sampler_conditions(np.resize(chords, (steps, music.CHORD_DIM)), piece.beats_per_bar)
        )
    result = sampler(model).generate(
        len(pieces), steps, conditions=np.stack(conditions), **sampling
    )
    return [tokens[:length] for tokens, length in zip(result.tokens, lengths)]


def evaluate(model, options):
    """Compute every metric; returns the JSON-ready dict."""
    from apps.jazz import train
    from seqapps.training import inference_function

    train_pieces, dev, window_bars = _corpora(options)
    if options.bars < 1:
        raise UserError(f"--bars must be >= 1; received {options.bars}")
    check_sampling_options(options.temperature, options.top_k, options.top_p)
    windows = train.training_windows(dev, window_bars)
    likelihood = train.token_scores(inference_function(model), windows)
    likelihood["perplexity"] = float(np.exp(likelihood["nll"]))

    sampling = {
        "temperature": options.temperature,
        "top_k": options.top_k,
        "top_p": options.top_p,
        "seed": options.seed,
    }
    generated = generate_over(model, dev, options.bars, **sampling)
    unconditioned = generate_over(model, dev, options.bars, zero_chords=True, **sampling)
    real, with_chords, zeroed = [], [], []
    for piece, tokens, tokens_zeroed in zip(dev, generated, unconditioned):
        chords = piece.chords[: len(tokens)]
        real.append(solo_statistics(piece.tokens[: len(tokens)], chords, piece.beats_per_bar))
        with_chords.append(solo_statistics(tokens, chords, piece.beats_per_bar))
        zeroed.append(solo_statistics(tokens_zeroed, chords, piece.beats_per_bar))
    result = {
        "dev_pieces": len(dev),
        "bars_per_piece": options.bars,
        "sampling": sampling,
        "likelihood": likelihood,
        "real": pooled_statistics(real),
        "generated": pooled_statistics(with_chords),
        "chords_zeroed": pooled_statistics(zeroed),
    }
    if train_pieces:
        detector = CopyDetector([(piece.tokens, piece.beats_per_bar) for piece in train_pieces])
        copies = [
            detector.longest_copy(tokens, piece.beats_per_bar)
            for piece, tokens in zip(dev, generated)
        ]
        real_copies = [
            detector.longest_copy(piece.tokens[: len(tokens)], piece.beats_per_bar)
            for piece, tokens in zip(dev, generated)
        ]
        result["generated"]["longest_copy_notes"] = int(max(c[0] for c in copies))
        result["generated"]["longest_copy_bars"] = float(max(c[1] for c in copies))
        result["real"]["longest_copy_notes"] = int(max(c[0] for c in real_copies))
        result["real"]["longest_copy_bars"] = float(max(c[1] for c in real_copies))
    result["targets"] = targets(result)
    if options.samples:
        _write_samples(options, dev, generated)
    return result


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


def _write_samples(options, dev, generated):
    from apps.jazz.predict import Solo, write_solo

    folder = Path(options.samples)
    folder.mkdir(parents=True, exist_ok=True)
    for piece, tokens in list(zip(dev, generated))[: options.num_samples]:
        solo = Solo(tokens, piece.chords[: len(tokens)], piece.beats_per_bar, 160.0)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in piece.name)
        write_solo(solo, folder / f"{safe}.mid")


def format_report(result):
    lines = [
        f"dev pieces: {result['dev_pieces']}; NLL {result['likelihood']['nll']:.4f} nats/step "
        f"(perplexity {result['likelihood']['perplexity']:.3f}), accuracy "
        f"{result['likelihood']['accuracy']:.4f}",
        f"{'':16}{'real':>10}{'generated':>12}{'chords zeroed':>15}",
    ]
    for key in ("chord_tone_ratio", "scale_tone_ratio", "pitch_range", "notes_per_bar"):
        values = [result[side][key] for side in ("real", "generated", "chords_zeroed")]
        lines.append(f"{key:16}{values[0]:>10.3f}{values[1]:>12.3f}{values[2]:>15.3f}")
    if "longest_copy_bars" in result["generated"]:
        for side in ("real", "generated"):
            lines.append(
                f"longest copy from training ({side}): {result[side]['longest_copy_notes']} notes, "
                f"{result[side]['longest_copy_bars']:.2f} bars"
            )
    lines += [f"{name}: {'pass' if ok else 'FAIL'}" for name, ok in result["targets"].items()]
    return "\n".join(lines)


def evaluate_model(model, **kwargs):
    """Python API: `evaluate_model(model_or_run_dir, data=[...], bars=32, ...)`."""
    from seqapps.cli import options_from_kwargs
    from seqapps.export import load_model

    options = options_from_kwargs(build_parser(), **kwargs)
    if isinstance(model, (str, Path)):
        options.model = str(model)
        model = load_model(model, app="jazz")
    elif options.model is None and options.data is None:
        raise UserError("pass data=[...] when evaluating an in-memory model")
    return evaluate(model, options)


def main(argv):
    from seqapps.export import load_model

    options = build_parser().parse_args(argv)
    require(options, "model")
    model = load_model(options.model, app="jazz")
    result = evaluate(model, options)
    print(format_report(result), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    run_main(main, prog="apps.jazz.evaluate")
