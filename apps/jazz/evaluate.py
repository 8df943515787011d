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
3. The measures the literature reports (`apps.jazz.literature_metrics`), for the
   real dev solos, the generated ones (the sampling given, and untempered:
   temperature 1, no top-k or top-p) and the chords-zeroed ones: MINGUS's
   harmonic coherence (chord-tone and chord-scale-tone shares, as MINGUS and
   BebopNet are reported) and MGEval's distribution distances (KL divergence
   and overlap area of per-solo features such as the pitch-class histogram)
   against the real solos.

Without --data the dev split of the run is rebuilt from its config.json (same
corpus, fraction and seed); --corpus names the corpus when it is no longer where
config.json says (a preset's, say). --likelihood-only stops after part 1. JSON goes
to stdout, a readable report to stderr.

Examples:
  python -m apps.jazz.evaluate --model wjazzd --corpus path/to/wjazzd --likelihood-only
  python -m apps.jazz.evaluate --model wjazzd --corpus path/to/wjazzd --seed 1
  python -m apps.jazz.train --out runs/music21-demo --epochs 3     # no download, then:
  python -m apps.jazz.evaluate --model runs/music21-demo           # its own dev split

path/to/wjazzd: the Weimar Jazz Database (https://jazzomat.hfm-weimar.de/, ODbL), a folder
with its solo MIDI files in midi/, its beats tables as CSV in beats/ and an index.csv
pairing them (see apps/jazz/README.md).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from apps.jazz import analysis, generate, literature_metrics, windows
from seqapps.cli import (
    make_parser,
    non_negative_int,
    options_from_kwargs,
    positive_int,
    require,
    run_main,
)
from seqapps.errors import UserError
from seqapps.export import load_model
from seqapps.files import resolve_model_path
from seqapps.generation.sampler import check_sampling_options


def build_parser():
    parser = make_parser("apps.jazz.evaluate", __doc__)
    parser.add_argument("--model", help="run directory, .keras file or preset name")
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
        "--corpus",
        action="append",
        help="the run's training corpus (repeatable, as train --data was), read instead of the "
        "paths config.json records; its dev split is drawn again with the run's fraction and seed",
    )
    parser.add_argument(
        "--likelihood-only",
        action="store_true",
        help="report the dev likelihood only (no improvising, no solo measures)",
    )
    parser.add_argument(
        "--bars",
        type=positive_int,
        default=32,
        help="improvise over the first N bars of each dev piece",
    )
    generate.add_sampling_flags(parser)
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
    config = resolve_model_path(model_path).parent / "config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text())["options"]


def _corpora(options):
    """`(training pieces or None, dev pieces, window bars)` for the evaluation."""
    recorded = _run_options(options.model)
    if recorded is None and not options.data:
        raise UserError(
            f"--model {options.model}: no config.json to rebuild the dev split from; pass --data"
        )
    if options.corpus:
        if recorded is None:
            raise UserError(f"--corpus: --model {options.model} has no config.json to split it by")
        recorded = {**recorded, "data": options.corpus, "cache_dir": None}
    cache_dir = options.cache_dir or (recorded or {}).get("cache_dir")
    settings = argparse.Namespace(melody_part=None, cache_dir=cache_dir)
    run_split = None
    if recorded and not (options.data and options.train_data):
        run_options = argparse.Namespace(**{**recorded, "cache_dir": cache_dir})
        run_split = windows.split_pieces(run_options, recorded["seed"])
    dev = windows.load_pieces(options.data, settings, "dev") if options.data else run_split[1]
    if options.train_data:
        train_pieces = windows.load_pieces(options.train_data, settings, "train")
    else:
        train_pieces = run_split[0] if run_split else None
    return train_pieces, dev, (recorded or {}).get("window_bars", 8)


def evaluate(model, options):
    """Compute every metric; returns the JSON-ready dict."""
    from seqapps.training import inference_function

    train_pieces, dev, window_bars = _corpora(options)
    if options.bars < 1:
        raise UserError(f"--bars must be >= 1; received {options.bars}")
    check_sampling_options(options.temperature, options.top_k, options.top_p)
    dev_windows = windows.training_windows(dev, window_bars)
    likelihood = windows.token_scores(inference_function(model), dev_windows)
    likelihood["perplexity"] = float(np.exp(likelihood["nll"]))
    if options.likelihood_only:
        return {"dev_pieces": len(dev), "likelihood": likelihood}

    sampling = {
        "temperature": options.temperature,
        "top_k": options.top_k,
        "top_p": options.top_p,
        "seed": options.seed,
    }
    generated = generate.improvise_over(model, dev, options.bars, **sampling)
    unconditioned = generate.improvise_over(model, dev, options.bars, zero_chords=True, **sampling)
    untempered_sampling = {**sampling, **UNTEMPERED}
    if untempered_sampling == sampling:
        untempered = generated
    else:
        untempered = generate.improvise_over(model, dev, options.bars, **untempered_sampling)
    real, with_chords, zeroed = [], [], []
    for piece, tokens, tokens_zeroed in zip(dev, generated, unconditioned):
        chords = piece.chords[: len(tokens)]
        real.append(
            analysis.solo_statistics(piece.tokens[: len(tokens)], chords, piece.beats_per_bar)
        )
        with_chords.append(analysis.solo_statistics(tokens, chords, piece.beats_per_bar))
        zeroed.append(analysis.solo_statistics(tokens_zeroed, chords, piece.beats_per_bar))
    result = {
        "dev_pieces": len(dev),
        "bars_per_piece": options.bars,
        "sampling": sampling,
        "likelihood": likelihood,
        "real": analysis.pooled_statistics(real),
        "generated": analysis.pooled_statistics(with_chords),
        "chords_zeroed": analysis.pooled_statistics(zeroed),
    }
    if train_pieces:
        detector = analysis.CopyDetector(
            [(piece.tokens, piece.beats_per_bar) for piece in train_pieces]
        )
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
    result["literature"] = literature_comparison(dev, generated, untempered, unconditioned)
    result["targets"] = {**analysis.targets(result), **literature_targets(result["literature"])}
    if options.samples:
        _write_samples(options, dev, generated)
    return result


# Sampling straight from the model's distribution, as the literature's numbers are taken.
UNTEMPERED = {"temperature": 1.0, "top_k": 0, "top_p": 1.0}


def literature_comparison(dev, generated, untempered, zeroed):
    """MINGUS's and MGEval's measures of each set of solos against the real dev solos."""
    real = [
        literature_metrics.Solo(piece.tokens[: len(tokens)], piece.chords[: len(tokens)])
        for piece, tokens in zip(dev, generated)
    ]

    def solos(token_lists):
        return [
            literature_metrics.Solo(tokens, piece.chords[: len(tokens)])
            for piece, tokens in zip(dev, token_lists)
        ]

    comparisons = {
        name: literature_metrics.compare_solos(solos(token_lists), real)
        for name, token_lists in (
            ("generated", generated),
            ("untempered", untempered),
            ("chords_zeroed", zeroed),
        )
    }
    comparisons["real"] = comparisons["generated"]["harmonic_coherence"]["reference"]
    return comparisons


# What MINGUS (ISMIR 2021, WJazzD) reports for its own solos: chord-tone and chord-scale-tone
# shares, and the KL divergence of the pitch-class histogram against the real solos.
MINGUS_REPORTED = {"chord_tone_share": 0.5181, "scale_tone_share": 0.7749, "pitch_class_kl": 0.088}


def literature_targets(literature):
    """The generated solos at least as coherent as MINGUS's and the real ones, and as close."""
    coherence = literature["generated"]["harmonic_coherence"]["generated"]
    real = literature["real"]
    kl = literature["generated"]["mgeval"]["total_pitch_class_histogram"]["kl_reference"]
    checks = {}
    for key in ("chord_tone_share", "scale_tone_share"):
        floor = max(MINGUS_REPORTED[key], real[key])
        checks[f"{key}_at_least_mingus_and_real"] = bool(coherence[key] >= floor)
    checks["pitch_class_kl_at_most_mingus"] = bool(
        kl is not None and kl <= MINGUS_REPORTED["pitch_class_kl"]
    )
    return checks


def _write_samples(options, dev, generated):
    folder = Path(options.samples)
    folder.mkdir(parents=True, exist_ok=True)
    for piece, tokens in list(zip(dev, generated))[: options.num_samples]:
        solo = generate.Solo(tokens, piece.chords[: len(tokens)], piece.beats_per_bar, 160.0)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in piece.name)
        generate.write_solo(solo, folder / f"{safe}.mid")


