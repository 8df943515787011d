"""Classify texts with a trained sentiment model, and measure it on labelled data."""

import numpy as np

from apps.sentiment import data as sentiment_data
from seqapps.errors import UserError


def polarity(probabilities):
    """Five SST class probabilities as SST-2's two: negative against positive.

    Each side sums its two classes and the neutral share is left out, as SST-2 leaves
    out neutral sentences: `(p0 + p1, p3 + p4) / (p0 + p1 + p3 + p4)`.

    >>> polarity(np.array([[0.4, 0.2, 0.2, 0.1, 0.1], [0.0, 0.1, 0.5, 0.1, 0.3]])).round(3).tolist()
    [[0.75, 0.25], [0.2, 0.8]]
    """
    negative = probabilities[:, 0] + probabilities[:, 1]
    positive = probabilities[:, 3] + probabilities[:, 4]
    total = negative + positive
    # Only a model certain of "neutral" leaves nothing to share: call it even.
    shared = total > 0
    safe_total = np.where(shared, total, 1.0)
    return np.stack(
        [
            np.where(shared, negative / safe_total, 0.5),
            np.where(shared, positive / safe_total, 0.5),
        ],
        axis=1,
    )


def output_labels(model, classes=None):
    """The class names predictions are given in: the model's, or SST-2's with `classes=2`.

    Raises:
        UserError: `classes=2` for a model that does not predict SST's five classes,
            or another number of classes than the model's.
    """
    from apps.sentiment.model import class_labels

    labels = list(class_labels(model).labels)
    if classes is None or int(classes) == len(labels):
        return labels
    if int(classes) == 2 and labels == list(sentiment_data.SST5_LABELS):
        return list(sentiment_data.SST2_LABELS)
    raise UserError(
        f"--classes {classes}: the model predicts {len(labels)} classes ({', '.join(labels)}); "
        "only a model of SST's five classes can also answer in two"
    )


def predict_texts(model, texts, batch_size=256, classes=None):
    """Predict a list of strings; returns one dict per text.

    Each dict has `text`, `label`, `confidence` (probability of the label),
    `probabilities` (class name -> probability) and, for five ordered classes,
    `stars` (1-5). `classes=2` answers a five-class SST model's predictions as
    negative/positive (see `polarity`).
    """
    import tensorflow as tf

    from apps.sentiment.model import class_labels

    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer; received {batch_size}")
    labels_layer = class_labels(model)
    labels = output_labels(model, classes)
    collapse = len(labels) != len(labels_layer.labels)
    with_stars = labels_layer.ordinal and len(labels) == 5
    texts = ["" if t is None else str(t) for t in texts]
    probabilities = np.zeros((len(texts), len(labels_layer.labels)), dtype="float32")
    # Similar lengths together: less padding, fewer recurrent steps.
    order = np.argsort([len(t) for t in texts], kind="stable")
    for start in range(0, len(texts), batch_size):
        idx = order[start : start + batch_size]
        probabilities[idx] = model.predict_on_batch(tf.constant([texts[i] for i in idx]))
    if collapse:
        probabilities = polarity(probabilities)
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


def evaluate_file(model, path, text_col="text", label_col="label", batch_size=256, classes=None):
    """Metrics of `model` on a labelled file (any format `train` reads).

    `classes=2` measures a five-class SST model on SST-2 (see `predict_texts`).
    """
    from seqapps.metrics import classification_report

    labels = output_labels(model, classes)
    classes = 2 if len(labels) == 2 else 5
    dataset = sentiment_data.load(path, text_col, label_col, classes=classes)
    unknown = sorted(set(dataset.labels) - set(labels))
    if unknown:
        raise UserError(
            f"{path}: label(s) {unknown} were never seen by the model (it knows {labels})"
        )
    truth = sentiment_data.class_ids(dataset.labels, labels)
    records = predict_texts(model, dataset.texts, batch_size, classes=len(labels))
    predicted = sentiment_data.class_ids([r["label"] for r in records], labels)
    report = classification_report(truth, predicted, labels)
    report["data"] = str(path)
    return report
