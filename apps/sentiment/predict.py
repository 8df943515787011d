"""Predict the sentiment of texts with a trained model.

Inputs come as arguments, from --input FILE (one text per line, or the
--text-col column of a CSV/TSV/JSONL file), or one per line on stdin. Empty
texts are valid inputs.

Examples:
  python -m apps.sentiment.predict --model runs/sst5 "A gorgeous, witty film." "Dull."
  python -m apps.sentiment.predict --model runs/sst5 --input reviews.csv --text-col review \\
      --format jsonl --output predictions.jsonl
"""

import numpy as np

from seqapps.cli import make_parser, positive_int, require, run_main
from seqapps.tabular import add_input_arguments, read_inputs, write_records


def predict_texts(model, texts, batch_size=256):
    """Predict a list of strings; returns one dict per text.

    Each dict has `text`, `label`, `confidence` (probability of the label),
    `probabilities` (class name -> probability) and, for five ordered classes,
    `stars` (1-5).
    """
    import tensorflow as tf

    from apps.sentiment.model import class_labels

    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer; received {batch_size}")
    labels_layer = class_labels(model)
    labels = labels_layer.labels
    with_stars = labels_layer.ordinal and len(labels) == 5
    texts = ["" if t is None else str(t) for t in texts]
    probabilities = np.zeros((len(texts), len(labels)), dtype="float32")
    # Similar lengths together: less padding, fewer recurrent steps.
    order = np.argsort([len(t) for t in texts], kind="stable")
    for start in range(0, len(texts), batch_size):
        idx = order[start : start + batch_size]
        probabilities[idx] = model.predict_on_batch(tf.constant([texts[i] for i in idx]))
    records = []
    for text, row in zip(texts, probabilities):
        best = int(row.argmax())
        record = {
            "text": text,
            "label": labels[best],
            "confidence": float(row[best]),
            "probabilities": {name: float(p) for name, p in zip(labels, row)},
        }
        if with_stars:
            record["stars"] = best + 1
        records.append(record)
    return records


def build_parser():
    parser = make_parser("apps.sentiment.predict", __doc__)
    add_input_arguments(
        parser, "texts to classify", "file of inputs: lines, or a CSV/TSV/JSONL table"
    )
    parser.add_argument(
        "--format", choices=("table", "jsonl", "csv"), default="table", help="output format"
    )
    parser.add_argument("--output", help="write to this file instead of stdout")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="texts per batch")
    return parser


def main(argv):
    from seqapps.export import load_model

    options = build_parser().parse_args(argv)
    require(options, "model")
    texts = read_inputs(options.texts, options.input, options.text_col)
    model = load_model(options.model, app="sentiment")
    records = predict_texts(model, texts, options.batch_size)
    columns = ["label", "confidence"]
    if records and "stars" in records[0]:
        columns.append("stars")
    columns.append("text")
    if options.format == "csv":
        columns = ["text", "label", "confidence"] + (["stars"] if "stars" in columns else [])
        columns += [f"p_{name}" for name in records[0]["probabilities"]] if records else []
        for record in records:
            record.update({f"p_{k}": v for k, v in record["probabilities"].items()})
    write_records(records, columns, options.format, options.output)


if __name__ == "__main__":
    run_main(main, prog="apps.sentiment.predict")
