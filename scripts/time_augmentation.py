"""Times one training step (batch 128, float32, after a warm-up) of a model of each
augmentation layer alone, and of the CIFAR-10 student with and without its augmentation, on
this backend and device (KERAS_BACKEND), and Keras' own RandomTranslation beside ours (Keras
marks it as not compilable, which turns XLA off for its model). docs/gpu.md quotes it:

    KERAS_BACKEND=jax python scripts/time_augmentation.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cnn_course import models  # noqa: E402
from cnn_course.models import recipes, training  # noqa: E402

IMAGES = np.random.default_rng(0).integers(0, 256, (128, 32, 32, 3)).astype("uint8")
LABELS = np.random.default_rng(1).integers(0, 10, (128,))


def milliseconds_per_step(model: keras.Model, steps: int) -> float:
    model.train_on_batch(IMAGES, LABELS)  # compiles
    start = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(IMAGES, LABELS)
    float(np.asarray(loss[0] if isinstance(loss, list) else loss))  # waits for the device
    return (time.perf_counter() - start) / steps * 1e3


def compiled(model: keras.Model) -> keras.Model:
    training.compile_classifier(model, keras.optimizers.SGD(0.01), steps_per_execution=1,
                                jit_compile=training.backend_jit_compile(None))
    return model


def main() -> None:
    augmentation = recipes.CIFAR10.augmentation()
    print(f"backend {keras.backend.backend()}, Keras {keras.__version__}")
    translation = next(layer for layer in augmentation.layers
                       if isinstance(layer, keras.layers.RandomTranslation))
    keras_translation = keras.layers.RandomTranslation.from_config(translation.get_config())
    for layer in [None, *augmentation.layers, keras_translation]:
        body = [] if layer is None else [layer]
        model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1.0),
                                  *body, keras.layers.GlobalAveragePooling2D(),
                                  keras.layers.Dense(10, activation="softmax")])
        name = "no layer" if layer is None else type(layer).__name__
        model = compiled(model)
        print(f"{name} alone: {milliseconds_per_step(model, 40):.1f} ms/step "
              f"(XLA {'on' if model.jit_compile else 'off'})", flush=True)
    for label, layers in (("without", None), ("with", augmentation)):
        model = compiled(models.cifar10_separable_net(augmentation=layers))
        print(f"cifar10_separable_net {label} its augmentation: "
              f"{milliseconds_per_step(model, 20):.1f} ms/step", flush=True)


if __name__ == "__main__":
    main()
