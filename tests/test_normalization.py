import keras
import numpy as np
import pytest

from cnn_course.concepts import normalization as norm

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras

X = np.random.default_rng(0).standard_normal((4, 5, 6, 8)).astype("float32") * 3 + 1


def keras_output(layer, x, training=True):
    return keras.ops.convert_to_numpy(layer(x, training=training))


def test_batch_norm_matches_keras_in_training_mode():
    layer = keras.layers.BatchNormalization(epsilon=1e-3)
    np.testing.assert_allclose(norm.batch_norm(X), keras_output(layer, X), atol=1e-4)


def test_layer_norm_matches_keras():
    layer = keras.layers.LayerNormalization(axis=(1, 2, 3), epsilon=1e-3)
    np.testing.assert_allclose(norm.layer_norm(X), keras_output(layer, X), atol=1e-4)


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_group_norm_matches_keras(groups):
    layer = keras.layers.GroupNormalization(groups=groups, epsilon=1e-3)
    np.testing.assert_allclose(norm.group_norm(X, groups), keras_output(layer, X), atol=1e-4)


def test_group_norm_extremes_are_instance_and_layer_norm():
    np.testing.assert_allclose(norm.group_norm(X, 8), norm.instance_norm(X), atol=1e-6)
    np.testing.assert_allclose(norm.group_norm(X, 1), norm.layer_norm(X), atol=1e-6)
    instance = keras.layers.GroupNormalization(groups=8, epsilon=1e-3)
    np.testing.assert_allclose(norm.instance_norm(X), keras_output(instance, X), atol=1e-4)


def test_normalized_statistics_are_zero_mean_unit_variance():
    assert np.allclose(norm.batch_norm(X).mean(axis=(0, 1, 2)), 0, atol=1e-6)
    assert np.allclose(norm.instance_norm(X).std(axis=(1, 2)), 1, atol=1e-3)


def test_local_response_norm_by_hand():
    x = np.arange(1.0, 6.0).reshape(1, 1, 1, 5)
    expected_middle = 3.0 / (2.0 + 1e-4 * (1 + 4 + 9 + 16 + 25)) ** 0.75
    assert norm.local_response_norm(x)[0, 0, 0, 2] == pytest.approx(expected_middle)
    expected_edge = 1.0 / (2.0 + 1e-4 * (1 + 4 + 9)) ** 0.75
    assert norm.local_response_norm(x)[0, 0, 0, 0] == pytest.approx(expected_edge)


@pytest.mark.parametrize("groups", [3, 0, -2])
def test_group_norm_refuses_groups_that_do_not_divide_channels(groups):
    with pytest.raises(ValueError, match=f"groups={groups} must divide the 8 channels"):
        norm.group_norm(X, groups)


@pytest.mark.parametrize("depth", [0, 4])
def test_local_response_norm_refuses_a_window_that_is_not_centred(depth):
    with pytest.raises(ValueError, match=f"odd number of channels .* received {depth}"):
        norm.local_response_norm(np.ones((1, 1, 1, 8)), depth=depth)


@pytest.mark.parametrize("normalize", [norm.batch_norm, norm.layer_norm, norm.instance_norm,
                                       lambda x: norm.group_norm(x, 2)])
def test_the_norms_refuse_one_image_without_its_batch_axis(normalize):
    with pytest.raises(ValueError, match=r"batch of images of shape \(N, H, W, C\); received "
                                         r"shape \(4, 4, 8\). One image is `x\[None\]`"):
        normalize(np.ones((4, 4, 8)))
