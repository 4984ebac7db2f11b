"""Pooling, as the CENG 403 lecture teaches it, in NumPy: max, average and L2 pooling over
windows, what "translation invariance" means for them (and where it stops), and what global
average pooling saves over Flatten + Dense.

    pool2d(image, size=2, stride=2, kind="max")      # kind: "max", "average" or "l2"
    shifted_edge_example()                            # the lecture's edge, moved by one pixel
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_course.concepts.arithmetic import conv_output_size

POOLING_KINDS = ("max", "average", "l2")


def pool2d(image: np.ndarray, size: int = 2, stride: int | None = None,
           kind: str = "max") -> np.ndarray:
    """Pools a 2-D array over `size` x `size` windows ('valid', stride defaults to `size`, as
    Keras' pooling layers).

    max: the largest value (the strongest response anywhere in the window);
    average: the mean (every position counts);
    l2: sqrt(sum of squares), a soft maximum between the two (Boureau et al. 2010).
    """
    if kind not in POOLING_KINDS:
        raise ValueError(f"Unknown pooling kind {kind!r}: expected one of {POOLING_KINDS}.")
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"pool2d takes a 2-D array; received shape {image.shape}")
    stride = size if stride is None else stride
    rows = conv_output_size(image.shape[0], size, stride, "valid")
    columns = conv_output_size(image.shape[1], size, stride, "valid")
    if rows < 1 or columns < 1:
        raise ValueError(
            f"A {size}x{size} window does not fit in an image of shape {image.shape}."
        )
    reduce = {"max": np.max, "average": np.mean,
              "l2": lambda window: np.sqrt(np.sum(np.square(window)))}[kind]
    pooled = np.zeros((rows, columns))
    for i in range(rows):
        for j in range(columns):
            pooled[i, j] = reduce(image[i * stride:i * stride + size, j * stride:j * stride + size])
    return pooled


def vertical_edge_image(width: int = 8, height: int = 4, edge_at: int = 3) -> np.ndarray:
    """Dark (0) left of column `edge_at`, bright (1) from it on."""
    image = np.zeros((height, width))
    image[:, edge_at:] = 1.0
    return image


def edge_response(image: np.ndarray) -> np.ndarray:
    """The response of a [-1, 1] horizontal difference filter ('valid', cross-correlation):
    1 where the image steps from dark to bright, 0 elsewhere."""
    return image[:, 1:] - image[:, :-1]


@dataclass(frozen=True)
class ShiftExample:
    """An edge, the same edge moved by `shift` pixels, and their pooled edge responses."""

    image: np.ndarray
    shifted: np.ndarray
    pooled: np.ndarray
    pooled_shifted: np.ndarray

    @property
    def invariant(self) -> bool:
        return bool(np.array_equal(self.pooled, self.pooled_shifted))


def shifted_edge_example(edge_at: int = 3, shift: int = 1, size: int = 2,
                         kind: str = "max") -> ShiftExample:
    """The lecture's example: detect a vertical edge, max-pool the response, then move the
    edge by `shift` pixels. When the edge stays inside one pooling window the pooled map is
    unchanged (invariance); when it crosses into the next window the map moves too, by one
    pooled pixel: pooling buys invariance to small shifts only, and only at some positions."""
    image = vertical_edge_image(edge_at=edge_at)
    shifted = vertical_edge_image(edge_at=edge_at + shift)
    return ShiftExample(image, shifted,
                        pool2d(edge_response(image), size, kind=kind),
                        pool2d(edge_response(shifted), size, kind=kind))


def flatten_dense_params(height: int, width: int, channels: int, units: int) -> int:
    """Flatten then Dense: every position of every channel gets its own weight per unit."""
    return height * width * channels * units + units


def global_average_dense_params(channels: int, units: int) -> int:
    """Global average pooling then Dense: one weight per channel per unit, whatever the size."""
    return channels * units + units
