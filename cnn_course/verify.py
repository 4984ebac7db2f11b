"""Re-evaluates committed runs: each `model.keras` on its dataset's test set must reproduce
the final validation accuracy its summary logged (the validation set is the test set)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cnn_course import data, runlog

# Evaluation batches differ from training-time validation only in summation order.
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Verification:
    run_name: str
    logged: float
    measured: float
    examples: int

    @property
    def reproduced(self) -> bool:
        return abs(self.logged - self.measured) <= TOLERANCE


def verify_run(run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None
               ) -> Verification:
    """Loads a run's final model and evaluates it on the test set it was validated on."""
    import keras

    run_dir = Path(run_dir)
    summary = runlog.read_summary(run_dir)
    if summary.get("status") != "complete":
        raise ValueError(f"Run {run_dir.name!r} is not complete (status "
                         f"{summary.get('status')!r}); there is no final model to verify.")
    model = keras.saving.load_model(run_dir / "model.keras")
    _, (x_test, y_test) = data.load(summary["dataset"], sample=bool(summary.get("sample")),
                                    data_dir=data_dir)
    results = model.evaluate(x_test, y_test, batch_size=512, verbose=0, return_dict=True)
    return Verification(summary["run_name"], float(summary["final_val_accuracy"]),
                        float(results["accuracy"]), len(x_test))
