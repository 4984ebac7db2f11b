"""Logged training runs: one call that every training notebook uses.

`fit_logged(model, ...)` trains with a checkpoint (Keras' `BackupAndRestore`) and writes the
run folder (`run_folder.RunDir`, which owns its state; `run_files` its file names and formats):

- `history.csv`: one row per epoch (epoch, loss, accuracy, val_loss, val_accuracy,
  learning_rate, epoch_seconds);
- `train.log`: the Keras-style lines the course's READMEs paste (a NaN loss shows as `nan`);
- `summary.json`: what ran, on what, and how well (rewritten each epoch, strict JSON; `status`
  is running, failed or complete). Its top-level environment (`git_commit`,
  `uncommitted_changes`, `backend`, `device`, `versions`) is the process that trained last;
  `segments` has one entry per process that trained the run, so a resumed run still says where
  each of its epochs came from;
- `tensorboard/`: the same curves as TensorBoard event files (`tensorboard --logdir logs/`);
- `model.keras` (the final model, taking raw uint8 images: architecture and weights, without the
  optimizer's state, `models.saving`), `model.md` (its layer table) and
  `curves.png`, at the end. Only then is the checkpoint removed: a kill at any moment before
  leaves a run that resumes.

Nothing is clobbered: a complete run is replaced only when asked (`overwrite=True`, or
`cnn-course run --overwrite`), by a run trained in a staging folder and swapped in once it is
complete. A damaged checkpoint, or a resume with other parameters or another model, is refused
with one message. A NaN loss stops the run, which is recorded as `failed: nan`.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np

from cnn_course.runs import environment
from cnn_course.runs.logs_folder import resolve_logs_dir
from cnn_course.runs.parameters import check_argument
from cnn_course.runs.run_context import RunContext
from cnn_course.runs.run_folder import COMPLETE, FAILED, PLACEMENT_PARAMETERS, RunDir
from cnn_course.runs.errors import RunError
from cnn_course.runs.run_files import (
    SUMMARY_FILE,
    atomic_path,
    atomic_write_text,
    history_csv,
    keras_log_lines,
    summarize_history,
)


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the run stopped and is recorded as failed."""


def run_directory(run_name: str, logs_dir: str | os.PathLike | None = None) -> Path:
    """The folder run `run_name` writes: `<logs_dir>/<run_name>`, or, inside a notebook that
    `cnn-course run` executes, the folder the runner chose (a staging folder when the run
    replaces a complete one)."""
    context = RunContext.from_environment()
    if context is not None and context.run_name == run_name:
        return Path(context.run_dir)
    return RunDir(resolve_logs_dir(logs_dir), run_name).path


class RunBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that keeps its checkpoint when training ends (the run deletes it once
    the final files are written) and never saves an epoch whose loss is not finite."""

    def __init__(self, backup_dir: str | os.PathLike):
        super().__init__(str(backup_dir), delete_checkpoint=False)

    def on_epoch_end(self, epoch, logs=None):
        if _all_finite(logs):
            super().on_epoch_end(epoch, logs)


class RunLogger(keras.callbacks.Callback):
    """Writes a run's history, Keras-style log and summary after every epoch, and stops the
    training at the end of an epoch whose loss is NaN or infinite.

    Place it before `RunBackup` in the callback list: on a resumed run the rows of the epochs
    being repeated are replaced, never duplicated, and none is lost.
    """

    def __init__(self, run: RunDir, summary: Mapping, epochs: int):
        super().__init__()
        self.run = run
        self.summary = dict(summary)
        self.epochs = epochs
        self.rows = run.history()
        self.failure: str | None = None
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
        if not _all_finite(logs):
            bad = ", ".join(f"{key} {value}" for key, value in logs.items()
                            if not math.isfinite(float(value)))
            self.failure = f"{bad} in epoch {epoch + 1}"
            self.model.stop_training = True
        self.write(status="running")

    def write(self, status: str, **extra) -> None:
        """Rewrites history.csv, train.log and summary.json from the rows so far."""
        steps = self.params.get("steps") if self.params else None
        atomic_write_text(self.run.history_path, history_csv(self.rows))
        atomic_write_text(
            self.run.train_log_path,
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
            **extra,
        )
        self.run.write_summary(self.summary)


def tensorboard(run: RunDir) -> list[keras.callbacks.Callback]:
    """Keras' TensorBoard callback writing the run's curves to `<run>/tensorboard/` (one scalar
    per metric and epoch, no graph or histograms: a few kB), or nothing, with one note, where
    TensorFlow or TensorBoard is not installed (its summary writer needs both, keras#19121:
    JAX-only machines)."""
    import importlib.util

    missing = [name for name in ("tensorflow", "tensorboard") if importlib.util.find_spec(name)
               is None]
    if missing:
        print(f"note: {' and '.join(missing)} not installed: no TensorBoard event files for "
              f"this run (history.csv and curves.png hold the same curves).")
        return []
    return [keras.callbacks.TensorBoard(str(run.tensorboard_path), write_graph=False,
                                        update_freq="epoch", profile_batch=0)]


def current_learning_rate(model: keras.Model) -> float | None:
    """The optimizer's learning rate now (schedules evaluated at the current step)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


