"""Classify texts with a trained sentiment model, and measure it on labelled data."""

import numpy as np

from apps.sentiment import data as sentiment_data
from seqapps.errors import UserError


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


def output_columns(records, format):
    """The columns of `predict_texts` records in a table, JSONL or CSV output.

    CSV, having no nested values, gets one `p_<class>` column per class; they
    are added to the records.
    """
    stars = ["stars"] if records and "stars" in records[0] else []
    if format != "csv":
        return ["label", "confidence", *stars, "text"]
    columns = ["text", "label", "confidence", *stars]
    columns += [f"p_{name}" for name in records[0]["probabilities"]] if records else []
    for record in records:
        record.update({f"p_{k}": v for k, v in record["probabilities"].items()})
    return columns


def evaluate_file(model, path, text_col="text", label_col="label", batch_size=256):
    """Metrics of `model` on a labelled file (any format `train` reads)."""
    from apps.sentiment.model import class_labels
    from seqapps.metrics import classification_report

    labels = class_labels(model).labels
    classes = 2 if len(labels) == 2 else 5
    dataset = sentiment_data.load(path, text_col, label_col, classes=classes)
    unknown = sorted(set(dataset.labels) - set(labels))
    if unknown:
        raise UserError(
            f"{path}: label(s) {unknown} were never seen by the model (it knows {labels})"
        )
    truth = sentiment_data.class_ids(dataset.labels, labels)
    records = predict_texts(model, dataset.texts, batch_size)
    predicted = sentiment_data.class_ids([r["label"] for r in records], labels)
    report = classification_report(truth, predicted, labels)
    report["data"] = str(path)
    return report
