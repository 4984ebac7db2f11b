"""Backpropagation through convolution and pooling, from scratch in NumPy (NHWC).

Each `*_forward` returns `(y, cache)`; the matching `*_backward(dy, cache)` returns the
gradients of the loss with respect to the forward's inputs. The tests check every backward
against Keras autodiff; `corr1d_input_gradient` is the lecture's 1-D derivation: the gradient
with respect to the input is the *full* convolution of the upstream gradient with the kernel
(a cross-correlation with the flipped kernel).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """(N, H', W', C, kh, kw) view of the kh x kw windows of x at the given stride."""
    return sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: int = 1, padding: int = 0):
    """x (N, H, W, C), w (kh, kw, C, F), optional b (F,) → y (N, H', W', F), cache."""
    if x.ndim != 4 or w.ndim != 4 or x.shape[-1] != w.shape[2]:
        raise ValueError(
            f"Expected x (N, H, W, C) and w (kh, kw, C, F) with matching C; received "
            f"x {x.shape}, w {w.shape}"
        )
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    windows = _windows(padded, w.shape[0], w.shape[1], stride)
    y = np.einsum("nhwcij,ijcf->nhwf", windows, w)
    if b is not None:
        y = y + b
    return y, (x, w, b, stride, padding)


def conv2d_backward(dy: np.ndarray, cache):
    """Gradients (dx, dw) — and db when the forward had a bias — of a conv layer.

    dw correlates the input windows with dy; dx scatters dy back through every kernel tap
    (the transposed convolution of dy with w).
    """
    x, w, b, stride, padding = cache
    kh, kw = w.shape[:2]
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    windows = _windows(padded, kh, kw, stride)
    dw = np.einsum("nhwcij,nhwf->ijcf", windows, dy)
    d_padded = np.zeros_like(padded, dtype=np.result_type(dy, w))
    out_h, out_w = dy.shape[1:3]
    for i in range(kh):
        for j in range(kw):
            d_padded[:, i:i + stride * out_h:stride, j:j + stride * out_w:stride, :] += \
                np.einsum("nhwf,cf->nhwc", dy, w[i, j])
    dx = d_padded[:, padding:padding + x.shape[1], padding:padding + x.shape[2], :]
    if b is None:
        return dx, dw
    return dx, dw, dy.sum(axis=(0, 1, 2))


def _pool_stride(size: int, stride: int | None) -> int:
    """The stride (default: the window's size), both at least 1."""
    stride = size if stride is None else stride
    if min(size, stride) < 1:
        raise ValueError(f"size and stride are at least 1; received {size}, {stride}.")
    return stride


def maxpool2d_forward(x: np.ndarray, size: int = 2, stride: int | None = None):
    """Max pooling; the cache keeps the argmax "switches" that route the gradient back."""
    stride = _pool_stride(size, stride)
    windows = _windows(x, size, size, stride)
    flat = windows.reshape(*windows.shape[:4], size * size)
    switches = flat.argmax(axis=-1)
    y = np.take_along_axis(flat, switches[..., None], axis=-1)[..., 0]
    return y, (x.shape, switches, size, stride)


def maxpool2d_backward(dy: np.ndarray, cache) -> np.ndarray:
    """Each upstream gradient goes to the one input that was the maximum of its window."""
    shape, switches, size, stride = cache
    n, out_h, out_w, c = dy.shape
    dx = np.zeros(shape, dtype=dy.dtype)
    batch, row, col, channel = np.indices((n, out_h, out_w, c))
    rows = row * stride + switches // size
    cols = col * stride + switches % size
    np.add.at(dx, (batch, rows, cols, channel), dy)
    return dx


def avgpool2d_forward(x: np.ndarray, size: int = 2, stride: int | None = None):
    """Average pooling."""
    stride = _pool_stride(size, stride)
    y = _windows(x, size, size, stride).mean(axis=(-1, -2))
    return y, (x.shape, size, stride)


def avgpool2d_backward(dy: np.ndarray, cache) -> np.ndarray:
    """Each upstream gradient is shared equally by the size² inputs of its window."""
    shape, size, stride = cache
    dx = np.zeros(shape, dtype=dy.dtype)
    out_h, out_w = dy.shape[1:3]
    for i in range(size):
        for j in range(size):
            dx[:, i:i + stride * out_h:stride, j:j + stride * out_w:stride, :] += dy / size**2
    return dx


def corr1d(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """'valid' 1-D cross-correlation: t[i] = Σ_j a[i + j]·k[j]."""
    if len(k) > len(a):  # np.correlate would swap them and answer
        raise ValueError(f"The kernel ({len(k)}) is longer than the signal ({len(a)}): a "
                         f"'valid' correlation has no output.")
    return np.correlate(np.asarray(a, float), np.asarray(k, float), mode="valid")


def corr1d_input_gradient(dt: np.ndarray, k: np.ndarray) -> np.ndarray:
    """∂L/∂a for t = corr1d(a, k): the full convolution of ∂L/∂t with k, i.e. the
    cross-correlation of the zero-padded ∂L/∂t with the flipped kernel."""
    k = np.asarray(k, float)
    padded = np.pad(np.asarray(dt, float), (len(k) - 1, len(k) - 1))
    return np.correlate(padded, k[::-1], mode="valid")


def corr1d_kernel_gradient(a: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """∂L/∂k for t = corr1d(a, k): the cross-correlation of the input with ∂L/∂t."""
    return corr1d(a, dt)