# This process's logged runs that have not ended, by run folder: a notebook cell stopped in the
# middle of `model.fit` leaves one, and running the cell again must not keep two locks.
_UNFINISHED: dict[Path, "LoggedRun"] = {}


class LoggedRun:
    """A logged run around a plain `model.fit`: the run's folder, lock, checkpoint and files
    ride on Keras callbacks.

        run = training_log.LoggedRun(model, "cifar10_separable", epochs=50, dataset="cifar10",
                                     validation_data=(x_val, y_val))
        model.fit(x_train, y_train, epochs=50, validation_data=(x_val, y_val),
                  callbacks=run.callbacks)
        run.record_evaluation(model.evaluate(x_val, y_val, return_dict=True), len(x_val))

    Creating it checks everything before a step is taken: the arguments, that the model is
    compiled with fresh weights (a fresh run refuses a model whose optimizer has taken steps, so
    a logged result always comes from training inside the run), and the run rules `RunDir`
    owns (a complete run is kept unless `overwrite`; an interrupted run, one with `backup/`,
    resumes only with the same parameters and model). `validation` names what the validation
    data is ("test", the course's convention, or "holdout", `data.split`); the summary records
    it and the number of validation images, so a holdout accuracy is never shown as a test
    accuracy. Under `cnn-course run`, the runner's context names the folder and every parameter
    of the notebook (recorded in the summary, with `parameters` added on top).

    The callbacks write `history.csv`, `train.log` and `summary.json` after every epoch
    (`RunLogger`), keep the checkpoint (`RunBackup`: `model.fit` resumes from it by itself),
    write TensorBoard files, stop at a NaN loss, and at the end of training write the final
    files and mark the run complete (`finish`); a NaN loss is recorded as `failed: nan` and
    raises `TrainingDivergedError` out of `model.fit`.
    """

    def __init__(
        self,
        model: keras.Model,
        run_name: str,
        *,
        epochs: int,
        validation_data=None,
        batch_size: int | None = None,
        dataset: str | None = None,
        sample: bool | None = None,
        seed: int | None = None,
        validation: str = "test",
        parameters: Mapping | None = None,
        logs_dir: str | os.PathLike | None = None,
        overwrite: bool = False,
    ):
        from cnn_course.models.inputs import check_model_input
        from cnn_course.models.training import speed_settings

        for name, value in (("epochs", epochs), ("batch_size", batch_size), ("seed", seed),
                            ("validation", validation)):
            check_argument(name, value)
        if isinstance(validation_data, tuple):
            check_model_input(model, validation_data[0], "validation images")
        if getattr(model, "optimizer", None) is None:
            raise ValueError(
                f"Model {model.name!r} is not compiled. Call `model.compile(...)` before "
                f"starting the logged run."
            )
        context = RunContext.from_environment()
        if context is not None and context.run_name == run_name:
            # Under `cnn-course run`: the runner holds the lock and chose the folder.
            run, target = RunDir(context.logs_dir, run_name), RunDir.at(context.run_dir)
            parameters = {**context.parameters, **(parameters or {})}
            self._lock = contextlib.nullcontext()
        else:
            run, target = RunDir(resolve_logs_dir(logs_dir), run_name), None
            parameters = dict(parameters or {})
            self._lock = run.locked(command=f"LoggedRun(run_name={run_name!r})")
        parameters = {key: value for key, value in parameters.items()
                      if key not in PLACEMENT_PARAMETERS}
        if parameters.setdefault("validation", validation) != validation:
            raise ValueError(
                f"The notebook's parameter validation={parameters['validation']!r} but the run "
                f"was started with validation={validation!r}: pass `validation=validation` and "
                f"validate on `data.split(..., validation)`'s second pair."
            )
        self.run_path = run.path
        earlier = _UNFINISHED.pop(run.path, None)
        if earlier is not None:  # an attempt in this process that was interrupted (a notebook
            earlier.release()    # cell stopped mid-fit, then run again): its lock goes first
        self._lock.__enter__()
        _UNFINISHED[run.path] = self
        try:
            if target is None:
                run.recover()
                target = run.training_target(overwrite)
            target.remove_temporaries()
            resumed_epoch = target.backup_epoch()  # a damaged checkpoint stops here
            previous = target.summary() if resumed_epoch is not None else {}
            if resumed_epoch is None:
                steps_taken = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
                if steps_taken:
                    raise ValueError(
                        f"Model {model.name!r} has already been trained for {steps_taken} "
                        f"steps. A logged run must start from fresh weights: build and compile "
                        f"a new model, or resume an interrupted run (its `{target.backup_path}` "
                        f"folder must exist)."
                    )
                target.clear()  # an earlier attempt that never completed
                target.path.mkdir(parents=True, exist_ok=True)
            else:
                target.check_resume(parameters, epochs, (model.name, int(model.count_params())))
        except BaseException:
            self.release()
            raise
        self.run, self.target, self.model = run, target, model
        self.under_runner = context is not None
        self.logger = RunLogger(target, _start_summary(
            run.name, model, previous, resumed_epoch is not None,
            dataset=dataset, sample=sample, seed=seed, epochs_requested=epochs,
            batch_size=batch_size, validation=validation,
            validation_examples=_examples(validation_data), speed=speed_settings(model),
            parameters=parameters,
            notebook=context.notebook if context else None,
            launched_by="cnn-course run" if context else "fit_logged"), epochs)
        # The logger writes epoch N before the backup records it as done: a crash in between
        # repeats epoch N on resume (its row replaced), never loses it.
        self.callbacks: list[keras.callbacks.Callback] = [
            self.logger, RunBackup(target.backup_path), *tensorboard(target), _RunEnd(self)]

    @property
    def path(self) -> Path:
        """The folder the run writes (its own, or its staging folder when replacing one)."""
        return self.target.path

    def history(self) -> list[dict]:
        """The epochs logged so far, as `history.csv` holds them."""
        return self.target.history()

    def record_evaluation(self, results: Mapping[str, float], examples: int) -> dict:
        """Adds `model.evaluate(..., return_dict=True)` on the run's validation set to its
        summary (`evaluation`); returns the summary."""
        return record_evaluation(self.target.path, results, examples)

    def end(self) -> None:
        """At the end of `model.fit`: the final files and `complete`, or `failed: nan`."""
        try:
            if self.logger.failure:
                self.logger.write(status=FAILED, failure="nan",
                                  error=f"not finite: {self.logger.failure}")
                raise TrainingDivergedError(
                    f"Run {self.run.name!r} stopped: {self.logger.failure} (the loss diverged). "
                    f"It is recorded as failed in {self.target.path}. Lower the learning rate or "
                    f"check the inputs, then start it over (`cnn-course run ... --restart`).")
            if len(self.logger.rows) < self.logger.epochs:
                return  # stopped early (a user's callback): interrupted, resumable
            finish(self.model, self.target, self.logger)
            if self.target.is_staging and not self.under_runner:  # the runner swaps itself
                self.run.promote(self.target)
        finally:
            self.release()

    def release(self) -> None:
        """Lets go of the run's lock (when this process took it); a second call does nothing."""
        lock, self._lock = self._lock, contextlib.nullcontext()
        if _UNFINISHED.get(self.run_path) is self:
            del _UNFINISHED[self.run_path]
        lock.__exit__(None, None, None)


