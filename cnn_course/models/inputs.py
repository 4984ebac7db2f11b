"""The input block shared by every builder: uint8 pixels in, floats in [0, 1] out."""

from __future__ import annotations

import keras
from keras import layers


def raw_image_input(
    image_shape: tuple[int, ...],
    name: str = "image",
    augmentation: keras.layers.Layer | None = None,
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Returns `(inputs, x)`: a uint8 `Input` of `image_shape` and the rescaled float tensor.

    A 2-D `image_shape` (MNIST's (28, 28)) gets a channel axis, so models accept the arrays of
    `keras.datasets.mnist.load_data()` unchanged. `augmentation` (preprocessing layers, active
    only in training) is applied to the rescaled images, so a saved model needs no pipeline.
    """
    if len(image_shape) not in (2, 3):
        raise ValueError(
            f"Expected image_shape (height, width) or (height, width, channels), "
            f"received: image_shape={image_shape}"
        )
    inputs = keras.Input(shape=image_shape, dtype="uint8", name=name)
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    if len(image_shape) == 2:
        x = layers.Reshape((*image_shape, 1), name="add_channel")(x)
    if augmentation is not None:
        x = augmentation(x)
    return inputs, x
