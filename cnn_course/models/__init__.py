"""Model builders. Every model takes raw uint8 images as `cnn_course.data.load` returns them:
rescaling (and the channel axis for MNIST) live inside the model, so a saved `.keras` file is
usable on raw data with no preprocessing code."""

from __future__ import annotations

from collections.abc import Callable

import keras

from cnn_course.models.cifar10 import cifar10_base_net, cifar10_separable_net
from cnn_course.models.inputs import raw_image_input
from cnn_course.models.mnist import mnist_net, mnist_net_tiny, quickstart_net

BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "quickstart_net": quickstart_net,
    "mnist_net": mnist_net,
    "mnist_net_tiny": mnist_net_tiny,
    "cifar10_base_net": cifar10_base_net,
    "cifar10_separable_net": cifar10_separable_net,
}


def build(name: str, **kwargs) -> keras.Model:
    """Builds a model by name (what notebooks' `model_variant` parameter holds)."""
    if name not in BUILDERS:
        raise ValueError(f"Unknown model name: {name!r}. Expected one of {sorted(BUILDERS)}.")
    return BUILDERS[name](**kwargs)


__all__ = ["BUILDERS", "build", "cifar10_base_net", "cifar10_separable_net", "mnist_net",
           "mnist_net_tiny",
           "quickstart_net", "raw_image_input"]
