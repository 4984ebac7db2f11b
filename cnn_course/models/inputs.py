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


def shape_refused(model: keras.Model, images) -> tuple | None:
    """The image shape the model takes, when `images` (N, ...) are not of it; else None (also
    for a model without declared inputs: nothing to compare)."""
    if not model.inputs:
        return None
    expected = tuple(model.inputs[0].shape[1:])
    received = tuple(images.shape[1:])
    if len(received) != len(expected) or any(
            want is not None and want != got for want, got in zip(expected, received)):
        return expected
    return None


def check_model_input(model: keras.Model, images, what: str = "x") -> None:
    """Refuses arrays a raw-uint8 model would silently misread or fail on obscurely.

    A uint8 `Input` casts whatever it is given to uint8: images already scaled to [0, 1]
    become all zeros and black. Arrays of the wrong shape fail deep inside the backend.
    Non-array inputs (datasets, generators) are not checked.
    """
    if not hasattr(images, "shape") or not hasattr(images, "dtype") or not model.inputs:
        return
    expected = shape_refused(model, images)
    if expected is not None:
        raise ValueError(
            f"Model {model.name!r} expects {what} of shape (N, {', '.join(map(str, expected))})"
            f"; received {what} of shape {tuple(images.shape)}. Pass the arrays as "
            f"`cnn_course.data.load` returns them (the model adds any channel axis itself)."
        )
    if model.inputs[0].dtype == "uint8" and str(images.dtype) != "uint8":
        import numpy as np

        values = np.asarray(images)
        if values.size and (values.min() < 0 or values.max() > 255 or
                            (values.max() <= 1.0 and not np.issubdtype(values.dtype,
                                                                      np.integer))):
            raise ValueError(
                f"Model {model.name!r} takes raw uint8 images (0-255) and rescales them "
                f"itself; received {what} of dtype {values.dtype} with values from "
                f"{values.min():.3g} to {values.max():.3g}. Pass the images unscaled, as "
                f"`cnn_course.data.load` returns them."
            )
