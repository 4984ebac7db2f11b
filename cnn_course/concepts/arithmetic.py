"""Convolution arithmetic from the lectures, in plain NumPy: what a conv layer computes, how
big its output is, what it costs.

All functions use cross-correlation (what deep-learning libraries call convolution): the
kernel slides over the input without being flipped. Arrays are (H, W) unless stated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def as_pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """(h, w) from an int or a pair, with an error naming the argument."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair (h, w); received {name}={value}")
    return int(value[0]), int(value[1])


def corr2d(x: np.ndarray, k: np.ndarray, stride: int | Sequence[int] = 1,
           padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1) -> np.ndarray:
    """2-D cross-correlation of `x` with kernel `k`, zero padding on both sides.

    >>> corr2d(np.arange(9).reshape(3, 3), np.array([[0, 1], [2, 3]]))
    array([[19., 25.],
           [37., 43.]])
    """
    x, k = np.asarray(x, dtype=float), np.asarray(k, dtype=float)
    if x.ndim != 2 or k.ndim != 2:
        raise ValueError(f"corr2d expects 2-D x and k; received shapes {x.shape} and {k.shape}")
    (sh, sw), (ph, pw), (dh, dw) = (as_pair(stride, "stride"), as_pair(padding, "padding"),
                                    as_pair(dilation, "dilation"))
    x = np.pad(x, ((ph, ph), (pw, pw)))
    kh, kw = (k.shape[0] - 1) * dh + 1, (k.shape[1] - 1) * dw + 1
    out_h, out_w = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"Kernel of extent {(kh, kw)} does not fit in the padded input {x.shape}."
        )
    y = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[i * sh:i * sh + kh:dh, j * sw:j * sw + kw:dw]
            y[i, j] = (window * k).sum()
    return y


def corr2d_multi_in(x: np.ndarray, k: np.ndarray, **kwargs) -> np.ndarray:
    """Multi-channel input x (C, H, W), kernel k (C, kh, kw): one output channel, the sum of
    the per-channel cross-correlations."""
    x, k = np.asarray(x), np.asarray(k)
    if x.shape[0] != k.shape[0]:
        raise ValueError(
            f"x has {x.shape[0]} channels but k has {k.shape[0]}; they must match."
        )
    return sum(corr2d(channel, kernel, **kwargs) for channel, kernel in zip(x, k))


def corr2d_multi_in_out(x: np.ndarray, k: np.ndarray, **kwargs) -> np.ndarray:
    """x (C, H, W), k (C_out, C, kh, kw) → (C_out, H', W'): one multi-input conv per output."""
    return np.stack([corr2d_multi_in(x, kernel, **kwargs) for kernel in np.asarray(k)])


