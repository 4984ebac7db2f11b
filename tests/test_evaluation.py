import numpy as np
import pytest
from sklearn import metrics  # the oracle (a test-only dependency)

from cnn_course.concepts import evaluation


def test_per_class_accuracy_and_missing_classes():
    accuracy = evaluation.per_class_accuracy(np.array([[0], [0], [1], [1]]),
                                             np.array([0, 1, 1, 1]), 3)
    np.testing.assert_allclose(accuracy[:2], [0.5, 1.0])
    assert np.isnan(accuracy[2])


def test_misclassified_indices():
    np.testing.assert_array_equal(evaluation.misclassified([1, 2, 3], [1, 0, 3]), [1])


def test_per_class_table_lists_every_class():
    table = evaluation.per_class_table(np.array([0, 1, 1]), np.array([0, 1, 0]), ["cat", "dog"])
    assert "| cat | 1 | 100.00% |" in table and "| dog | 2 | 50.00% |" in table


def test_confusion_matrix_counts_pairs():
    counts = evaluation.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])


def test_no_examples_give_an_empty_count_not_an_index_error():
    """`[]` is a float array to NumPy; scikit-learn gives zeros here too."""
    assert evaluation.confusion_matrix([], [], 3).tolist() == [[0] * 3] * 3
    assert np.isnan(evaluation.per_class_accuracy([], [], 3)).all()


def test_the_lectures_worked_example():
    example = evaluation.LECTURE_EXAMPLE
    assert example.accuracy == pytest.approx(0.70)
    assert example.false_positives == 100 and example.false_negatives == 200  # Type I, II
    assert example.sensitivity == pytest.approx(500 / 700)
    assert example.specificity == pytest.approx(200 / 300)
    assert example.type_one_error_rate == pytest.approx(1 / 3)
    assert example.precision == pytest.approx(500 / 600)


@pytest.fixture
def predictions():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 300)
    logits = rng.normal(size=(300, 4)) + 2.0 * np.eye(4)[y_true]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, probabilities


def test_confusion_matrix_and_per_class_rates_agree_with_scikit_learn(predictions):
    y_true, probabilities = predictions
    y_pred = probabilities.argmax(axis=1)
    counts = evaluation.confusion_matrix(y_true, y_pred, 4)
    np.testing.assert_array_equal(counts, metrics.confusion_matrix(y_true, y_pred))
    rates = evaluation.per_class_rates(y_true, y_pred, 4)
    np.testing.assert_allclose([rate.sensitivity for rate in rates],
                               metrics.recall_score(y_true, y_pred, average=None))
    np.testing.assert_allclose([rate.precision for rate in rates],
                               metrics.precision_score(y_true, y_pred, average=None))
    for positive, rate in enumerate(rates):  # specificity: the negatives' recall
        is_positive = y_true == positive
        assert rate.specificity == pytest.approx(
            metrics.recall_score(~is_positive, y_pred != positive))


def test_roc_curve_and_auc_agree_with_scikit_learn(predictions):
    y_true, probabilities = predictions
    for positive, (fpr, tpr, area) in enumerate(
            evaluation.one_vs_rest_roc(y_true, probabilities)):
        expected_fpr, expected_tpr, _ = metrics.roc_curve(
            y_true == positive, probabilities[:, positive], drop_intermediate=False)
        np.testing.assert_allclose(fpr, expected_fpr)
        np.testing.assert_allclose(tpr, expected_tpr)
        assert area == pytest.approx(
            metrics.roc_auc_score(y_true == positive, probabilities[:, positive]))


def test_roc_curve_with_tied_scores_steps_once_per_distinct_score():
    fpr, tpr, thresholds = evaluation.roc_curve([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    assert thresholds[0] == np.inf


def test_roc_curve_needs_both_classes():
    with pytest.raises(ValueError, match="needs both positive and negative examples"):
        evaluation.roc_curve([1, 1], [0.2, 0.3])


def test_rates_table_lists_each_class_against_the_rest():
    rates = evaluation.per_class_rates([0, 0, 1, 1], [0, 1, 1, 1], 2)
    table = evaluation.rates_table(rates, ["cat", "dog"])
    assert "| cat | 2 | 50.00% | 100.00% | 100.00% |" in table
    assert "| dog | 2 | 100.00% | 50.00% | 66.67% |" in table


@pytest.mark.parametrize("y_pred, words", [
    (np.full((3, 10), 0.1), "y_true holds 3 labels but y_pred 30: pass one predicted class"),
    (np.array([0, 1, 12]), "y_pred must hold classes 0 to 9; it holds int64 values from 0 to 12"),
    (np.array([0.0, 1.0, 2.0]), "y_pred must hold classes 0 to 9; it holds float64 values")])
def test_probabilities_or_classes_out_of_range_are_refused_in_words(y_pred, words):
    for counted in (evaluation.confusion_matrix, evaluation.per_class_accuracy):
        with pytest.raises(ValueError, match=words):
            counted(np.array([[0], [1], [2]]), y_pred, 10)


def test_roc_curve_refuses_unequal_labels_and_scores_instead_of_returning_nan():
    with pytest.raises(ValueError, match="one score per example; received 2 labels and 1 scores"):
        evaluation.roc_curve([0, 1], [0.5])


@pytest.mark.parametrize("positive", [3, -1])
def test_one_vs_rest_refuses_a_class_outside_the_matrix(positive):
    with pytest.raises(ValueError, match=f"class from 0 to 2; received {positive}"):
        evaluation.one_vs_rest(np.eye(3, dtype=int), positive)
