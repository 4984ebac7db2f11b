"""Batch, layer, instance and group normalization by their formulas (NumPy, NHWC).

They differ only in which axes the mean and variance are taken over:
    batch     (N, H, W)   per channel, across the batch
    layer     (H, W, C)   per example
    instance  (H, W)      per example and channel
    group     (H, W, C/G) per example and group of channels
Each then scales by gamma and shifts by beta (per channel). The tests check them against
keras.layers.BatchNormalization (training mode), LayerNormalization and GroupNormalization.
"""

from __future__ import annotations

import numpy as np


def _images(x) -> np.ndarray:
    """`x` as a float batch of images (N, H, W, C), the layout the axes above assume."""
    x = np.asarray(x, float)
    if x.ndim != 4:
        raise ValueError(f"Expected a batch of images of shape (N, H, W, C); received shape "
                         f"{x.shape}. One image is `x[None]`.")
    return x


def _normalize(x: np.ndarray, axes: tuple[int, ...], epsilon: float) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon)


def _affine(y: np.ndarray, gamma, beta) -> np.ndarray:
    channels = y.shape[-1]
    gamma = np.ones(channels) if gamma is None else np.asarray(gamma)
    beta = np.zeros(channels) if beta is None else np.asarray(beta)
    return y * gamma + beta


def batch_norm(x, gamma=None, beta=None, epsilon: float = 1e-3) -> np.ndarray:
    """Statistics over (N, H, W): each channel normalised across the whole batch."""
    return _affine(_normalize(_images(x), (0, 1, 2), epsilon), gamma, beta)


def layer_norm(x, gamma=None, beta=None, epsilon: float = 1e-3) -> np.ndarray:
    """Statistics over (H, W, C): each example normalised on its own."""
    return _affine(_normalize(_images(x), (1, 2, 3), epsilon), gamma, beta)


def instance_norm(x, gamma=None, beta=None, epsilon: float = 1e-3) -> np.ndarray:
    """Statistics over (H, W): each channel of each example (style transfer's choice)."""
    return _affine(_normalize(_images(x), (1, 2), epsilon), gamma, beta)


def group_norm(x, groups: int, gamma=None, beta=None, epsilon: float = 1e-3) -> np.ndarray:
    """Statistics over (H, W, C/groups): groups=1 is layer norm, groups=C instance norm."""
    x = _images(x)
    n, h, w, c = x.shape
    if groups < 1 or c % groups:
        raise ValueError(f"groups={groups} must divide the {c} channels")
    grouped = x.reshape(n, h, w, groups, c // groups)
    y = _normalize(grouped, (1, 2, 4), epsilon).reshape(n, h, w, c)
    return _affine(y, gamma, beta)


def local_response_norm(x, depth: int = 5, k: float = 2.0, alpha: float = 1e-4,
                        beta: float = 0.75) -> np.ndarray:
    """Krizhevsky et al. (2012): b_c = a_c / (k + α Σ a_j²)^β over the `depth` channels
    centred on c (AlexNet: k=2, n=5, α=1e-4, β=0.75)."""
    if depth < 1 or depth % 2 == 0:
        raise ValueError(f"depth is an odd number of channels (a window centred on each); "
                         f"received {depth}.")
    x = np.asarray(x, float)
    half = depth // 2
    squared = np.pad(x**2, ((0, 0),) * (x.ndim - 1) + ((half, half),))
    sums = sum(squared[..., offset:offset + x.shape[-1]] for offset in range(depth))
    return x / (k + alpha * sums) ** beta
