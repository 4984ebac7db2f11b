"""Logged training runs: one call that every training notebook uses.

`fit_logged(model, ...)` trains with `BackupAndRestore` and writes `logs/<run-name>/`:

- `history.csv`: one row per epoch (epoch, loss, accuracy, val_loss, val_accuracy,
  learning_rate, epoch_seconds);
- `train.log`: the Keras-style lines the course's READMEs paste;
- `summary.json`: what ran, on what, and how well (rewritten each epoch; `status` says whether
  the run is complete). Its top-level environment (`git_commit`, `uncommitted_changes`,
  `backend`, `device`, `versions`) is the process that trained last; `segments` has one entry
  per process that trained the run (first epoch, commit, uncommitted changes, backend, device,
  start time), so a resumed run still says where each of its epochs came from;
- `model.keras` (the final model, taking raw uint8 images), `model.md` (its layer table) and
  `curves.png`, at the end.

Every file is written atomically (a temporary file, then `os.replace`). Rows are keyed by epoch
and rewritten whole, so a run resumed after an interruption has no lost or duplicated epochs.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np

from cnn_course import environment
from cnn_course.runfiles import (  # noqa: F401  (re-exported: the run's file API)
    HISTORY_COLUMNS,
    atomic_path,
    atomic_write_text,
    history_csv,
    keras_log_lines,
    read_history,
    read_summary,
    summarize_history,
)

LOGS_ENV_VAR = "CNN_COURSE_LOGS_DIR"
NOTEBOOK_ENV_VAR = "CNN_COURSE_NOTEBOOK"
# Files a run writes itself; a fresh run removes earlier copies of exactly these.
RUN_FILES = ("history.csv", "train.log", "summary.json", "model.keras", "model.md", "curves.png")
BACKUP_DIR_NAME = "backup"
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def resolve_logs_dir(logs_dir: str | os.PathLike | None = None) -> Path:
    """Where runs go: `logs_dir`, else `$CNN_COURSE_LOGS_DIR`, else the project's `logs/`.

    The project's `logs/` is found from the working directory (a notebook runs in
    `notebooks/`); outside the project it is `./logs`.
    """
    if logs_dir is not None:
        return Path(logs_dir).expanduser().resolve()
    if os.environ.get(LOGS_ENV_VAR):
        return Path(os.environ[LOGS_ENV_VAR]).expanduser().resolve()
    root = environment.project_root()
    return (root / "logs") if root else Path("logs").resolve()


def run_directory(run_name: str, logs_dir: str | os.PathLike | None = None) -> Path:
    """`<logs_dir>/<run_name>`, checking that the name is a plain folder name."""
    if not isinstance(run_name, str) or not RUN_NAME_PATTERN.match(run_name):
        raise ValueError(
            f"Invalid run name: {run_name!r}. Use letters, digits, '.', '_' and '-' only "
            f"(it becomes a folder name under logs/), e.g. 'mnist_net-seed1'."
        )
    return resolve_logs_dir(logs_dir) / run_name


class RunLogger(keras.callbacks.Callback):
    """Writes a run's history, Keras-style log and summary after every epoch.

    Place it before `BackupAndRestore` in the callback list: on a resumed run the rows of the
    epochs being repeated are replaced, never duplicated, and none is lost.
    """

    def __init__(self, run_dir: str | os.PathLike, summary: Mapping, epochs: int):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.summary = dict(summary)
        self.epochs = epochs
        self.rows = read_history(self.run_dir)
        self._epoch_start = 0.0
        self._session_start = 0.0
        self._previous_wall = float(self.summary.get("wall_time_s") or 0.0)

    def on_train_begin(self, logs=None):
        self._session_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        segments = self.summary.get("segments")
        if segments and segments[-1]["first_epoch"] is None:
            # Only now is the epoch that BackupAndRestore resumes from known.
            segments[-1]["first_epoch"] = epoch + 1

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{key: float(value) for key, value in (logs or {}).items()}}
        row.setdefault("learning_rate", current_learning_rate(self.model))
        row["epoch_seconds"] = time.perf_counter() - self._epoch_start
        self.rows = [kept for kept in self.rows if kept["epoch"] < row["epoch"]] + [row]
        self.write(status="running")

    def write(self, status: str) -> None:
        """Rewrites history.csv, train.log and summary.json from the rows so far."""
        steps = self.params.get("steps") if self.params else None
        atomic_write_text(self.run_dir / "history.csv", history_csv(self.rows))
        atomic_write_text(
            self.run_dir / "train.log",
            "".join(keras_log_lines(row, self.epochs, steps) for row in self.rows),
        )
        self.summary.update(summarize_history(self.rows))
        self.summary.update(
            status=status,
            epochs_run=len(self.rows),
            steps_per_epoch=steps,
            wall_time_s=round(
                self._previous_wall + time.perf_counter() - self._session_start, 2
            ),
            updated_at=_now(),
        )
        atomic_write_text(self.run_dir / "summary.json", json.dumps(self.summary, indent=2) + "\n")


def current_learning_rate(model: keras.Model) -> float | None:
    """The optimizer's learning rate now (schedules evaluated at the current step)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def fit_logged(
    model: keras.Model,
    x,
    y=None,
    *,
    run_name: str,
    epochs: int,
    validation_data=None,
    batch_size: int | None = None,
    steps_per_epoch: int | None = None,
    dataset: str | None = None,
    sample: bool | None = None,
    seed: int | None = None,
    parameters: Mapping | None = None,
    logs_dir: str | os.PathLike | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 2,
    **fit_kwargs,
) -> keras.callbacks.History:
    """`model.fit` with the run logged into `<logs_dir>/<run_name>/`; resumes if interrupted.

    The model must be compiled with fresh weights: a fresh run refuses a model whose optimizer
    has already taken steps, so a logged result always comes from training inside the run.
    A run whose `backup/` folder exists (it was interrupted) resumes from its last epoch.
    """
    from cnn_course.models.inputs import check_model_input

    check_model_input(model, x, "x")
    if isinstance(validation_data, tuple):
        check_model_input(model, validation_data[0], "validation images")
    run_dir = run_directory(run_name, logs_dir)
    backup_dir = run_dir / BACKUP_DIR_NAME
    resuming = (backup_dir / "training_metadata.json").is_file()
    if getattr(model, "optimizer", None) is None:
        raise ValueError(
            f"Model {model.name!r} is not compiled. Call `model.compile(...)` before "
            f"`fit_logged`."
        )
    if not resuming:
        steps_taken = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        if steps_taken:
            raise ValueError(
                f"Model {model.name!r} has already been trained for {steps_taken} steps. A "
                f"logged run must start from fresh weights: build and compile a new model, "
                f"or resume an interrupted run (its `{backup_dir}` folder must exist)."
            )
        run_dir.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            (run_dir / name).unlink(missing_ok=True)
    previous = read_summary(run_dir) if resuming and (run_dir / "summary.json").is_file() else {}
    process = {
        "git_commit": environment.git_commit(),
        "uncommitted_changes": environment.uncommitted_changes(),
        **environment.describe(),
    }
    segment = {
        "first_epoch": None,
        **{key: process[key] for key in ("git_commit", "uncommitted_changes", "backend", "device")},
        "started_at": _now(),
    }
    summary = {
        "run_name": run_name,
        "model_name": model.name,
        "params": int(model.count_params()),
        "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "dataset": dataset,
        "sample": sample,
        "seed": seed,
        "epochs_requested": epochs,
        "batch_size": batch_size,
        "parameters": dict(parameters or {}),
        "notebook": os.environ.get(NOTEBOOK_ENV_VAR),
        **process,
        "started_at": previous.get("started_at", segment["started_at"]),
        "resumed": resuming or bool(previous.get("resumed")),
        "wall_time_s": previous.get("wall_time_s", 0.0),
        "segments": [*previous.get("segments", []), segment],
    }
    logger = RunLogger(run_dir, summary, epochs)
    history = model.fit(
        x,
        y,
        validation_data=validation_data,
        batch_size=batch_size,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        # The logger writes epoch N before BackupAndRestore records it as done: a crash in
        # between repeats epoch N on resume (its row replaced), never loses it.
        callbacks=[logger, keras.callbacks.BackupAndRestore(str(backup_dir)), *callbacks],
        verbose=verbose,
        **fit_kwargs,
    )
    finish(model, run_dir, logger)
    return history


