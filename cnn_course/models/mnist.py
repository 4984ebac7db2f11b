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
    outputs = layers.Activation("softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name="quickstart_net")
