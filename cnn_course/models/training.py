"""Training plumbing shared by the notebooks: per-epoch batches and compile settings.

`EpochBatches` reproduces the course's Keras 1 generator: every epoch is `floor(N / batch)`
full batches of a fresh permutation (CIFAR-10: floor(50000/128) = 390 steps). Keras 3's
`fit(x, y, steps_per_epoch=...)` on arrays does not do this: it runs out of data after the
first pass and warns.
"""

from __future__ import annotations

import keras
import numpy as np


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


def compile_classifier(model: keras.Model, optimizer: keras.optimizers.Optimizer, **kwargs):
    """Compiles for integer labels 0-9: sparse categorical cross-entropy (the same loss as
    categorical cross-entropy on one-hot labels) and accuracy."""
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        **kwargs,
    )
    return model
