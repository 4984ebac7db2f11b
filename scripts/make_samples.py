"""Recipe for the embedded samples in cnn_course/samples/ (run once; the files are committed).

For each dataset: 80 training images per class from the real training set and 20 test images per
class from the real test set, drawn with a fixed seed, in a fixed class-interleaved order.

    python scripts/make_samples.py ~/data        # folder holding the full <name>.npz files
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from cnn_course import data

SEED = 20261122


def stratified_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """`per_class` indices of each class, interleaved so any prefix stays roughly balanced."""
    labels = labels.reshape(-1)
    chosen = [np.sort(rng.choice(np.flatnonzero(labels == c), per_class, replace=False))
              for c in range(10)]
    return np.stack(chosen, axis=1).reshape(-1)


def make_sample(name: str, data_dir: Path) -> Path:
    spec = data.spec(name)
    (x_train, y_train), (x_test, y_test) = data.load(name, data_dir=data_dir, allow_download=False)
    rng = np.random.default_rng(SEED)
    train = stratified_indices(y_train, spec.sample_train_count // 10, rng)
    test = stratified_indices(y_test, spec.sample_test_count // 10, rng)
    out = data.sample_path(name)
    np.savez_compressed(out, x_train=x_train[train], y_train=y_train[train],
                        x_test=x_test[test], y_test=y_test[test])
    data.load(name, sample=True)  # validates what was written
    return out


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "~/data").expanduser()
    for dataset_name in data.SPECS:
        path = make_sample(dataset_name, folder)
        print(f"{path} {path.stat().st_size / 1e6:.2f} MB")
