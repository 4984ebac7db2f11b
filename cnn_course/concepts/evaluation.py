"""Evaluation helpers the notebooks share: predicted classes, per-class accuracy, mistakes."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np


def predict_classes(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Arg-max class per example."""
    return np.argmax(model.predict(x, batch_size=batch_size, verbose=0), axis=-1)


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Accuracy over the examples of each true class (NaN for a class with no example)."""
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = np.asarray(y_pred).reshape(-1)
    totals = np.bincount(y_true, minlength=num_classes)
    hits = np.bincount(y_true[y_true == y_pred], minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, hits / np.maximum(totals, 1), np.nan)


def per_class_table(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> str:
    """Per-class accuracy as a Markdown table."""
    accuracies = per_class_accuracy(y_true, y_pred, len(class_names))
    counts = np.bincount(np.asarray(y_true).reshape(-1), minlength=len(class_names))
    lines = ["| class | images | accuracy |", "|---|--:|--:|"]
    lines += [f"| {name} | {count} | {100 * accuracy:.2f}% |"
              for name, count, accuracy in zip(class_names, counts, accuracies)]
    return "\n".join(lines)


def misclassified(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Indices of the wrongly classified examples."""
    return np.flatnonzero(np.asarray(y_true).reshape(-1) != np.asarray(y_pred).reshape(-1))
