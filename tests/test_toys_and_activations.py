import numpy as np
import pytest

from cnn_course.concepts import activations, toys


def test_activation_derivatives():
    x = np.array([-2.0, -0.5, 0.5, 2.0], "float32")
    curves = activations.activation_curves(x)
    assert set(curves) == set(activations.ACTIVATIONS)
    values, grads = curves["ReLU"]
    np.testing.assert_allclose(values, [0, 0, 0.5, 2])
    np.testing.assert_allclose(grads, [0, 0, 1, 1])
    sigmoid, sigmoid_grad = curves["sigmoid"]
    np.testing.assert_allclose(sigmoid_grad, sigmoid * (1 - sigmoid), rtol=1e-5)
    np.testing.assert_allclose(curves["PReLU (a=0.25)"][1], [0.25, 0.25, 1, 1])


def test_coordinate_data_marks_the_target_pixel():
    images, targets = toys.coordinate_regression_data(5, size=8)
    rows, cols = np.nonzero(images[..., 0].reshape(5, 8, 8))[1:]
    np.testing.assert_allclose(targets * 7, np.stack([rows, cols], axis=1))


def test_plain_conv_regressor_cannot_see_position():
    """Global max pooling over a translation-equivariant map: shifting the pixel changes
    nothing, so all images with one pixel get the same prediction."""
    images, _ = toys.coordinate_regression_data(6, size=8)
    plain = toys.coordinate_regressor(coordconv=False, size=8)
    predictions = plain.predict(images, verbose=0)
    np.testing.assert_allclose(predictions, predictions[:1].repeat(6, axis=0), atol=1e-6)
    coord = toys.coordinate_regressor(coordconv=True, size=8)
    assert np.ptp(coord.predict(images, verbose=0), axis=0).max() > 0


@pytest.mark.parametrize("order", ["before", "after"])
def test_bn_order_nets(order):
    model = toys.bn_order_net(order)
    kinds = [type(layer).__name__ for layer in model.layers]
    first_bn, first_relu = kinds.index("BatchNormalization"), kinds.index("ReLU")
    assert (first_bn < first_relu) == (order == "before")


def test_a_lesson_shows_the_source_of_the_function_it_calls():
    from cnn_course.concepts import arithmetic
    from cnn_course.lesson import show, source

    assert source(arithmetic.corr2d).startswith("def corr2d(")
    rendered = show(arithmetic.corr2d)
    assert "def corr2d(" in getattr(rendered, "data", "")
