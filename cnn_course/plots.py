"""The course's standard figures: training curves, confusion matrices, image grids, kernels.

Each function returns a matplotlib Figure and draws nothing else, so notebooks show it and the
run logger saves it with the same code.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnn_course.concepts import evaluation


def training_curves(
    history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]],
    title: str | None = None,
) -> Figure:
    """Accuracy and loss per epoch, training and validation, side by side.

    Args:
        history: columns (`History.history`) or rows (`run_files.read_history`) with `accuracy`,
            `loss` and optionally `val_accuracy`, `val_loss`, `epoch`.
    """
    columns = _as_columns(history)
    epochs = columns.get("epoch") or list(range(1, len(columns.get("loss", [])) + 1))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, metric in zip(axes, ("accuracy", "loss")):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = columns.get(prefix + metric)
            if values and any(value is not None for value in values):
                label = ("validation " if prefix else "training ") + metric
                axis.plot(epochs, values, style, marker="o", markersize=3, label=label)
        _epoch_axis(axis, metric)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def compare_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]] | Sequence[Mapping[str, float]]],
    metric: str = "val_accuracy",
    title: str | None = None,
    dashed: Collection[str] = (),
) -> Figure:
    """One metric of several runs on one axis (e.g. the validation accuracy of two networks).

    A history with `<metric>_min` and `<metric>_max` columns (a recipe over seeds) gets a band
    between them; labels in `dashed` are drawn dashed (runs validated on a holdout, say). With
    more than four curves the legend goes beside the axis, so that it hides none of them.
    """
    many = len(histories) > 4
    figure, axis = plt.subplots(figsize=(11, 4.5) if many else (7, 4))
    for label, history in histories.items():
        columns = _as_columns(history)
        values = columns[metric]
        epochs = columns.get("epoch") or list(range(1, len(values) + 1))
        (line,) = axis.plot(epochs, values, "--" if label in dashed else "-", marker="o",
                            markersize=3, label=label)
        low, high = columns.get(f"{metric}_min"), columns.get(f"{metric}_max")
        if low and high and low != high:
            axis.fill_between(epochs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    _epoch_axis(axis, metric)
    if many:
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def _epoch_axis(axis, metric: str) -> None:
    """Epochs on x (whole numbers), the metric on y, a light grid and the legend."""
    axis.set_xlabel("epoch")
    axis.set_ylabel(metric)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.grid(alpha=0.3)
    axis.legend()


def confusion_matrix_figure(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> Figure:
    """The confusion matrix as a heatmap with counts in each cell."""
    counts = evaluation.confusion_matrix(y_true, y_pred, len(class_names))
    figure, axis = plt.subplots(figsize=(7, 6))
    image = axis.imshow(counts, cmap="Blues")
    axis.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axis.set_yticks(range(len(class_names)), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, column), value in np.ndenumerate(counts):
        axis.text(column, row, str(value), ha="center", va="center", fontsize=7,
                  color="white" if value > threshold else "black")
    figure.colorbar(image, ax=axis)
    figure.tight_layout()
    return figure


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    columns: int = 8,
    size: float = 1.4,
) -> Figure:
    """Images (N,H,W) or (N,H,W,C) in a grid, each with an optional title."""
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"image_grid got {len(images)} images but {len(titles)} titles; give "
                         f"one title per image, or none.")
    count = max(len(images), 1)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size * 1.15))
    for index, axis in enumerate(np.atleast_1d(axes).reshape(-1)):
        axis.axis("off")
        if index < len(images):
            image = np.asarray(images[index])
            axis.imshow(image.squeeze(), cmap="gray" if image.ndim == 2 or image.shape[-1] == 1
                        else None)
            if titles is not None:
                axis.set_title(titles[index], fontsize=8)
    figure.tight_layout()
    return figure


def kernel_grid(kernels: np.ndarray, title: str | None = None, columns: int = 8) -> Figure:
    """The 2-D kernels of a conv layer (kh, kw, in, out): one panel per (output) filter,
    first input channel, each on its own symmetric colour scale."""
    kernels = np.asarray(kernels)
    count = kernels.shape[-1]
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.2, rows * 1.2))
    for index, axis in enumerate(np.atleast_1d(axes).reshape(-1)):
        axis.axis("off")
        if index < count:
            kernel = kernels[:, :, 0, index]
            limit = float(np.abs(kernel).max()) or 1.0
            axis.imshow(kernel, cmap="bwr", vmin=-limit, vmax=limit)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _as_columns(history) -> dict[str, list]:
    if isinstance(history, Mapping):
        return {key: list(values) for key, values in history.items()}
    rows = list(history)
    keys = {key for row in rows for key in row}
    return {key: [row.get(key) for row in rows] for key in keys}


def roc_curves_figure(y_true: np.ndarray, probabilities: np.ndarray,
                      class_names: Sequence[str]) -> Figure:
    """One-vs-rest ROC curve of every class, with its AUC, and the chance diagonal."""
    figure, axis = plt.subplots(figsize=(6.5, 6))
    for name, (fpr, tpr, area) in zip(class_names,
                                      evaluation.one_vs_rest_roc(y_true, probabilities)):
        axis.plot(fpr, tpr, label=f"{name} (AUC {area:.3f})")
    axis.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    axis.set_xlabel("false-positive rate (1 − specificity)")
    axis.set_ylabel("true-positive rate (sensitivity)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    figure.tight_layout()
    return figure
