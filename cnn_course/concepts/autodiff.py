"""Gradients of a function of NumPy arrays on the active Keras backend (TF, JAX or torch).

Keras 3 has no backend-agnostic autodiff call; the course needs one to check from-scratch
backward passes and to measure effective receptive fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np


def gradients(function: Callable, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """d(sum(function(*arrays))) / d(array) for each array, as NumPy arrays."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(array) for array in arrays]
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            total = tf.reduce_sum(function(*tensors))
        return [gradient.numpy() for gradient in tape.gradient(total, tensors)]
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def total(*values):
            return jnp.sum(function(*values))

        grads = jax.grad(total, argnums=tuple(range(len(arrays))))(
            *[jnp.asarray(array) for array in arrays])
        return [np.asarray(gradient) for gradient in grads]
    if backend == "torch":
        import torch

        tensors = [torch.tensor(np.asarray(array), requires_grad=True) for array in arrays]
        function(*tensors).sum().backward()
        return [tensor.grad.detach().cpu().numpy() for tensor in tensors]
    raise NotImplementedError(f"gradients() does not support the {backend!r} backend")


def input_gradient(function: Callable, inputs: np.ndarray) -> np.ndarray:
    """d(sum(function(inputs))) / d(inputs)."""
    return gradients(function, [inputs])[0]
