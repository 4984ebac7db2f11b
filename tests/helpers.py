"""Small synthetic models and data for fast tests."""

from __future__ import annotations

import keras
import numpy as np

from cnn_course import training


def tiny_images(count: int = 64, size: int = 8, seed: int = 0):
    """uint8 images whose class (0/1) is which half is brighter: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count).astype(np.uint8)
    images = rng.integers(0, 60, (count, size, size)).astype(np.uint8)
    for index, label in enumerate(labels):
        if label:
            images[index, :, size // 2:] += 150
        else:
            images[index, :, : size // 2] += 150
    return images, labels


def tiny_model(size: int = 8) -> keras.Model:
    inputs = keras.Input((size, size), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Reshape((size, size, 1))(x)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    return training.compile_classifier(model, keras.optimizers.Adam(0.05))
