import keras
import numpy as np
import pytest
from keras import layers

from cnn_course import receptive_field as rf
from cnn_course.models import quickstart_net

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras


def ones_chain(depth: int, size: int = 16, padding: str = "valid") -> keras.Model:
    inputs = keras.Input((size, size, 1))
    x = inputs
    for index in range(depth):
        x = layers.Conv2D(1, 3, use_bias=False, kernel_initializer="ones", padding=padding,
                          name=f"conv{index + 1}")(x)
    return keras.Model(inputs, x)


def test_linear_all_ones_chain_gives_trinomial_coefficients():
    erf = rf.effective_receptive_field(ones_chain(4), "conv4", n=2)
    trinomial = np.array([1, 4, 10, 16, 19, 16, 10, 4, 1], dtype=float)
    expected = np.outer(trinomial, trinomial)
    centre = erf.unit[0]  # output 8x8, centre unit 4 sees input pixels 4..12
    window = erf.map[centre:centre + 9, centre:centre + 9]
    np.testing.assert_allclose(window / window.max(), expected / expected.max(), rtol=1e-5)
    assert erf.map.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(erf.std, [np.sqrt(2 * 4 / 3)] * 2, rtol=1e-5)
    assert erf.theoretical_rf == 9


def test_erf_is_smaller_than_the_theoretical_rf():
    erf = rf.effective_receptive_field(ones_chain(6, size=20), "conv6", n=1)
    assert erf.side_50 < erf.side_95 <= erf.theoretical_rf == 13
    assert 0 < erf.ratio_50 < erf.ratio_95 <= 1


def test_erf_accepts_uint8_images_of_a_course_model():
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28)).astype(np.uint8)
    erf = rf.effective_receptive_field(quickstart_net(), "conv5", inputs=images)
    assert erf.map.shape == (28, 28) and erf.theoretical_rf == 16


def test_erf_warns_when_the_theoretical_rf_exceeds_the_input():
    with pytest.warns(UserWarning, match="exceeds the input"):
        rf.effective_receptive_field(ones_chain(4, size=6, padding="same"), "conv4", n=1)


def test_erf_refuses_a_layer_without_two_spatial_axes():
    with pytest.raises(ValueError, match="needs a layer with two spatial axes"):
        rf.effective_receptive_field(quickstart_net(), "gap")
