"""Evaluate a trained sentiment model on labelled data.

Prints one JSON object of metrics on stdout (accuracy, macro-F1, per-class
precision/recall/F1, confusion matrix) and a readable report on stderr. With
a run directory as --model, also writes the confusion matrix as
`confusion-eval.png` there (or to --plot); the run's `confusion.png`, training's
dev-set plot, is left as it is.

Example:
  python -m apps.sentiment.evaluate --model runs/sst5 --data ../shared/data/sst/dev.txt
"""

import json
import sys
from pathlib import Path

import numpy as np

from apps.sentiment import data as sentiment_data
from seqapps.cli import UserError, make_parser, positive_int, require, run_main

# The confusion matrix evaluate writes into a run directory (training writes confusion.png).
EVAL_PLOT = "confusion-eval.png"


def evaluate_file(model, path, text_col="text", label_col="label", batch_size=256):
    """Metrics of `model` on a labelled file (any format `train` reads)."""
    from apps.sentiment.model import class_labels
    from apps.sentiment.predict import predict_texts
    from seqapps.metrics import classification_report

    labels = class_labels(model).labels
    classes = 2 if len(labels) == 2 else 5
    dataset = sentiment_data.load(path, text_col, label_col, classes=classes)
    index = {name: i for i, name in enumerate(labels)}
    unknown = sorted(set(dataset.labels) - set(labels))
    if unknown:
        raise UserError(
            f"{path}: label(s) {unknown} were never seen by the model (it knows {labels})"
        )
    truth = np.array([index[label] for label in dataset.labels])
    records = predict_texts(model, dataset.texts, batch_size)
    predicted = np.array([index[r["label"]] for r in records])
    report = classification_report(truth, predicted, labels)
    report["data"] = str(path)
    return report


def build_parser():
    parser = make_parser("apps.sentiment.evaluate", __doc__)
    parser.add_argument("--model", help="run directory or .keras file")
    parser.add_argument("--data", help="labelled data (CSV/TSV/JSONL, SST trees, class folders)")
    parser.add_argument("--text-col", default="text", help="text column of a table")
    parser.add_argument("--label-col", default="label", help="label column of a table")
    parser.add_argument(
        "--plot",
        help="write the confusion matrix PNG here (default: confusion-eval.png in a run "
        "directory given as --model; none for a .keras file)",
    )
    parser.add_argument("--batch-size", type=positive_int, default=256, help="texts per batch")
    return parser


def main(argv):
    from seqapps import plots
    from seqapps.export import load_model
    from seqapps.metrics import format_report

    options = build_parser().parse_args(argv)
    require(options, "model", "data")
    model = load_model(options.model, app="sentiment")
    report = evaluate_file(
        model, options.data, options.text_col, options.label_col, options.batch_size
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