class _RunEnd(keras.callbacks.Callback):
    """Ends the run when `model.fit` ends (the last callback of `LoggedRun.callbacks`)."""

    def __init__(self, run: LoggedRun):
        super().__init__()
        self._run = run

    def on_train_end(self, logs=None):
        self._run.end()


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
    validation: str = "test",
    parameters: Mapping | None = None,
    logs_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 2,
    **fit_kwargs,
) -> keras.callbacks.History:
    """`model.fit` as a `LoggedRun` in one call: `<logs_dir>/<run_name>/`, resumed if
    interrupted (see `LoggedRun` for every rule)."""
    from cnn_course.models.inputs import check_model_input

    check_model_input(model, x, "x")
    run = LoggedRun(model, run_name, epochs=epochs, validation_data=validation_data,
                    batch_size=batch_size, dataset=dataset, sample=sample, seed=seed,
                    validation=validation, parameters=parameters, logs_dir=logs_dir,
                    overwrite=overwrite)
    try:
        return model.fit(x, y, validation_data=validation_data, batch_size=batch_size,
                         epochs=epochs, steps_per_epoch=steps_per_epoch,
                         callbacks=[*run.callbacks, *callbacks], verbose=verbose, **fit_kwargs)
    finally:
        run.release()


def _start_summary(run_name: str, model: keras.Model, previous: Mapping, resumed: bool,
                   **settings) -> dict:
    """The summary at the start of a training process: settings, environment, segments."""
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
    return {
        "run_name": run_name,
        "model_name": model.name,
        "params": int(model.count_params()),
        "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        **settings,
        **process,
        "started_at": previous.get("started_at", segment["started_at"]),
        "resumed": resumed or bool(previous.get("resumed")),
        "wall_time_s": previous.get("wall_time_s", 0.0),
        "segments": [*previous.get("segments", []), segment],
    }


