import keras
import numpy as np
import pytest

from cnn_course.concepts import pooling

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras

FEATURE_MAP = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [0, 0, 5, 6], [1, 2, 7, 8]], dtype=float)


@pytest.mark.parametrize("kind, keras_layer", [("max", keras.layers.MaxPooling2D),
                                               ("average", keras.layers.AveragePooling2D)])
def test_pool2d_matches_keras_pooling(kind, keras_layer):
    image = np.random.default_rng(0).normal(size=(7, 9))
    expected = keras.ops.convert_to_numpy(keras_layer(3, strides=2)(image[None, :, :, None]))
    np.testing.assert_allclose(pooling.pool2d(image, 3, 2, kind), expected[0, :, :, 0],
                               rtol=1e-5, atol=1e-6)


def test_l2_pooling_lies_between_max_and_the_window_sum():
    l2 = pooling.pool2d(FEATURE_MAP, kind="l2")
    np.testing.assert_allclose(l2[0, 0], np.sqrt(1 + 9 + 16 + 4))
    assert np.all(l2 >= pooling.pool2d(FEATURE_MAP, kind="max"))


def test_pool2d_refuses_unknown_kinds_and_windows_that_do_not_fit():
    with pytest.raises(ValueError, match="Unknown pooling kind 'median'"):
        pooling.pool2d(FEATURE_MAP, kind="median")
    with pytest.raises(ValueError, match="does not fit"):
        pooling.pool2d(FEATURE_MAP, size=5)


def test_max_pooling_is_invariant_to_a_shift_within_its_window_only():
    assert pooling.shifted_edge_example(edge_at=3, shift=1).invariant
    crossing = pooling.shifted_edge_example(edge_at=2, shift=1)
    assert not crossing.invariant
    np.testing.assert_array_equal(np.roll(crossing.pooled, 1, axis=1), crossing.pooled_shifted)


def test_global_average_pooling_needs_no_weight_per_position():
    assert pooling.flatten_dense_params(6, 6, 128, 10) == 6 * 6 * 128 * 10 + 10
    assert pooling.global_average_dense_params(128, 10) == 128 * 10 + 10
    flatten = keras.Sequential([keras.Input((6, 6, 128)), keras.layers.Flatten(),
                                keras.layers.Dense(10)])
    assert flatten.count_params() == pooling.flatten_dense_params(6, 6, 128, 10)


def test_pooling_with_overlapping_windows_and_the_default_stride():
    x = np.arange(9).reshape(3, 3)
    np.testing.assert_array_equal(pooling.pool2d(x, 2, stride=1), [[4, 5], [7, 8]])
    np.testing.assert_array_equal(pooling.pool2d(x, 2, stride=1, kind="average"),
                                  [[2, 3], [5, 6]])
    assert pooling.pool2d(np.arange(16).reshape(4, 4), 2).shape == (2, 2)  # stride = window
