"""The fast layers train exactly as Keras' own BatchNormalization and Dropout (outputs, gradients
through the weight updates, moving statistics, dropout masks) and save and load as Keras'."""

import warnings

import keras
import numpy as np
import pytest

from cnn_course.models.fast_layers import FastDropout, FastRandomTranslation, FusedBatchNormalization

pytestmark = pytest.mark.backend

X = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 3)).astype("float32")
Y = np.random.default_rng(1).integers(0, 4, (16, 1))


def small_model(fast: bool) -> keras.Model:
    norm, drop = (FusedBatchNormalization, FastDropout) if fast else (
        keras.layers.BatchNormalization, keras.layers.Dropout)
    keras.utils.set_random_seed(3)  # the same initial weights and dropout seeds for both
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.SeparableConv2D(6, 3, use_bias=False)(x)
    x = norm(momentum=0.5)(x)
    x = keras.layers.ReLU()(x)
    x = drop(0.3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(4, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    return model


def test_fast_layers_train_exactly_as_keras_layers():
    keras_model, fast_model = small_model(fast=False), small_model(fast=True)
    for _ in range(3):
        keras_loss = keras_model.train_on_batch(X, Y)
        fast_loss = fast_model.train_on_batch(X, Y)
        np.testing.assert_allclose(fast_loss, keras_loss, rtol=1e-5)
    for keras_weight, fast_weight in zip(keras_model.weights, fast_model.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(fast_weight),
                                   keras.ops.convert_to_numpy(keras_weight), atol=2e-5,
                                   err_msg=keras_weight.path)
    np.testing.assert_allclose(fast_model.predict(X, verbose=0),
                               keras_model.predict(X, verbose=0), atol=1e-5)


def test_fast_dropout_draws_the_mask_keras_draws_from_the_same_seed():
    keras_layer, fast_layer = keras.layers.Dropout(0.3, seed=7), FastDropout(0.3, seed=7)
    for _ in range(2):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(fast_layer(X, training=True)),
            keras.ops.convert_to_numpy(keras_layer(X, training=True)))


def test_fused_path_is_taken_exactly_under_tensorflow_training():
    layer = FusedBatchNormalization()
    layer.build(X.shape)
    inputs = keras.ops.convert_to_tensor(X)
    assert layer._fuses(inputs, True, None) == (keras.backend.backend() == "tensorflow")
    assert not layer._fuses(inputs, False, None)  # inference: Keras' own layer


def test_model_with_fast_layers_saves_and_loads_with_the_same_predictions(tmp_path):
    model = small_model(fast=True)
    model.train_on_batch(X, Y)
    model.save(tmp_path / "fast.keras")
    loaded = keras.saving.load_model(tmp_path / "fast.keras")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               atol=1e-6)


IMAGES = np.random.default_rng(2).uniform(0, 255, (6, 9, 7, 3)).astype("float32")


@pytest.mark.skipif(not hasattr(keras.layers.RandomTranslation, "_translate_inputs"),
                    reason="Keras < 3.6 warps inside call: FastRandomTranslation is Keras' layer")
@pytest.mark.parametrize("fill_value", [0.0, 20.0])
def test_fast_translation_warps_as_keras_warps_the_same_shifts(fill_value):
    layer = FastRandomTranslation(0.9, 0.9, fill_mode="constant", fill_value=fill_value)
    # Whole, fractional, negative and off-the-image shifts (dx, dy) in pixels.
    shifts = np.array([[0, 0], [1, -2], [0.5, 0.25], [-2.7, 3.3], [8, 0], [-7.5, -9.2]],
                      "float32")
    transformation = {"translations": keras.ops.convert_to_tensor(shifts),
                      "input_shape": IMAGES.shape}
    images = keras.ops.convert_to_tensor(IMAGES)
    keras_warp = keras.layers.RandomTranslation._translate_inputs(
        layer, images, transformation, "bilinear")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer._translate_inputs(images, transformation, "bilinear")),
        keras.ops.convert_to_numpy(keras_warp), atol=1e-3)


def test_fast_translation_shifts_as_keras_layer_from_the_same_seed():
    keras_layer = keras.layers.RandomTranslation(0.2, 0.2, fill_mode="constant", seed=5)
    fast_layer = FastRandomTranslation(0.2, 0.2, fill_mode="constant", seed=5)
    for _ in range(2):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(fast_layer(IMAGES, training=True)),
            keras.ops.convert_to_numpy(keras_layer(IMAGES, training=True)), atol=1e-3)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(fast_layer(IMAGES, training=False)),
                                  IMAGES)


def test_a_model_with_the_fast_translation_stays_compiled_under_jax():
    model = keras.Sequential([keras.Input(IMAGES.shape[1:]),
                              FastRandomTranslation(0.2, 0.2, fill_mode="constant"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TensorFlow: Keras says it proceeds without XLA
        model.compile("sgd", "mse", jit_compile=True)
    assert model.jit_compile == (keras.backend.backend() == "jax")