def finish(model: keras.Model, run: RunDir, logger: RunLogger) -> None:
    """Writes the end-of-run files (the final model, its layer table, the curves), marks the
    run complete, and only then drops its checkpoint."""
    import matplotlib.pyplot as plt

    from cnn_course import plots
    from cnn_course.models.saving import save_for_inference

    with atomic_path(run.model_path) as temporary:
        save_for_inference(model, temporary)  # the checkpoint keeps the optimizer until now
    atomic_write_text(run.model_table_path, layer_table_markdown(model) + "\n")
    figure = plots.training_curves(logger.rows, title=logger.summary.get("run_name"))
    with atomic_path(run.curves_path) as temporary:
        figure.savefig(temporary, dpi=100)
    plt.close(figure)
    logger.summary["finished_at"] = _now()
    logger.write(status=COMPLETE)
    run.remove_backup()


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
    run_dir: str | os.PathLike,
    results: Mapping[str, float],
    examples: int,
) -> dict:
    """Adds `model.evaluate` results on the run's validation set (the test set, or the holdout
    for a `validation="holdout"` run) to the summary of the run in folder `run_dir`
    (`evaluation`); `LoggedRun.record_evaluation` is the usual way in."""
    run = RunDir.at(Path(run_dir))
    summary = run.summary()
    if not summary:
        raise RunError(f"No run in {run.path} (no {SUMMARY_FILE}): an evaluation is recorded "
                       f"only beside the run it evaluates. Pass the run's folder "
                       f"(`LoggedRun.path`).")
    summary["evaluation"] = {**{k: float(v) for k, v in results.items()}, "examples": examples,
                             "validation": summary.get("validation", "test")}
    run.write_summary(summary)
    return summary


def _examples(validation_data) -> int | None:
    """How many images `validation_data` holds (None when it is not an `(x, y)` tuple)."""
    if isinstance(validation_data, tuple) and validation_data:
        return len(validation_data[0])
    return None


def _all_finite(logs) -> bool:
    return all(math.isfinite(float(value)) for value in (logs or {}).values())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
