"""MNIST networks: the quick-start CNN and the assignment's <20k and <8k networks."""

from __future__ import annotations

import keras
from keras import layers

from cnn_course.models.inputs import raw_image_input


def quickstart_net(filters: int = 16, num_classes: int = 10) -> keras.Model:
    """A small CNN for the quick-start notebook (~10k parameters at the default width).

    Two 3x3 conv blocks, max-pooling, a 1x1 conv to `num_classes` channels and global
    average pooling: no Dense layer after Flatten, as the course recommends.
    """
    inputs, x = raw_image_input((28, 28))
    for index, width in enumerate((filters // 2, filters, filters), start=1):
        x = layers.Conv2D(width, 3, activation="relu", name=f"conv{index}")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(filters, 3, activation="relu", name="conv4")(x)
    x = layers.Conv2D(filters, 3, activation="relu", name="conv5")(x)
    x = layers.Conv2D(num_classes, 1, name="classifier")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    # float32 class scores under mixed precision
    outputs = layers.Activation("softmax", dtype="float32", name="softmax")(x)
    return keras.Model(inputs, outputs, name="quickstart_net")


def _conv_block(x, filters: int, kernel: int, dropout: float, name: str):
    """Conv (no bias: BatchNorm's beta replaces it) → BatchNorm → ReLU → Dropout."""
    x = layers.Conv2D(filters, kernel, use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def _mnist_assignment_net(
    name: str,
    block1: tuple[int, ...],
    transition: int,
    block2: tuple[int, ...],
    dropout: float,
    num_classes: int,
    augmentation: keras.layers.Layer | None,
) -> keras.Model:
    """The course's rules: 3x3 convs with BatchNorm and dropout, no biases; max-pooling
    early (RF 5 → 6 at 12x12), followed by a 1x1 "transition" that cuts channels; a second
    block of 3x3 convs; a 1x1 conv to `num_classes` channels and global average pooling
    instead of Flatten + Dense."""
    inputs, x = raw_image_input((28, 28), augmentation=augmentation)
    for index, filters in enumerate(block1, start=1):
        x = _conv_block(x, filters, 3, dropout, f"block1_{index}")
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = _conv_block(x, transition, 1, 0.0, "transition")
    for index, filters in enumerate(block2, start=1):
        x = _conv_block(x, filters, 3, dropout if index < len(block2) else 0.0,
                        f"block2_{index}")
    x = layers.Conv2D(num_classes, 1, use_bias=False, name="classifier")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    # float32 class scores under mixed precision
    outputs = layers.Activation("softmax", dtype="float32", name="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def mnist_net(
    block1: tuple[int, ...] = (16, 32),
    transition: int = 16,
    block2: tuple[int, ...] = (16, 16, 16, 16),
    dropout: float = 0.05,
    num_classes: int = 10,
    augmentation: keras.layers.Layer | None = None,
) -> keras.Model:
    """The assignment's network: fewer than 20,000 parameters, aiming at >= 99.5%."""
    return _mnist_assignment_net("mnist_net", block1, transition, block2, dropout,
                                 num_classes, augmentation)


def mnist_net_tiny(
    block1: tuple[int, ...] = (8, 16),
    transition: int = 8,
    block2: tuple[int, ...] = (12, 14, 14, 14),
    dropout: float = 0.03,
    num_classes: int = 10,
    augmentation: keras.layers.Layer | None = None,
) -> keras.Model:
    """The later cohorts' challenge: fewer than 8,000 parameters holding >= 99.4%."""
    return _mnist_assignment_net("mnist_net_tiny", block1, transition, block2, dropout,
                                 num_classes, augmentation)
