"""Small synthetic tasks the lectures use to make a point, with the models that show it."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from cnn_course.concepts.convolution_layers import CoordConv2D
from cnn_course.models.inputs import raw_image_input


def coordinate_regression_data(count: int, size: int = 16, seed: int = 0):
    """Images with one bright pixel; the target is that pixel's (row, column) in [0, 1]."""
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, size, count), rng.integers(0, size, count)
    images = np.zeros((count, size, size, 1), "float32")
    images[np.arange(count), rows, cols, 0] = 1.0
    targets = np.stack([rows, cols], axis=1).astype("float32") / (size - 1)
    return images, targets


def coordinate_regressor(coordconv: bool, size: int = 16, filters: int = 32) -> keras.Model:
    """1x1 convs, global max pooling, a dense layer to (row, column).

    A plain conv is translation equivariant and global pooling discards position, so for
    one-pixel images the pooled features, and the prediction, are the same wherever the pixel
    is: the best it can do is predict the mean. CoordConv's coordinate channels let a unit
    fire with a strength that depends on where it fires.
    """
    inputs = keras.Input((size, size, 1))
    conv = CoordConv2D if coordconv else layers.Conv2D
    x = conv(filters, 1, activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(filters, 1, activation="relu", name="conv2")(x)
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    outputs = layers.Dense(2, name="coordinates")(x)
    return keras.Model(inputs, outputs, name="coordconv" if coordconv else "plain_conv")


def bn_order_net(order: str, filters: int = 16) -> keras.Model:
    """A small MNIST conv net with BatchNorm placed before or after each ReLU.

    BN momentum 0.9 (Keras: 0.99): short runs on the sample take too few steps for 0.99
    moving averages to settle, and inference would use near-initial statistics.
    """
    if order not in ("before", "after"):
        raise ValueError(f"order must be 'before' or 'after'; received order={order!r}")
    inputs, x = raw_image_input((28, 28))
    for index, width in enumerate((filters, filters, filters * 2), start=1):
        x = layers.Conv2D(width, 3, use_bias=False, name=f"conv{index}")(x)
        if order == "before":
            x = layers.BatchNormalization(momentum=0.9, name=f"bn{index}")(x)
            x = layers.ReLU(name=f"relu{index}")(x)
        else:
            x = layers.ReLU(name=f"relu{index}")(x)
            x = layers.BatchNormalization(momentum=0.9, name=f"bn{index}")(x)
        if index == 2:
            x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2D(10, 1, name="classifier")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Activation("softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=f"bn_{order}_relu")
