"""How to evaluate a classifier, as the lecture teaches it, in NumPy: the confusion matrix,
accuracy, sensitivity and specificity (per class, one class against the rest), Type I and
Type II errors, ROC curves and their area; plus the helpers the notebooks share (predicted
classes, per-class accuracy, mistakes). scikit-learn is the tests' oracle, not a dependency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnn_course import tables


def predict_classes(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Arg-max class per example (`model`: a Keras model; this module needs no Keras itself,
    so the report and plots stay light). Images a raw-uint8 model would misread (scaled to
    [0, 1]: all black to it) or fail on obscurely (another shape) are refused in words."""
    from cnn_course.models.inputs import check_model_input

    check_model_input(model, x)
    return np.argmax(model.predict(x, batch_size=batch_size, verbose=0), axis=-1)


def class_labels(y_true, y_pred, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Both as flat arrays of classes, checked: one predicted class per example, each a whole
    number from 0 to `num_classes - 1` (probabilities are refused, saying what to pass)."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true holds {len(y_true)} labels but y_pred {len(y_pred)}: pass one "
                         f"predicted class per example (`predict_classes(model, x)`, or "
                         f"`probabilities.argmax(axis=-1)`).")
    if not y_true.size:  # no example: NumPy reads [] as floats
        return y_true.astype(np.int64), y_pred.astype(np.int64)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if (not np.issubdtype(labels.dtype, np.integer)
                or labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} must hold classes 0 to {num_classes - 1}; it holds "
                             f"{labels.dtype} values from {labels.min()} to {labels.max()}.")
    return y_true, y_pred


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Accuracy over the examples of each true class (NaN for a class with no example)."""
    y_true, y_pred = class_labels(y_true, y_pred, num_classes)
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
    return tables.render(("class", "images", "accuracy"),
                         [(name, count, tables.percent(accuracy))
                          for name, count, accuracy in zip(class_names, counts, accuracies)],
                         format="markdown")


def misclassified(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Indices of the wrongly classified examples."""
    return np.flatnonzero(np.asarray(y_true).reshape(-1) != np.asarray(y_pred).reshape(-1))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    y_true, y_pred = class_labels(y_true, y_pred, num_classes)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


@dataclass(frozen=True)
class BinaryRates:
    """A two-class confusion matrix and what the lecture reads from it."""

    true_positives: int
    false_positives: int  # Type I errors: "positive" said of a negative
    false_negatives: int  # Type II errors: "negative" said of a positive
    true_negatives: int

    @property
    def accuracy(self) -> float:
        correct = self.true_positives + self.true_negatives
        return correct / (correct + self.false_positives + self.false_negatives)

    @property
    def sensitivity(self) -> float:
        """TP / (TP + FN): the positives found (recall, true-positive rate)."""
        return self.true_positives / (self.true_positives + self.false_negatives)

    @property
    def specificity(self) -> float:
        """TN / (TN + FP): the negatives recognised (true-negative rate)."""
        return self.true_negatives / (self.true_negatives + self.false_positives)

    @property
    def precision(self) -> float:
        """TP / (TP + FP): how often a "positive" is right."""
        return self.true_positives / (self.true_positives + self.false_positives)

    @property
    def type_one_error_rate(self) -> float:
        """FP / (FP + TN) = 1 − specificity (the false-positive rate)."""
        return 1 - self.specificity

    @property
    def type_two_error_rate(self) -> float:
        """FN / (FN + TP) = 1 − sensitivity (the false-negative rate)."""
        return 1 - self.sensitivity


# The lecture's worked example: 500 true positives, 100 false positives (Type I errors), 200
# false negatives (Type II errors), 200 true negatives: accuracy 70%.
LECTURE_EXAMPLE = BinaryRates(true_positives=500, false_positives=100, false_negatives=200,
                              true_negatives=200)


def one_vs_rest(counts: np.ndarray, positive: int) -> BinaryRates:
    """Class `positive` against all the others, from a multi-class confusion matrix."""
    counts = np.asarray(counts)
    if not 0 <= positive < len(counts):
        raise ValueError(f"positive is a class from 0 to {len(counts) - 1}; received {positive}.")
    true_positives = int(counts[positive, positive])
    false_negatives = int(counts[positive].sum()) - true_positives
    false_positives = int(counts[:, positive].sum()) - true_positives
    true_negatives = int(counts.sum()) - true_positives - false_negatives - false_positives
    return BinaryRates(true_positives, false_positives, false_negatives, true_negatives)


def per_class_rates(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int
                    ) -> list[BinaryRates]:
    """Each class against the rest: its sensitivity, specificity, precision..."""
    counts = confusion_matrix(y_true, y_pred, num_classes)
    return [one_vs_rest(counts, positive) for positive in range(num_classes)]


def rates_table(rates: Sequence[BinaryRates], class_names: Sequence[str]) -> str:
    """Each class against the rest as a Markdown table: images, sensitivity, specificity,
    precision."""
    return tables.render(("class", "images", "sensitivity", "specificity", "precision"),
                         [(name, rate.true_positives + rate.false_negatives,
                           tables.percent(rate.sensitivity), tables.percent(rate.specificity),
                           tables.percent(rate.precision)) for name, rate in zip(class_names, rates)],
                         format="markdown")


def roc_curve(is_positive: np.ndarray, scores: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false-positive rates, true-positive rates, thresholds) as the decision threshold falls
    through every distinct score: "positive" when score >= threshold. Starts at (0, 0) with
    threshold +inf and ends at (1, 1)."""
    is_positive = np.asarray(is_positive).reshape(-1).astype(bool)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if is_positive.size != scores.size:
        raise ValueError(f"roc_curve takes one score per example; received {is_positive.size} "
                         f"labels and {scores.size} scores.")
    if is_positive.all() or not is_positive.any():
        raise ValueError("roc_curve needs both positive and negative examples; received "
                         f"{int(is_positive.sum())} positives of {is_positive.size}.")
    order = np.argsort(-scores, kind="stable")
    scores, is_positive = scores[order], is_positive[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    true_positives = np.cumsum(is_positive)[last_of_each_score]
    false_positives = np.cumsum(~is_positive)[last_of_each_score]
    tpr = np.r_[0.0, true_positives / is_positive.sum()]
    fpr = np.r_[0.0, false_positives / (~is_positive).sum()]
    return fpr, tpr, np.r_[np.inf, scores[last_of_each_score]]


def area_under_curve(x: np.ndarray, y: np.ndarray) -> float:
    """The trapezoid rule over points sorted by x (the ROC AUC from `roc_curve`)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def one_vs_rest_roc(y_true: np.ndarray, probabilities: np.ndarray
                    ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Per class: (false-positive rates, true-positive rates, AUC) of "this class" scored by
    its predicted probability, against every other class."""
    y_true = np.asarray(y_true).reshape(-1)
    curves = []
    for positive in range(probabilities.shape[-1]):
        fpr, tpr, _ = roc_curve(y_true == positive, probabilities[:, positive])
        curves.append((fpr, tpr, area_under_curve(fpr, tpr)))
    return curves
