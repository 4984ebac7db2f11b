"""Each custom layer: output shape, parameter count, gradients reach every weight, a .keras
save/load round trip, and its receptive-field geometry (runs under TF and JAX in CI)."""

import keras
import numpy as np
import pytest

from cnn_course import receptive_field as rf
from cnn_course.concepts.autodiff import gradients
from cnn_course.concepts.convolution_layers import (
    CoordConv2D,
    DeformableConv2D,
    LocallyConnected2D,
    LocalResponseNormalization,
    SpatiallySeparableConv2D,
)
from cnn_course.concepts.normalization import local_response_norm
from tests.helpers import float32_tolerance

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras

X = np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype("float32")

CASES = [
    # layer factory, output shape, parameter count, RF of the layer
    (lambda: LocallyConnected2D(4, 3), (2, 6, 6, 4), 6 * 6 * (27 * 4 + 4), 3),
    (lambda: DeformableConv2D(4, 3), (2, 8, 8, 4), (27 * 18 + 18) + (9 * 3 * 4 + 4), 3),
    (lambda: CoordConv2D(4, 3), (2, 8, 8, 4), 9 * 5 * 4 + 4, 3),
    (lambda: LocalResponseNormalization(), (2, 8, 8, 3), 0, 1),
    (lambda: SpatiallySeparableConv2D(4, 3), (2, 6, 6, 4), 3 * 3 * 3 + 3 * 3 * 4 + 4, 3),
]
IDS = ["locally_connected", "deformable", "coordconv", "lrn", "spatially_separable"]


def model_of(factory):
    inputs = keras.Input((8, 8, 3))
    return keras.Model(inputs, factory()(inputs))


@pytest.mark.parametrize("factory, shape, params, receptive", CASES, ids=IDS)
def test_shape_and_parameters(factory, shape, params, receptive):
    model = model_of(factory)
    assert tuple(keras.ops.shape(model(X))) == shape
    assert model.count_params() == params


@pytest.mark.parametrize("factory, shape, params, receptive", CASES, ids=IDS)
def test_receptive_field_geometry_is_registered(factory, shape, params, receptive):
    assert rf.annotate(model_of(factory))[-1].rf == (receptive, receptive)


@pytest.mark.parametrize("factory, shape, params, receptive", CASES[:3] + CASES[4:],
                         ids=IDS[:3] + IDS[4:])
def test_gradients_reach_the_weights(factory, shape, params, receptive):
    layer = factory()
    layer.build(X.shape)
    weights = [np.asarray(w.numpy() if hasattr(w, "numpy") else w) for w in layer.weights]

    def stateless(x, *values):
        outputs, _ = layer.stateless_call(list(values), [], x)
        return outputs * outputs

    grads = gradients(stateless, [X, *weights])
    assert np.abs(grads[0]).sum() > 0
    kernel_grads = [g for g, w in zip(grads[1:], layer.weights) if "kernel" in w.path]
    assert kernel_grads and all(np.abs(g).sum() > 0 for g in kernel_grads)


def test_deformable_offsets_receive_gradients():
    layer = DeformableConv2D(2, 3)
    layer.build(X.shape)
    values = [np.asarray(keras.ops.convert_to_numpy(w)) for w in layer.weights]
    # A small non-zero offset so bilinear weights vary with the offsets.
    for index, variable in enumerate(layer.weights):
        if "offsets" in variable.path and "kernel" in variable.path:
            values[index] = np.full(values[index].shape, 0.01, "float32")

    def stateless(x, *weights):
        outputs, _ = layer.stateless_call(list(weights), [], x)
        return outputs * outputs

    grads = gradients(stateless, [X, *values])[1:]
    offset_grads = [g for g, w in zip(grads, layer.weights) if "offsets" in w.path]
    assert any(np.abs(g).sum() > 0 for g in offset_grads)


def test_deformable_with_zero_offsets_is_a_plain_conv():
    layer = DeformableConv2D(4, 3, use_bias=False)
    outputs = keras.ops.convert_to_numpy(layer(X))
    kernel = keras.ops.convert_to_numpy(layer.kernel).reshape(3, 3, 3, 4)
    expected = keras.ops.convert_to_numpy(keras.ops.conv(X, kernel, padding="same"))
    np.testing.assert_allclose(outputs, expected, atol=float32_tolerance())


def test_locally_connected_does_not_share_weights():
    layer = LocallyConnected2D(1, 3, use_bias=False)
    layer.build(X.shape)
    kernel = np.zeros(layer.kernel.shape, "float32")
    kernel[0] = 1.0  # only the first position has a non-zero kernel
    layer.kernel.assign(kernel)
    outputs = keras.ops.convert_to_numpy(layer(X))
    assert outputs[0, 0, 0, 0] == pytest.approx(X[0, :3, :3, :].sum(), rel=1e-5)
    assert np.all(outputs[:, 1:, :, :] == 0) and np.all(outputs[:, 0, 1:, :] == 0)


def test_lrn_matches_the_numpy_formula():
    outputs = keras.ops.convert_to_numpy(LocalResponseNormalization()(X * 50))
    np.testing.assert_allclose(outputs, local_response_norm(X * 50), rtol=1e-5)


@pytest.mark.parametrize("factory, shape, params, receptive", CASES, ids=IDS)
def test_save_and_load_round_trip(factory, shape, params, receptive, tmp_path):
    model = model_of(factory)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(X)),
                               keras.ops.convert_to_numpy(model(X)), atol=1e-6)


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="depth must be a positive odd number"):
        LocalResponseNormalization(depth=4)
    with pytest.raises(ValueError, match="kernel_size must be one int"):
        SpatiallySeparableConv2D(4, (3, 5))


def test_spatially_separable_saves_parameters():
    inputs = keras.Input((16, 16, 16))
    separable = keras.Model(inputs, SpatiallySeparableConv2D(32, 3, use_bias=False)(inputs))
    assert separable.count_params() == 2304  # vs 4,608 for a 3x3 conv


def _macs(layer, input_shape=(8, 8, 3)) -> int:
    inputs = keras.Input(input_shape)
    model = keras.Model(inputs, layer(inputs))
    return rf.annotate(model)[-1].macs


@pytest.mark.parametrize(
    "custom, keras_equivalent",
    [
        (lambda: LocallyConnected2D(4, 3, strides=2), lambda: keras.layers.Conv2D(4, 3, 2)),
        (lambda: SpatiallySeparableConv2D(4, 3, strides=2, padding="same"),
         lambda: keras.Sequential([keras.layers.Conv2D(3, (3, 1), (2, 1), padding="same"),
                                   keras.layers.Conv2D(4, (1, 3), (1, 2), padding="same")])),
    ],
    ids=["locally_connected", "spatially_separable"],
)
def test_custom_layer_macs_equal_those_of_its_keras_equivalent(custom, keras_equivalent):
    equivalent = keras_equivalent()
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, equivalent(inputs))
    expected = sum(row.macs for row in rf.annotate(model))
    assert _macs(custom()) == expected > 0


def test_coordconv_macs_count_the_two_coordinate_channels():
    assert _macs(CoordConv2D(4, 3)) == 8 * 8 * 9 * (3 + 2) * 4


def test_deformable_macs_count_offsets_sampling_and_kernel():
    offsets, sampling, kernel = 64 * 9 * 3 * 18, 64 * 9 * 3 * 4, 64 * 9 * 3 * 4
    assert _macs(DeformableConv2D(4, 3)) == offsets + sampling + kernel
