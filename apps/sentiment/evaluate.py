"""Evaluate a trained sentiment model on labelled data.

Prints one JSON object of metrics on stdout (accuracy, macro-F1, per-class
precision/recall/F1, confusion matrix) and a readable report on stderr. With
a run directory as --model, also writes the confusion matrix as
`confusion-eval.png` there (or to --plot); the run's `confusion.png`, training's
dev-set plot, is left as it is.

Example:
  python -m apps.sentiment.evaluate --model sst5 --data data/sst/dev.txt
  python -m apps.sentiment.evaluate --model sst5 --classes 2 --data data/sst/dev.txt

data/sst/dev.txt: the SST dev trees, trees/dev.txt in trainDevTestTrees_PTB.zip from
https://nlp.stanford.edu/sentiment/.
"""

import json
import sys
from pathlib import Path

from apps.sentiment.data import add_classes_argument
from seqapps.cli import make_parser, positive_int, require, run_main

# The confusion matrix evaluate writes into a run directory (training writes confusion.png).
EVAL_PLOT = "confusion-eval.png"


def build_parser():
    parser = make_parser("apps.sentiment.evaluate", __doc__)
    parser.add_argument("--model", help="run directory, .keras file or preset name")
    parser.add_argument("--data", help="labelled data (CSV/TSV/JSONL, SST trees, class folders)")
    parser.add_argument("--text-col", default="text", help="text column of a table")
    parser.add_argument("--label-col", default="label", help="label column of a table")
    add_classes_argument(parser)
    parser.add_argument(
        "--plot",
        help="write the confusion matrix PNG here (default: confusion-eval.png in a run "
        "directory given as --model; none for a .keras file)",
    )
    parser.add_argument("--batch-size", type=positive_int, default=256, help="texts per batch")
    return parser


def main(argv):
    from apps.sentiment.classify import evaluate_file
    from seqapps.export import load_model
    from seqapps.metrics import format_report
    from seqapps.training import plots

    options = build_parser().parse_args(argv)
    require(options, "model", "data")
    model = load_model(options.model, app="sentiment")
    report = evaluate_file(
        model,
        options.data,
        options.text_col,
        options.label_col,
        options.batch_size,
        options.classes,
    )
    print(format_report(report), file=sys.stderr)
    plot = options.plot or (
        Path(options.model) / EVAL_PLOT if Path(options.model).is_dir() else None
    )
    if plot:
        plots.confusion_matrix(
            report["confusion_matrix"], report["labels"], plot, f"confusion: {options.data}"
        )
        print(f"Wrote {plot}", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    run_main(main, prog="apps.sentiment.evaluate")
