"""Model builders. Every model takes raw uint8 images as `cnn_course.data.load` returns them:
rescaling (and the channel axis for MNIST) live inside the model, so a saved `.keras` file is
usable on raw data with no preprocessing code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from cnn_course.models.all_cnn import all_cnn_c, convpool_cnn_c, model_c, strided_cnn_c
from cnn_course.models.cifar10 import (cifar10_base_net, cifar10_separable_net,
                                      lecture_cifar10_net)
from cnn_course.models.classic import (alexnet, densenet, googlenet, lenet, lenet_bn, nin,
                                      resnet18, vgg11)
from cnn_course.models.inputs import raw_image_input
from cnn_course.models.mnist import mnist_net, mnist_net_tiny, quickstart_net

@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its builder and the dataset it is built for (input, classes)."""

    builder: Callable[..., keras.Model]
    dataset: str


MODELS: dict[str, ModelSpec] = {
    "quickstart_net": ModelSpec(quickstart_net, "mnist"),
    "mnist_net": ModelSpec(mnist_net, "mnist"),
    "mnist_net_tiny": ModelSpec(mnist_net_tiny, "mnist"),
    "cifar10_base_net": ModelSpec(cifar10_base_net, "cifar10"),
    "cifar10_separable_net": ModelSpec(cifar10_separable_net, "cifar10"),
    "lecture_cifar10_net": ModelSpec(lecture_cifar10_net, "cifar10"),
    # The classic architectures as d2l builds them, on Fashion-MNIST (resized inside the model).
    "lenet": ModelSpec(lenet, "fashion_mnist"),
    "lenet_bn": ModelSpec(lenet_bn, "fashion_mnist"),
    "alexnet": ModelSpec(alexnet, "fashion_mnist"),
    "vgg11": ModelSpec(vgg11, "fashion_mnist"),
    "nin": ModelSpec(nin, "fashion_mnist"),
    "googlenet": ModelSpec(googlenet, "fashion_mnist"),
    "resnet18": ModelSpec(resnet18, "fashion_mnist"),
    "densenet": ModelSpec(densenet, "fashion_mnist"),
    # Springenberg et al. 2014, the C-models (Tables 1 and 2): pooling vs strided convolutions.
    "model_c": ModelSpec(model_c, "cifar10"),
    "strided_cnn_c": ModelSpec(strided_cnn_c, "cifar10"),
    "convpool_cnn_c": ModelSpec(convpool_cnn_c, "cifar10"),
    "all_cnn_c": ModelSpec(all_cnn_c, "cifar10"),
}


def _spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"Unknown model name: {name!r}. Expected one of {sorted(MODELS)}.")
    return MODELS[name]


def build(name: str, **kwargs) -> keras.Model:
    """Builds a model by name (what notebooks' `model_variant` parameter holds)."""
    return _spec(name).builder(**kwargs)


def sequential(input_shape: tuple[int, ...], *layers: keras.layers.Layer,
               name: str | None = None) -> keras.Model:
    """A Sequential model of `layers` on inputs of `input_shape` (the worked examples)."""
    return keras.Sequential([keras.Input(input_shape), *layers], name=name)


def dataset_of(name: str) -> str:
    """The dataset a named model is built for."""
    return _spec(name).dataset


__all__ = ["MODELS", "ModelSpec", "build", "dataset_of", "sequential", "raw_image_input",
           *MODELS]
