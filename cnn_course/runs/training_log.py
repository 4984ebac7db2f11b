"""A logged run: one Keras callback that turns a plain `model.fit` into a run folder.

    split = data.split("cifar10", validation, sample=sample)
    (x_train, y_train), (x_val, y_val) = split
    run = training_log.LoggedRun(run_name, split, recipe, logs_dir)
    model.fit(x_train, y_train, epochs=epochs, batch_size=recipe.batch_size,
              validation_data=(x_val, y_val), callbacks=[run])

The run takes what `fit` knows from `fit` itself (the model, the epochs and steps: Keras hands
them to a callback) and the rest from the objects that carry it: the data split (dataset,
validation set, sample), the recipe, and the seed this process was seeded with
(`environment.seeded`). Under `cnn-course run` the runner's context adds every notebook
parameter and names the folder.

The folder (`run_folder.RunDir` owns its state, lock and checkpoint) gets, after every epoch,
`history.csv`, `train.log` (Keras-style lines) and `summary.json` (the run's `record`:
`running`, `failed` or `complete`; one segment per process that trained it); TensorBoard event
files (`tensorboard --logdir logs/`); and at the end the final model (`model.keras`, taking raw
uint8 images), its layer table (`model.md`) and `curves.png`. Only then is the checkpoint
removed: a kill at any moment before leaves a run that resumes (Keras' `BackupAndRestore`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np

from cnn_course import environment
from cnn_course.models import training
from cnn_course.runs.errors import RunError
from cnn_course.runs.logs_folder import choose_logs_dir
from cnn_course.runs.parameters import check_argument
from cnn_course.runs.record import COMPLETE, FAILED, RUNNING, RunRecord, new_record
from cnn_course.runs.run_context import RunContext
from cnn_course.runs.run_files import (
    SUMMARY_FILE,
    atomic_path,
    atomic_write_text,
    history_csv,
    keras_log_lines,
    summarize_history,
)
from cnn_course.runs.run_folder import RunDir


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the run stopped and is recorded as failed."""


def tensorboard(run: RunDir) -> list[keras.callbacks.Callback]:
    """Keras' TensorBoard callback writing the run's curves to `<run>/tensorboard/` (a few kB),
    or a note where TensorFlow or TensorBoard is missing (its writer needs both, keras#19121)."""
    import importlib.util

    missing = [name for name in ("tensorflow", "tensorboard") if not importlib.util.find_spec(name)]
    if missing:
        print(f"note: {' and '.join(missing)} not installed: no TensorBoard event files for "
              f"this run (history.csv and curves.png hold the same curves).")
        return []
    return [keras.callbacks.TensorBoard(str(run.tensorboard_path), write_graph=False,
                                        update_freq="epoch", profile_batch=0)]


class RunBackup(keras.callbacks.BackupAndRestore):
    """Keras' checkpoint with each file replaced in one step, so that a kill while it is written
    leaves the last epoch's whole (Keras writes in place: a torn h5 failed the resume)."""

    def _save_model(self):
        partial = os.path.join(self.backup_dir, ".partial.weights.h5")  # Keras' suffix
        os.makedirs(self.backup_dir, exist_ok=True)
        self.model.save_weights(partial, overwrite=True)
        os.replace(partial, self._weights_path)
        atomic_write_text(self._training_metadata_path, json.dumps(
            {"epoch": self._current_epoch, "batch": self._last_batch_seen}))


# This process's logged runs not ended, by folder: a cell stopped mid-fit leaves one (its lock).
_UNFINISHED: dict[Path, "LoggedRun"] = {}