def format_report(result):
    lines = [
        f"dev pieces: {result['dev_pieces']}; NLL {result['likelihood']['nll']:.4f} nats/step "
        f"(perplexity {result['likelihood']['perplexity']:.3f}), accuracy "
        f"{result['likelihood']['accuracy']:.4f}"
    ]
    if "generated" not in result:
        return lines[0]
    lines.append(f"{'':16}{'real':>10}{'generated':>12}{'chords zeroed':>15}")
    for key in ("chord_tone_ratio", "scale_tone_ratio", "pitch_range", "notes_per_bar"):
        values = [result[side][key] for side in ("real", "generated", "chords_zeroed")]
        lines.append(f"{key:16}{values[0]:>10.3f}{values[1]:>12.3f}{values[2]:>15.3f}")
    if "longest_copy_bars" in result["generated"]:
        for side in ("real", "generated"):
            lines.append(
                f"longest copy from training ({side}): {result[side]['longest_copy_notes']} notes, "
                f"{result[side]['longest_copy_bars']:.2f} bars"
            )
    lines += _literature_lines(result["literature"])
    lines += [f"{name}: {'pass' if ok else 'FAIL'}" for name, ok in result["targets"].items()]
    return "\n".join(lines)


def _literature_lines(literature):
    """The MINGUS-style table: coherence shares and pitch-class-histogram distances."""
    sides = ("generated", "untempered", "chords_zeroed")
    lines = [
        "measured as MINGUS and MGEval report (against the real dev solos):",
        f"{'':30}{'real':>8}" + "".join(f"{side:>15}" for side in sides),
    ]
    for key, label in (
        ("chord_tone_share", "chord tones (MINGUS)"),
        ("scale_tone_share", "chord-scale tones (MINGUS)"),
    ):
        values = [literature[side]["harmonic_coherence"]["generated"][key] for side in sides]
        real = literature["real"][key]
        lines.append(f"{label:30}{real:>8.3f}" + "".join(f"{v:>15.3f}" for v in values))
    for key, label in (("kl_reference", "pitch-class hist. KL"), ("overlap_reference", "overlap")):
        values = [literature[side]["mgeval"]["total_pitch_class_histogram"][key] for side in sides]
        shown = "".join(f"{v:>15.3f}" if v is not None else f"{'-':>15}" for v in values)
        lines.append(f"{label:30}{'':>8}" + shown)
    return lines


def evaluate_model(model, **kwargs):
    """Python API: `evaluate_model(model_or_run_dir, data=[...], bars=32, ...)`."""
    options = options_from_kwargs(build_parser(), **kwargs)
    if isinstance(model, (str, Path)):
        options.model = str(model)
        model = load_model(model, app="jazz")
    elif options.model is None and options.data is None:
        raise UserError("pass data=[...] when evaluating an in-memory model")
    return evaluate(model, options)


def main(argv):
    options = build_parser().parse_args(argv)
    require(options, "model")
    model = load_model(options.model, app="jazz")
    result = evaluate(model, options)
    print(format_report(result), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    run_main(main, prog="apps.jazz.evaluate")
