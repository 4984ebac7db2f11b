import numpy as np

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