def conv_output_size(n: int, k: int, stride: int = 1,
                     padding: int | tuple[int, int] | str = 0, dilation: int = 1) -> int:
    """⌊(n + p_L + p_R − d(k − 1) − 1) / s⌋ + 1, the output size of a conv or pooling layer.

    `padding` is p on both sides, (p_L, p_R), "valid" (0) or "same" (Keras: ⌈n / s⌉). The one
    place this formula lives: the receptive-field engine and the custom layers ask it.
    """
    if min(k, stride, dilation) < 1:
        raise ValueError(f"k, stride and dilation are at least 1; received {k}, {stride}, "
                         f"{dilation}.")
    if padding == "same":
        return -(-n // stride)
    left, right = (0, 0) if padding == "valid" else as_pair(padding, "padding")
    size = (n + left + right - dilation * (k - 1) - 1) // stride + 1
    if size < 1:
        raise ValueError(f"A window of {k} (dilation {dilation}) does not fit in a size of {n} "
                         f"padded by {left} and {right}: the output would be {size} wide. Pad "
                         f"more, or use a smaller window.")
    return size


def transposed_output_size(n: int, k: int, stride: int = 1, padding: int = 0,
                           output_padding: int = 0) -> int:
    """(n − 1)·s + k − 2p + output_padding: the inverse of `conv_output_size`'s shape map."""
    if min(k, stride) < 1:
        raise ValueError(f"k and stride are at least 1; received {k}, {stride}.")
    size = (n - 1) * stride + k - 2 * padding + output_padding
    if size < 1:
        raise ValueError(f"Padding {padding} crops more than a transposed conv of {n} by a "
                         f"window of {k} makes: the output would be {size} wide.")
    return size


def layers_to_reach(n: int, k: int, target: int, stride: int = 1, padding: int = 0) -> int:
    """How many identical conv layers shrink size `n` to `target` (e.g. 224 → 4 with 5x5)."""
    count = 0
    while n > target:
        n, before = conv_output_size(n, k, stride, padding), n
        if n >= before:
            raise ValueError(f"A {k}x{k} conv with stride {stride} and padding {padding} keeps "
                             f"size {before} at {n}: it never shrinks to {target}.")
        count += 1
    return count


def conv_params(c_in: int, c_out: int, k: int | Sequence[int], bias: bool = True,
                groups: int = 1) -> int:
    """Weights of a (grouped) conv layer: k_h·k_w·(c_in/groups)·c_out (+ c_out biases)."""
    kh, kw = _kernel(k)
    return kh * kw * _per_group(c_in, c_out, groups) * c_out + (c_out if bias else 0)


def _kernel(k: int | Sequence[int]) -> tuple[int, int]:
    """(k_h, k_w), each at least 1."""
    kh, kw = as_pair(k, "k")
    if min(kh, kw) < 1:
        raise ValueError(f"A kernel is at least 1x1; received k={k}.")
    return kh, kw


def _per_group(c_in: int, c_out: int, groups: int) -> int:
    """c_in / groups, the input channels each filter sees, for counts that exist (as Keras'
    Conv2D refuses channels the groups do not divide)."""
    if min(c_in, c_out, groups) < 1 or c_in % groups or c_out % groups:
        raise ValueError(f"Channels and groups are whole numbers of at least 1, and groups "
                         f"divides both channel counts; received c_in={c_in}, c_out={c_out}, "
                         f"groups={groups}.")
    return c_in // groups


def depthwise_separable_params(c_in: int, c_out: int, k: int | Sequence[int],
                               bias: bool = False) -> int:
    """A k x k depthwise conv (one filter per input channel) then a 1x1 pointwise conv."""
    kh, kw = _kernel(k)
    return kh * kw * c_in + c_in * c_out + (c_out if bias else 0)


def conv_macs(output_hw: int | Sequence[int], k: int | Sequence[int], c_in: int, c_out: int,
              groups: int = 1) -> int:
    """Multiply-accumulates of one conv layer: H_out·W_out·k_h·k_w·(c_in/groups)·c_out.
    One MAC is a multiply and an add, so FLOPs ≈ 2 × MACs (see `conv_flops`).

    Sizes of any rank: `output_hw` and `k` are an int (square, 2-D) or one size per spatial
    axis (1-D, 3-D). The one MAC formula: the layer registry's counts ask it.
    """
    sizes = as_pair(output_hw, "output_hw") if isinstance(output_hw, (int, np.integer)) else (
        tuple(output_hw))
    kernel = (int(k),) * len(sizes) if isinstance(k, (int, np.integer)) else tuple(k)
    if min(*sizes, *kernel) < 1:
        raise ValueError(f"Output and kernel sizes are at least 1; received output_hw="
                         f"{output_hw}, k={k}.")
    return math.prod(sizes) * math.prod(kernel) * _per_group(c_in, c_out, groups) * c_out


def conv_flops(output_hw: int | Sequence[int], k: int | Sequence[int], c_in: int, c_out: int,
               groups: int = 1) -> int:
    """Floating-point operations: 2 per MAC (papers often say "FLOPs" for MACs: check)."""
    return 2 * conv_macs(output_hw, k, c_in, c_out, groups)


def rank_one_factors(kernel: np.ndarray, tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """(column, row) with `np.outer(column, row) == kernel`, if the kernel is separable.

    A separable k x k kernel costs 2k multiplications per pixel instead of k²; its factors
    come from the SVD. The column is scaled so its first non-zero entry is positive and its
    entries are as small integers as the kernel allows (Sobel: [1, 2, 1] and [-1, 0, 1]).
    """
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 2:
        raise ValueError(f"rank_one_factors takes a 2-D kernel; received shape {kernel.shape}.")
    u, s, vt = np.linalg.svd(kernel)
    if s.size > 1 and s[1] > tolerance * max(s[0], 1.0):
        raise ValueError(
            f"The kernel has rank {int((s > tolerance * s[0]).sum())}, not 1: it is not "
            f"separable into a column times a row."
        )
    column, row = u[:, 0] * s[0], vt[0]
    nonzero = column[np.abs(column) > tolerance]
    scale = nonzero[np.argmin(np.abs(nonzero))]  # smallest entry becomes ±1
    return column / scale + 0.0, row * scale + 0.0  # + 0.0 turns -0.0 into 0.0


def macs_to_gflops(macs: int) -> float:
    """GFLOPs of a MAC count (2 FLOPs per MAC)."""
    return 2 * macs / 1e9


# Hand-made kernels from the lecture, applied with `corr2d`.
CLASSIC_KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
    "vertical edge (Sobel x)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
    "horizontal edge (Sobel y)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float) / 16,
}


def grayscale(image: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601) of an RGB image in [0, 1]; a 2-D image is only rescaled."""
    image = np.asarray(image, float)
    image = image / 255.0 if image.max() > 1 else image
    if image.ndim == 2:
        return image
    return image[..., :3] @ np.array([0.299, 0.587, 0.114])


def transposed_overlap_counts(size: int, kernel: int, stride: int) -> np.ndarray:
    """How many input positions write to each output pixel of a transposed conv ('valid'):
    with kernel 3 and stride 2 the counts alternate 1, 2, 1, 2 along each axis, which is the
    checkerboard artifact (Odena et al. 2016); kernel 4, stride 2 overlaps evenly."""
    out = transposed_output_size(size, kernel, stride)
    counts = np.zeros((out, out), int)
    for i in range(size):
        for j in range(size):
            counts[i * stride:i * stride + kernel, j * stride:j * stride + kernel] += 1
    return counts
