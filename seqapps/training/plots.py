"""Plots written into run directories: training curves and confusion matrices."""

from seqapps.files import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def training_curves(history, path, monitor=None):
    """Loss per epoch (train, and dev if present) and the dev metrics, side by side."""
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    metric_keys = [
        k for k in (history[0] if history else {}) if k.startswith("dev_") and k != "dev_loss"
    ]
    figure, (loss_axis, metric_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("loss", "train loss"), ("dev_loss", "dev loss")):
        if history and key in history[0]:
            loss_axis.plot(epochs, [row[key] for row in history], marker="o", label=label)
    loss_axis.set_xlabel("epoch")
    loss_axis.set_title("loss")
    loss_axis.legend()
    for key in metric_keys:
        values = [row.get(key) for row in history]
        style = "-" if monitor and key == f"dev_{monitor}" else "--"
        metric_axis.plot(epochs, values, style, marker="o", label=key[4:])
    metric_axis.set_xlabel("epoch")
    metric_axis.set_title("dev metrics")
    if metric_keys:
        metric_axis.legend()
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, format="png")
    plt.close(figure)


def confusion_matrix(matrix, labels, path, title="confusion matrix"):
    """Heat map of a confusion matrix (rows true, columns predicted), counts written in."""
    import numpy as np

    plt = _pyplot()
    matrix = np.asarray(matrix)
    size = max(4.0, 0.9 * len(labels) + 2)
    figure, axis = plt.subplots(figsize=(size, size * 0.85))
    row_totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
    image = axis.imshow(matrix / row_totals, cmap="Blues", vmin=0, vmax=1)
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            share = matrix[i, j] / row_totals[i, 0]
            axis.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                color="white" if share > 0.5 else "black",
            )
    figure.colorbar(image, ax=axis, label="share of the true class")
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, format="png")
    plt.close(figure)
