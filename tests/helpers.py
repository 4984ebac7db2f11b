"""Small synthetic models and data for fast tests."""

from __future__ import annotations

import keras
import numpy as np

from cnn_course import data
from cnn_course.models import training
from cnn_course import environment
from cnn_course.runs import training_log


def float32_tolerance() -> float:
    """An absolute tolerance for float32 products of values near 1, as this device computes
    them: 1e-5 on a CPU; on a GPU, JAX and TensorFlow multiply float32 in TF32 by default
    (10-bit mantissas: the lent H200 put a deformable convolution 9e-4 from `keras.ops.conv`)."""
    return 1e-5 if environment.device_name().startswith("cpu") else 2e-3


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


class InterruptAt(keras.callbacks.Callback):
    """Raises in the middle of a given epoch (0-based), like a killed process."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch
        self.current = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 1:
            raise KeyboardInterrupt("simulated interruption")


def tiny_split(count: int = 64, validation: int = 16) -> data.Split:
    """The tiny images as a run's data: all of them to train, the first `validation` to
    validate (a synthetic "sample")."""
    x, y = tiny_images(count)
    return data.Split((x, y), (x[:validation], y[:validation]), dataset="synthetic", sample=True)


def fit_tiny_run(tmp_path, epochs=3, seed=0, callbacks=(), model=None, recipe=None,
                 run_name="tiny-run", overwrite=False):
    """A logged run `tiny-run` of the tiny model under `tmp_path` (3 epochs of 4 steps), as a
    notebook makes one: `LoggedRun` on a plain `model.fit`."""
    environment.set_seed(seed)
    model = model or tiny_model()
    split = tiny_split()
    (x, y), validation_pair = split
    run = training_log.LoggedRun(run_name, split, {"batch_size": 16} if recipe is None else recipe,
                                 tmp_path, overwrite=overwrite)
    try:
        return model, model.fit(x, y, batch_size=16, epochs=epochs, validation_data=validation_pair,
                                callbacks=[run, *callbacks], verbose=0, shuffle=False)
    finally:
        run.release()
