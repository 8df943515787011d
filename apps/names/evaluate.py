"""Evaluate a character-level language model: likelihood of a file, scores of strings, samples.

--data FILE gives the negative log-likelihood per character in nats (every
predicted character of every line, the end symbol of each line included; for
running-text models, windows of --window characters), bits per character and
perplexity (e to the NLL). --score STRING ... prints the log-probability of
each string and of each of its characters. For line models, --samples N (default
1000) also draws N samples at --temperature and compares them with the
training lines: the share that is new, and their length distribution against
the training lines' (summary statistics and the Kolmogorov-Smirnov statistic).

With --dev-split, --data is the file the model was trained on and only the
lines the run held out as dev are scored: the split is drawn again with the
--dev-fraction and --seed of its config.json (what a preset reports).

Prints one JSON object on stdout and a readable report on stderr.

Examples:
  python -m apps.names.evaluate --model dinos --score Tyrannosaurus Velociraptor
  python -m apps.names.evaluate --model dinos --data my-names.txt --samples 0
  python -m apps.names.evaluate --model dinos --data dinos.txt --dev-split --samples 0

dinos.txt: the file the preset was trained on, a list of dinosaur genus names, one per line
(from Wikipedia's list of dinosaur genera).
"""

import contextlib
import json
import sys
import tempfile
from pathlib import Path

from seqapps.cli import (
    int_range,
    make_parser,
    non_negative_float,
    non_negative_int,
    positive_int,
    random_seed,
    require,
    run_main,
)
from seqapps.errors import UserError
from seqapps.text.tables import printable


def build_parser():
    parser = make_parser("apps.names.evaluate", __doc__)
    parser.add_argument("--model", help="run directory, .keras file or preset name")
    parser.add_argument("--data", help="file to score: one example per line (or running text)")
    parser.add_argument(
        "--dev-split",
        action="store_true",
        help="--data is the run's training file: score only the lines its seeded split held out",
    )
    parser.add_argument("--score", nargs="+", metavar="STRING", help="strings to score")
    parser.add_argument(
        "--samples",
        type=non_negative_int,
        default=1000,
        help="line models: draw this many samples and compare them with the training lines "
        "(0: skip)",
    )
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        default=1.0,
        help="temperature of those samples (0: greedy)",
    )
    parser.add_argument("--seed", type=random_seed, default=1, help="seed of those samples")
    parser.add_argument(
        "--training-data",
        help="training lines to compare samples with (default: the run's, from config.json)",
    )
    parser.add_argument(
        "--window",
        type=int_range(2),
        default=100,
        help="running-text models: characters per window",
    )
    parser.add_argument("--batch-size", type=positive_int, default=256, help="strings per batch")
    return parser


def _format_summary(summary):
    return (
        f"mean {summary['mean']:.2f}, std {summary['std']:.2f}, min {summary['min']:.0f}, "
        f"quartiles {summary['q25']:.0f}/{summary['median']:.0f}/{summary['q75']:.0f}, "
        f"90% {summary['q90']:.0f}, max {summary['max']:.0f}"
    )


@contextlib.contextmanager
def _held_out_lines(options):
    """The file to score: --data, or its lines the run held out (--dev-split), as a file."""
    if not options.dev_split:
        yield options.data
        return
    from apps.names import data as names_data
    from seqapps.training.runs import source_options

    recorded = source_options(options.model)
    if not recorded:
        raise UserError(f"--dev-split: --model {options.model} has no config.json to split by")
    if recorded.get("dev"):
        raise UserError(
            f"--dev-split: --model {options.model} was trained with the dev file "
            f"{recorded['dev']}; score that file instead"
        )
    corpus = names_data.load(
        options.data, recorded.get("mode", "lines"), recorded.get("lowercase", False)
    )
    _, dev = names_data.split(
        corpus, recorded.get("dev_fraction", 0.1), recorded.get("seed", 1), recorded.get("window")
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dev.txt"
        if dev.mode == "lines":
            names_data.write_lines(path, dev.strings)
        else:
            path.write_text(dev.all_text(), encoding="utf-8")
        yield str(path)


def main(argv):
    options = build_parser().parse_args(argv)
    from apps.names import data as names_data
    from apps.names.generate import sample_report
    from apps.names.model import mode_of, vocabulary_of
    from apps.names.scoring import evaluate_file, score_strings
    from seqapps.export import load_model

    require(options, "model")
    if not options.data and not options.score:
        raise UserError("give --data FILE to evaluate, --score STRING ... to score, or both")
    if options.samples < 0:
        raise UserError(f"--samples must be >= 0; received {options.samples}")
    model = load_model(options.model, app="names")
    vocabulary = vocabulary_of(model)
    report = {}
    if options.dev_split and not options.data:
        raise UserError("--dev-split needs --data, the file the run was trained on")
    if options.data:
        with _held_out_lines(options) as path:
            metrics = evaluate_file(model, path, options.window, options.batch_size)
        metrics["data"] = options.data + (" (its dev split)" if options.dev_split else "")
        report.update(metrics)
        print(
            f"{metrics['data']}: {metrics['examples']} examples, {metrics['characters']} "
            f"characters: NLL {metrics['nll']:.4f} nats per character, "
            f"{metrics['bits_per_char']:.4f} bits per character, "
            f"perplexity {metrics['perplexity']:.3f}",
            file=sys.stderr,
        )
        if metrics["unknown_characters"]:
            print(
                f"  {metrics['unknown_characters']} character(s) the model never saw, scored as "
                "its unknown character",
                file=sys.stderr,
            )
    if options.score:
        report["scores"] = score_strings(model, options.score, options.batch_size)
        for record in report["scores"]:
            steps = "  ".join(f"{printable(c)} {v:.3f}" for c, v in record["characters"])
            text, log_prob = record["text"], record["log_prob"]
            print(f"{text!r}: log p = {log_prob:.4f}  |  {steps}", file=sys.stderr)
            if record["unknown"]:
                print(f"  never seen: {''.join(record['unknown'])!r}", file=sys.stderr)
    if options.samples and vocabulary.terminated:
        reference, note = names_data.training_reference(
            options.model, options.training_data, mode_of(vocabulary), vocabulary.lowercase
        )
        if reference is None:
            print(f"samples not compared: {note}", file=sys.stderr)
        else:
            if not options.temperature >= 0:
                raise UserError(
                    f"--temperature must be >= 0 (0: greedy); received {options.temperature}"
                )
            samples = sample_report(
                model, reference, options.samples, options.temperature, options.seed
            )
            report["samples"] = samples
            print(
                f"{samples['count']} samples at temperature {options.temperature:g}: "
                f"{100 * samples['new_share']:.1f}% new; "
                f"lengths {_format_summary(samples['lengths'])}\n"
                f"  training lines: {_format_summary(samples['training_lengths'])}; "
                f"Kolmogorov-Smirnov statistic {samples['ks_statistic']:.3f}",
                file=sys.stderr,
            )
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    run_main(main, prog="apps.names.evaluate")