def finish(model: keras.Model, run_dir: Path, logger: RunLogger) -> None:
    """Writes the end-of-run files: the final model, its layer table, the curves."""
    import matplotlib.pyplot as plt

    from cnn_course import plots

    with atomic_path(run_dir / "model.keras") as temporary:
        model.save(temporary)
    atomic_write_text(run_dir / "model.md", layer_table_markdown(model) + "\n")
    figure = plots.training_curves(logger.rows, title=logger.summary.get("run_name"))
    with atomic_path(run_dir / "curves.png") as temporary:
        figure.savefig(temporary, dpi=100)
    plt.close(figure)
    logger.summary["finished_at"] = _now()
    logger.write(status="complete")


def layer_table_markdown(model: keras.Model) -> str:
    """The model's annotated layer table (output size, RF) as Markdown; the plain Keras
    summary in a code block when a layer's geometry is unknown."""
    try:
        from cnn_course import receptive_field

        return receptive_field.summary(model, format="markdown")
    except Exception as error:  # noqa: BLE001 - a table must never fail a finished run
        lines: list[str] = []
        model.summary(print_fn=lambda text, **_: lines.append(text), line_length=100)
        reason = f"(receptive-field table unavailable: {type(error).__name__}: {error})"
        return reason + "\n\n```\n" + "\n".join(lines).strip() + "\n```"


def record_evaluation(
    run_dir_or_name: str | os.PathLike,
    results: Mapping[str, float],
    examples: int,
    logs_dir: str | os.PathLike | None = None,
) -> dict:
    """Adds `model.evaluate` results on the test set to a run's summary (`evaluation`)."""
    run_dir = Path(run_dir_or_name)
    if not run_dir.is_dir():
        run_dir = run_directory(str(run_dir_or_name), logs_dir)
    summary = read_summary(run_dir)
    summary["evaluation"] = {**{k: float(v) for k, v in results.items()}, "examples": examples}
    atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
