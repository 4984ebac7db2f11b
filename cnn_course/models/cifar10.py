"""CIFAR-10 networks: the course's base network (a faithful Keras 3 port) and the student's
depthwise-separable-only network."""

from __future__ import annotations

import keras
from keras import layers

from cnn_course.models.inputs import raw_image_input


def cifar10_base_net(num_classes: int = 10) -> keras.Model:
    """The course notebook's network, ported from Keras 1 (1,172,410 parameters).

    Keras 1's `Convolution2D(48, 3, 3)` is a 3x3 kernel with stride 1; in Keras 3 the third
    positional argument would be the stride, so kernel sizes are written as tuples here.
    Each block: conv 'same' + ReLU, conv 'valid' + ReLU, max-pool 2, dropout 0.25.
    """
    inputs, x = raw_image_input((32, 32, 3))
    for block, filters in enumerate((48, 96, 192), start=1):
        x = layers.Conv2D(filters, (3, 3), padding="same", activation="relu",
                          name=f"block{block}_conv1")(x)
        x = layers.Conv2D(filters, (3, 3), activation="relu", name=f"block{block}_conv2")(x)
        x = layers.MaxPooling2D((2, 2), name=f"block{block}_pool")(x)
        x = layers.Dropout(0.25, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.5, name="fc1_dropout")(x)
    x = layers.Dense(256, activation="relu", name="fc2")(x)
    x = layers.Dropout(0.5, name="fc2_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="cifar10_base_net")
