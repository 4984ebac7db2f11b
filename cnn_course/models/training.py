"""Training plumbing shared by the notebooks: per-epoch batches and compile settings.

`EpochBatches` reproduces the course's Keras 1 generator: every epoch is `floor(N / batch)`
full batches of a fresh permutation (CIFAR-10: floor(50000/128) = 390 steps). Keras 3's
`fit(x, y, steps_per_epoch=...)` on arrays does not do this: it runs out of data after the
first pass and warns.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def current_learning_rate(model: keras.Model) -> float | None:
    """The optimizer's learning rate now (schedules evaluated at the current step)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class EpochBatches(keras.utils.PyDataset):
    """Shuffled full batches of `(x, y)`, reshuffled at every epoch end, remainder dropped."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if len(x) != len(y):
            raise ValueError(
                f"x and y must hold the same number of examples; received len(x)={len(x)}, "
                f"len(y)={len(y)}"
            )
        if not 0 < batch_size <= len(x):
            raise ValueError(
                f"batch_size must be between 1 and the number of examples ({len(x)}); "
                f"received batch_size={batch_size}"
            )
        self.x, self.y, self.batch_size = x, y, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def __getitem__(self, index: int):
        chosen = np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])
        return self.x[chosen], self.y[chosen]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))


def backend_jit_compile(jit_compile: bool | None = None) -> bool:
    """`jit_compile` on the backend's terms; None means the backend's fast path, measured:
    JAX compiles every step with XLA (its eager mode is for debugging), TensorFlow and torch
    run without XLA (with depthwise convolutions XLA is about 20x slower on CPU,
    tensorflow#59772; measure it on a GPU with `-p jit_compile True`)."""
    if jit_compile is not None:
        return bool(jit_compile)
    return keras.backend.backend() == "jax"


def speed_settings(model: keras.Model) -> dict:
    """What decides a compiled model's speed, as every run's summary records it: the dtype
    policy (`precision`), steps per compiled call and XLA."""
    return {
        "precision": model.dtype_policy.name,
        "steps_per_execution": int(getattr(model, "steps_per_execution", 1) or 1),
        "jit_compile": bool(model.jit_compile),
    }


@keras.saving.register_keras_serializable(package="cnn_course")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing: the target puts
    `1 - label_smoothing` on the true class and spreads `label_smoothing` evenly over all
    classes. Keras' `SparseCategoricalCrossentropy` has no label smoothing, and the course's
    labels stay integers (N, 1) as `keras.datasets` returns them."""

    def __init__(self, label_smoothing: float = 0.1,
                 name: str = "smoothed_sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0 <= label_smoothing < 1:
            raise ValueError(
                f"label_smoothing must be in [0, 1); received label_smoothing={label_smoothing}"
            )
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        return keras.losses.categorical_crossentropy(
            ops.one_hot(labels, classes, dtype=y_pred.dtype), y_pred,
            label_smoothing=self.label_smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def classifier_loss(label_smoothing: float = 0.0) -> keras.losses.Loss | str:
    """The course's loss for integer labels 0-9: sparse categorical cross-entropy (the same
    loss as categorical cross-entropy on one-hot labels), smoothed when asked."""
    if label_smoothing:
        return SmoothedSparseCategoricalCrossentropy(label_smoothing)
    return "sparse_categorical_crossentropy"


def compile_classifier(model: keras.Model,
                       optimizer: keras.optimizers.Optimizer | str | None = None,
                       label_smoothing: float = 0.0, **kwargs):
    """Compiles for integer labels 0-9: `classifier_loss(label_smoothing)` and accuracy.

    `optimizer=None` compiles a loaded model only to `evaluate` it (no step is ever taken)."""
    kwargs.setdefault("jit_compile", backend_jit_compile(None))
    model.compile(
        optimizer=optimizer if optimizer is not None else "sgd",
        loss=classifier_loss(label_smoothing),
        metrics=["accuracy"],
        **kwargs,
    )
    return model
