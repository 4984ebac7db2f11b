"""Re-evaluates logged runs: each `model.keras` on its dataset's test set must reproduce the
final validation accuracy its summary logged, on the set it validated on: the test set, or for a
`validation: holdout` run the same held-out training images (`data.split`). A run that keeps
its logs only (no model.keras) is skipped, saying so."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cnn_course import data
from cnn_course.runs.run_files import SUMMARY_FILE
from cnn_course.runs.run_folder import COMPLETE, ModelNotKeptError, RunDir

# Evaluation batches differ from training-time validation only in summation order.
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Verification:
    run_name: str
    logged: float
    measured: float
    examples: int
    validation: str = "test"

    @property
    def reproduced(self) -> bool:
        return abs(self.logged - self.measured) <= TOLERANCE


def verify_run(run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None
               ) -> Verification:
    """Loads a run's final model and evaluates it on the test set it was validated on."""
    run = RunDir.at(Path(run_dir))
    record = run.record()
    if run.state(record) != COMPLETE:
        raise ValueError(f"Run {run.name!r} is not complete ({run.describe_state()}); there is "
                         f"no final model to verify.")
    from cnn_course.models import training
    from cnn_course.models.inputs import shape_refused
    from cnn_course.models.saving import load_untrusted

    model = load_untrusted(run.complete_model_path())
    training.compile_classifier(model)  # the loss and the metric only: it only evaluates
    _, (x_val, y_val) = data.split(record.data.dataset, record.data.validation,
                                   sample=record.data.sample, data_dir=data_dir)
    expected = shape_refused(model, x_val)
    if expected is not None:
        raise ValueError(f"{run.model_path.name} takes images of shape {expected}, not those of "
                         f"{record.data.dataset} {x_val.shape[1:]}, which its {SUMMARY_FILE} "
                         f"names: the model and the record are not of one run.")
    results = model.evaluate(x_val, y_val, batch_size=512, verbose=0, return_dict=True)
    return Verification(record.run_name, float(record.final_accuracy),
                        float(results["accuracy"]), len(x_val), record.data.validation)


def verify_or_skip(run: RunDir, data_dir: str | os.PathLike | None = None) -> str:
    """One line: `ok`, `FAIL`, or `skip` with the reason (not complete, data not here)."""
    if run.state() != COMPLETE:
        return f"skip {run.name}: {run.describe_state()}; only complete runs have a final model"
    try:
        result = verify_run(run.path, data_dir)
    except ModelNotKeptError:
        return f"skip {run.name}: complete, but it keeps its logs only (no {run.model_path.name})"
    except data.DatasetNotFoundError:
        dataset = run.record().data.dataset
        return (f"skip {run.name}: the full {dataset} test set is not on this machine (set "
                f"{data.ENV_VAR} to a folder holding {data.file_name(dataset)})")
    except (OSError, ValueError, KeyError) as error:  # a missing or unreadable model.keras
        return f"FAIL {run.name}: cannot re-evaluate it: {' '.join(str(error).split())[:200]}"
    verdict = "ok  " if result.reproduced else "FAIL"
    return (f"{verdict} {run.name}: logged {result.logged:.4f}, re-evaluated "
            f"{result.measured:.4f} on {result.examples} {_set_words(result.validation)}")


def _set_words(validation: str) -> str:
    return "test images" if validation == "test" else f"{validation} images (not the test set)"
