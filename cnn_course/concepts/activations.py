"""The lecture's activation functions and their derivatives (computed by autodiff)."""

from __future__ import annotations

import keras
import numpy as np

from cnn_course.concepts.autodiff import input_gradient

PRELU_SLOPE = 0.25  # PReLU's learned slope, at Keras' usual starting value


def _prelu(x):
    return keras.ops.where(x > 0, x, PRELU_SLOPE * x)


ACTIVATIONS = {
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
    "ReLU": keras.activations.relu,
    "LeakyReLU (0.1)": lambda x: keras.activations.leaky_relu(x, negative_slope=0.1),
    "PReLU (a=0.25)": _prelu,
    "ELU": keras.activations.elu,
    "SELU": keras.activations.selu,
    "Swish": keras.activations.silu,
}


def activation_curves(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name → (f(x), f'(x)) for every activation in `ACTIVATIONS`."""
    x = np.asarray(x, dtype="float32")
    curves = {}
    for name, function in ACTIVATIONS.items():
        values = keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(x)))
        curves[name] = (values, input_gradient(function, x))
    return curves
