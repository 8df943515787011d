"""Classification metrics computed from label ids (numpy)."""

import numpy as np


def confusion_matrix(true_ids, predicted_ids, num_classes):
    """`matrix[i, j]` counts examples of true class i predicted as class j."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true_ids), np.asarray(predicted_ids)), 1)
    return matrix


def classification_report(true_ids, predicted_ids, class_names):
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix.

    Returns:
        A JSON-ready dict.
    """
    matrix = confusion_matrix(true_ids, predicted_ids, len(class_names))
    true_positive = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    support = matrix.sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positive / predicted, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    total = matrix.sum()
    present = support > 0
    return {
        "examples": int(total),
        "accuracy": float(true_positive.sum() / total) if total else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "labels": list(class_names),
        "confusion_matrix": matrix.tolist(),
    }


def format_report(report):
    """A readable table of `classification_report`'s result."""
    names = report["labels"]
    width = max(12, *(len(n) for n in names))
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    for name in names:
        row = report["per_class"][name]
        lines.append(
            f"{name:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1']:5.4f}"
            f"  {row['support']:7d}"
        )
    lines.append(
        f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   "
        f"examples {report['examples']}"
    )
    lines.append("confusion matrix (rows: true, columns: predicted)")
    for name, row in zip(names, report["confusion_matrix"]):
        lines.append(f"{name:<{width}}  " + " ".join(f"{v:6d}" for v in row))
    return "\n".join(lines)