class LoggedRun(keras.callbacks.Callback):
    """A logged run: pass it to `model.fit(..., callbacks=[run])` (see the module's example).

    `split`: what `data.split` returned (or a `data.Split` you make); `recipe`: a
    `recipes.Recipe` or a mapping of what defines the training. Creating it checks the run
    rules `RunDir` owns before any training: a complete run is kept unless `overwrite`, a
    damaged checkpoint is refused, and the run's lock is taken. When `fit` starts, it refuses a
    model whose optimizer has already taken steps (a logged result comes from training inside
    the run), epochs or steps an epoch that are not the run's, and an interrupted run that would
    resume with other parameters or another model. A NaN loss is recorded as `failed: nan` and
    raises `TrainingDivergedError`; a `fit` without validation data, `failed: no validation`
    (ValueError). A LoggedRun trains once: a second `fit` with it, after it ended, is refused.
    """

    def __init__(self, run_name: str, split, recipe=None,
                 logs_dir: str | os.PathLike | None = None, *, overwrite: bool = False):
        super().__init__()
        from cnn_course.data import Split

        if not isinstance(split, Split):
            raise TypeError(
                f"LoggedRun(run_name, split, ...) takes the `data.Split` that `data.split(...)` "
                f"returns (what the run trains and validates on); received {type(split).__name__}"
                f". Use `split = data.split(dataset, validation, sample=...)`, then `(x, y), "
                f"(x_val, y_val) = split`.")
        recipe = recipe.as_dict() if hasattr(recipe, "as_dict") else recipe or {}
        if not isinstance(recipe, Mapping):
            raise TypeError(f"LoggedRun's recipe is a `recipes.Recipe` or a mapping of name: "
                            f"value; received {type(recipe).__name__} {recipe!r}.")
        self.split, recipe = split, dict(recipe)
        context = RunContext.from_environment()
        if context is not None and context.run_name == run_name:
            # Under `cnn-course run`: the runner holds the lock and chose the folder.
            run, target = RunDir(context.logs_dir, run_name), RunDir.at(context.run_dir)
            parameters = {**context.parameters, **recipe}
            self._lock = contextlib.nullcontext()
        else:
            run, target = RunDir(choose_logs_dir(logs_dir), run_name), None
            parameters = {**recipe, "seed": environment.seeded()}
            self._lock = run.locked(command=f"LoggedRun(run_name={run_name!r})")
        stated = parameters.setdefault("validation", split.validation)
        if stated != split.validation:
            raise ValueError(
                f"The notebook's parameter validation={stated!r} but the run's data validates "
                f"on {split.validation!r}: pass `data.split(..., validation)` to the run.")
        parameters.setdefault("sample", split.sample)
        for name, value in parameters.items():
            check_argument(name, value)
        self.parameters, self.notebook = parameters, (context.notebook if context else None)
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
            target.backup_epoch()  # a damaged checkpoint stops here; `fit` reads it again
        except BaseException:
            self.release()
            raise
        self.run, self.target = run, target
        self.under_runner = context is not None
        self.record: RunRecord | None = None
        self.rows: list[dict] = []
        self.failure: tuple[str, str, Exception] | None = None
        self._inner: list[keras.callbacks.Callback] = []
        self._epoch_start, self._session_start, self.ended = 0.0, 0.0, False

    @property
    def path(self) -> Path:
        """The folder the run writes (its own, or its staging folder when replacing one)."""
        return self.target.path

    def history(self) -> list[dict]:
        """The epochs logged so far, as `history.csv` holds them."""
        return self.target.history()

    # Keras' hooks: the run's own, then its checkpoint's and TensorBoard's.
    def on_train_begin(self, logs=None):
        if self.ended:  # its lock is gone, and it would train over the run it made
            raise RunError(f"This LoggedRun has ended ({self.run.name!r} is "
                           f"{self.run.describe_state()}); it trains once: create it again.")
        try:
            self._start(self.model)
        except BaseException:
            self.release()
            raise
        for callback in self._inner:
            callback.set_model(self.model)
            callback.set_params(self.params)
            callback.on_train_begin(logs)
        self._session_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        segments = self.record.segments
        if segments and segments[-1]["first_epoch"] is None:
            # Only now is the epoch that BackupAndRestore resumes from known.
            segments[-1]["first_epoch"] = epoch + 1
        for callback in self._inner:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        # The run writes epoch N before the checkpoint records it as done: a crash in between
        # repeats epoch N on resume (its row replaced), never loses it.
        row = {"epoch": epoch + 1, **{key: float(value) for key, value in (logs or {}).items()}}
        row.setdefault("learning_rate", training.current_learning_rate(self.model))
        row["epoch_seconds"] = time.perf_counter() - self._epoch_start
        self.rows = [kept for kept in self.rows if kept["epoch"] < row["epoch"]] + [row]
        self.failure = self._failure(epoch + 1, logs or {})
        self.write(RUNNING)
        if self.failure:  # stopped: the checkpoint keeps the last good epoch
            self.model.stop_training = True
            return
        for callback in self._inner:
            callback.on_epoch_end(epoch, logs)

    def _failure(self, epoch: int, logs: Mapping) -> tuple[str, str, Exception] | None:
        """Why the run stops after `epoch` (a loss not finite; no validation, hence no result):
        its `failure`, `error` and the exception `model.fit` raises. None: it goes on."""
        bad = ", ".join(f"{key} {value}" for key, value in logs.items()
                        if not math.isfinite(float(value)))
        if bad:
            return "nan", f"not finite: {bad} in epoch {epoch}", TrainingDivergedError(
                f"Run {self.run.name!r} stopped: {bad} in epoch {epoch} (the loss diverged). "
                f"It is recorded as failed in {self.target.path}. Lower the learning rate or "
                f"check the inputs, then start it over (`cnn-course run ... --restart`).")
        if "val_loss" not in logs:
            return "no validation", f"no validation pass in epoch {epoch}", ValueError(
                f"Run {self.run.name!r} stopped after epoch {epoch}: it had no validation pass "
                f"(no validation_data, or a validation_freq above 1), and a logged run scores "
                f"every epoch. Pass the split's pair: `(x, y), (x_val, y_val) = split`, then "
                f"`model.fit(x, y, ..., validation_data=(x_val, y_val), callbacks=[run])`.")

    def on_test_begin(self, logs=None):
        for callback in self._inner:
            callback.on_test_begin(logs)

    def on_test_end(self, logs=None):
        for callback in self._inner:
            callback.on_test_end(logs)

    def on_train_end(self, logs=None):
        for callback in self._inner:
            callback.on_train_end(logs)
        self.end()

    # The run's own steps.
    def _start(self, model: keras.Model) -> None:
        """At the start of `fit`: its checks, this process's record, the inner callbacks."""
        from cnn_course.models.inputs import check_model_input

        (x_train, _), (x_val, _) = self.split
        check_model_input(model, x_val, "validation images")
        batch_size, steps = self.parameters.get("batch_size"), self.params.get("steps")
        whole = len(x_train) / batch_size if isinstance(batch_size, int) else None
        if None not in (whole, steps) and steps not in (math.floor(whole), math.ceil(whole)):
            raise ValueError(
                f"`model.fit` takes {steps} steps an epoch, but the run's split has "
                f"{len(x_train):,} training images and its recipe a batch size of {batch_size} "
                f"({math.ceil(whole)} steps): it would record what did not happen. Fit them with "
                f"`batch_size={batch_size}, validation_data=(x_val, y_val)`, no validation_split.")
        stated, fitted = self.parameters.get("epochs"), self.params.get("epochs")
        if None not in (stated, fitted) and stated != fitted:
            raise ValueError(f"`model.fit` runs {fitted} epochs, but the run's epochs parameter "
                             f"is {stated}: it would record what did not happen. Fit with "
                             f"`epochs={stated}`.")
        starting = self._starting_record(model)
        resumed = self.target.backup_epoch()  # a fit after an interrupted one resumes
        if resumed is None:
            steps_taken = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
            if steps_taken:
                raise ValueError(
                    f"Model {model.name!r} has already been trained for {steps_taken} steps. A "
                    f"logged run must start from fresh weights: build and compile a new model, "
                    f"or resume an interrupted run (its `{self.target.backup_path}` folder "
                    f"must exist).")
            self.target.clear()  # an earlier attempt that never completed
            self.target.path.mkdir(parents=True, exist_ok=True)
            previous = RunRecord(self.run.name)
        else:
            self.target.check_resume(starting)
            previous = self.target.record() or RunRecord(self.run.name)
            self.rows = self.target.history()
        self.record = starting.replace(
            speed=training.speed_settings(model),
            segments=[*previous.segments, starting.segments[0]],
            training={"resumed": resumed is not None or previous.training.resumed,
                      "started_at": (previous.training.started_at
                                     or starting.segments[0]["started_at"]),
                      "wall_time_s": previous.training.wall_time_s})
        self._inner = [RunBackup(str(self.target.backup_path), delete_checkpoint=False),
                       *tensorboard(self.target)]

    def _starting_record(self, model: keras.Model) -> RunRecord:
        process = {"git_commit": environment.git_commit(),
                   "uncommitted_changes": environment.uncommitted_changes(),
                   **environment.describe()}
        segment = {"first_epoch": None, **{key: process[key] for key in (
            "git_commit", "uncommitted_changes", "backend", "device")}, "started_at": _now()}
        epochs = self.params.get("epochs")  # what fit runs (a differing parameter was refused)
        parameters = {**self.parameters, "epochs": epochs}
        return new_record(
            self.run.name, parameters, added=self.under_runner, notebook=self.notebook,
            launched_by="cnn-course run" if self.under_runner else "LoggedRun",
            model={"name": model.name, "params": int(model.count_params()),
                   "trainable_params": int(sum(np.prod(w.shape)
                                               for w in model.trainable_weights))},
            data={"dataset": self.split.dataset, "validation_examples": len(self.split[1][0])},
            environment=process, segments=[segment],
            training={"epochs_requested": epochs})

    def write(self, status: str, **fields) -> None:
        """Rewrites history.csv, train.log and summary.json from the rows so far."""
        steps = self.params.get("steps") if self.params else None
        epochs = self.record.training.epochs_requested
        atomic_write_text(self.target.history_path, history_csv(self.rows))
        atomic_write_text(self.target.train_log_path,
                          "".join(keras_log_lines(row, epochs, steps) for row in self.rows))
        timing = summarize_history(self.rows)
        self.record = self.record.replace(
            status=status, **fields,
            training={"epochs_run": len(self.rows), "steps_per_epoch": steps,
                      "wall_time_s": round(self.record.training.wall_time_s
                                           + time.perf_counter() - self._session_start, 2),
                      "updated_at": _now(), "train_time_s": timing.get("train_time_s"),
                      "mean_epoch_s": timing.get("mean_epoch_s")},
            results={name: timing.get(name) for name in (
                "final_val_accuracy", "final_val_loss", "best_val_accuracy", "best_epoch")})
        self._session_start = time.perf_counter()
        self.target.write_record(self.record)

    def record_evaluation(self, results: Mapping[str, float]) -> RunRecord:
        """Adds `model.evaluate(..., return_dict=True)` on the run's validation images (the
        test set, or the holdout of a `validation="holdout"` run) to its record; returns it."""
        record = self.target.record()
        if record is None:
            raise RunError(f"Run {self.run.name!r} has not trained (no {SUMMARY_FILE} in "
                           f"{self.target.path}): record an evaluation after "
                           f"`model.fit(..., callbacks=[run])`.")
        record = record.replace(results={"evaluation": {
            **{key: float(value) for key, value in results.items()},
            "examples": len(self.split[1][0]), "validation": record.data.validation}})
        self.target.write_record(record)
        return record

    def end(self) -> None:
        """At the end of `model.fit`: the final files and `complete`, or `failed: nan`."""
        try:
            if self.failure:
                failure, error, exception = self.failure
                self.write(FAILED, failure=failure, error=error)
                raise exception
            if len(self.rows) < (self.record.training.epochs_requested or 0):
                return  # stopped early (a user's callback): interrupted, resumable
            finish(self.model, self)
            if self.target.is_staging and not self.under_runner:  # the runner swaps itself
                self.run.promote(self.target)
                self.target = self.run
        finally:
            self.release()

    def release(self) -> None:
        """Lets go of the run's lock (when this process took it); a second call does nothing."""
        lock, self._lock, self.ended = self._lock, contextlib.nullcontext(), True
        if _UNFINISHED.get(self.run_path) is self:
            del _UNFINISHED[self.run_path]
        lock.__exit__(None, None, None)


def finish(model: keras.Model, run: LoggedRun) -> None:
    """Writes the end-of-run files (the final model, its layer table, the curves), marks the
    run complete, and only then drops its checkpoint."""
    import matplotlib.pyplot as plt

    from cnn_course import plots
    from cnn_course.models.saving import save_for_inference

    folder = run.target
    with atomic_path(folder.model_path) as temporary:
        save_for_inference(model, temporary)  # the checkpoint keeps the optimizer until now
    atomic_write_text(folder.model_table_path, layer_table_markdown(model) + "\n")
    figure = plots.training_curves(run.rows, title=run.record.run_name)
    with atomic_path(folder.curves_path) as temporary:
        figure.savefig(temporary, dpi=100)
    plt.close(figure)
    run.record = run.record.replace(training={"finished_at": _now()})
    run.write(COMPLETE)
    folder.remove_backup()


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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
