"""The from-scratch backward passes agree with Keras autodiff (TF or JAX) to 1e-4."""

import numpy as np
import pytest
from keras import ops

from cnn_course.concepts import backprop
from cnn_course.concepts.autodiff import gradients

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras

RNG = np.random.default_rng(0)


def random(*shape):
    return RNG.standard_normal(shape).astype("float32")


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 2), (3, 1)])
def test_conv2d_backward_matches_autodiff(stride, padding):
    x, w, b = random(2, 9, 8, 3), random(3, 3, 3, 4), random(4)
    y, cache = backprop.conv2d_forward(x, w, b, stride=stride, padding=padding)
    dy = random(*y.shape)
    dx, dw, db = backprop.conv2d_backward(dy, cache)

    def loss(x, w, b):
        padded = ops.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        out = ops.conv(padded, w, strides=stride, padding="valid") + b
        return out * dy

    expected = gradients(loss, [x, w, b])
    reference_y = ops.convert_to_numpy(
        ops.conv(ops.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0))), w,
                 strides=stride, padding="valid") + b)
    np.testing.assert_allclose(y, reference_y, atol=1e-4, rtol=1e-4)
    for mine, theirs in zip((dx, dw, db), expected):
        np.testing.assert_allclose(mine, theirs, atol=1e-4, rtol=1e-4)


def test_conv2d_backward_without_bias_returns_two_gradients():
    _, cache = backprop.conv2d_forward(random(1, 5, 5, 1), random(3, 3, 1, 2))
    assert len(backprop.conv2d_backward(random(1, 3, 3, 2), cache)) == 2


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 2), (2, 1)])
def test_maxpool_backward_routes_through_the_switches(size, stride):
    x = RNG.permutation(2 * 8 * 8 * 3).reshape(2, 8, 8, 3).astype("float32")  # no ties
    y, cache = backprop.maxpool2d_forward(x, size, stride)
    dy = random(*y.shape)
    dx = backprop.maxpool2d_backward(dy, cache)
    pooled = ops.convert_to_numpy(ops.max_pool(x, size, stride, padding="valid"))
    np.testing.assert_allclose(y, pooled)
    expected = gradients(lambda x: ops.max_pool(x, size, stride, padding="valid") * dy, [x])[0]
    np.testing.assert_allclose(dx, expected, atol=1e-4)


@pytest.mark.parametrize("size, stride", [(2, 2), (3, 1)])
def test_avgpool_backward_matches_autodiff(size, stride):
    x = random(2, 7, 7, 2)
    y, cache = backprop.avgpool2d_forward(x, size, stride)
    dy = random(*y.shape)
    dx = backprop.avgpool2d_backward(dy, cache)
    expected = gradients(lambda x: ops.average_pool(x, size, stride, padding="valid") * dy,
                         [x])[0]
    np.testing.assert_allclose(dx, expected, atol=1e-4, rtol=1e-4)


def test_1d_input_gradient_is_full_convolution_with_the_kernel():
    a, k = random(10).astype(float), random(3).astype(float)
    dt = random(8).astype(float)
    da = backprop.corr1d_input_gradient(dt, k)
    np.testing.assert_allclose(da, np.convolve(dt, k, mode="full"))
    # numerically: L = Σ t·dt, perturb each a[m]
    epsilon = 1e-6
    numeric = [(np.dot(backprop.corr1d(a + epsilon * np.eye(10)[m], k), dt)
                - np.dot(backprop.corr1d(a - epsilon * np.eye(10)[m], k), dt)) / (2 * epsilon)
               for m in range(10)]
    np.testing.assert_allclose(da, numeric, atol=1e-6)
    np.testing.assert_allclose(backprop.corr1d_kernel_gradient(a, dt),
                               [np.dot(a[j:j + 8], dt) for j in range(3)])


def test_conv2d_forward_refuses_mismatched_channels():
    with pytest.raises(ValueError, match="matching C"):
        backprop.conv2d_forward(random(1, 5, 5, 3), random(3, 3, 2, 4))


@pytest.mark.parametrize("forward", [backprop.maxpool2d_forward, backprop.avgpool2d_forward])
def test_a_pooling_stride_of_zero_is_refused_not_read_as_the_default(forward):
    with pytest.raises(ValueError, match="size and stride are at least 1; received 2, 0"):
        forward(np.ones((1, 4, 4, 1)), 2, 0)


def test_a_kernel_longer_than_the_signal_is_refused_not_swapped():
    """np.correlate swaps its arguments in 'valid' mode: [1, 1] by [1, 1, 1] gave [2, 2]."""
    with pytest.raises(ValueError, match=r"kernel \(3\) is longer than the signal \(2\)"):
        backprop.corr1d(np.ones(2), np.ones(3))
