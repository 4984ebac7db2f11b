"""`RunDir`: a run folder's state, lock, checkpoint and staging, and the run rules (a complete
run is kept unless overwrite; a run resumes only unchanged) that every caller asks it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from cnn_course.runs.errors import RunError, RunLockedError
from cnn_course.runs import record as records
from cnn_course.runs.record import COMPLETE, FAILED, INTERRUPTED, RUNNING, RunRecord
from cnn_course.runs.run_files import (
    BACKUP_DIR_NAME,
    BACKUP_METADATA_FILE,
    BACKUP_WEIGHTS_FILE,
    CURVES_FILE,
    HISTORY_FILE,
    MODEL_FILE,
    MODEL_TABLE_FILE,
    RUN_FILES,
    SUMMARY_FILE,
    TENSORBOARD_DIR_NAME,
    TRAIN_LOG_FILE,
    check_run_name,
    read_history,
)

class ModelNotKeptError(RunError):
    """A complete run whose final model is not in its folder (it keeps its logs only)."""


def parameter_differences(before: RunRecord, after: RunRecord) -> list[str]:
    """'name: before -> after' for each training parameter (recipe, seed, data) both records
    state with different values. Speed settings say how fast, not what is learned: a run may
    resume with others (and the record keeps the compiled model's, not the parameters')."""
    def stated(record: RunRecord) -> dict:
        data = ({"validation": record.data.validation, "sample": record.data.sample}
                if record.data.dataset is not None else {})  # the runner knows no data yet
        return {**record.recipe, "seed": record.seed, **data}

    old, new = stated(before), stated(after)
    return [f"{name}: {old[name]!r} -> {new[name]!r}" for name in sorted(set(old) & set(new))
            if old[name] != new[name]]


@dataclasses.dataclass(frozen=True)
class RunDir:
    """`<logs_dir>/<name>/`: the only code that spells a run file's name or decides a run's
    state. A run is `running` (a live process holds its lock), `interrupted` (stopped before
    the end; resumable from `backup/`), `failed` (the notebook or training raised; the error
    is in the summary) or `complete`.

    Replacing a complete run trains in a staging folder beside it, `<logs_dir>/.<name>.staging/`,
    swapped in only once the new run is complete; the lock is `<logs_dir>/.<name>.lock`.
    """

    logs_dir: Path
    name: str
    is_staging: bool = False

    def __post_init__(self):
        object.__setattr__(self, "logs_dir", Path(self.logs_dir))
        check_run_name(self.name)

    @property
    def path(self) -> Path:
        return self.logs_dir / (f".{self.name}.staging" if self.is_staging else self.name)

    @classmethod
    def at(cls, path: str | os.PathLike) -> RunDir:
        """The run whose folder is `path` (a run's own folder or a staging folder)."""
        path = Path(os.path.abspath(path))  # "." names its folder too
        name = path.name
        if name.startswith(".") and name.endswith(".staging"):
            return cls(path.parent, name[1:-len(".staging")], is_staging=True)
        return cls(path.parent, name)

    # Its files, each named once (`run_files`).
    summary_path = property(lambda self: self.path / SUMMARY_FILE)
    history_path = property(lambda self: self.path / HISTORY_FILE)
    train_log_path = property(lambda self: self.path / TRAIN_LOG_FILE)
    model_path = property(lambda self: self.path / MODEL_FILE)
    model_table_path = property(lambda self: self.path / MODEL_TABLE_FILE)
    curves_path = property(lambda self: self.path / CURVES_FILE)
    backup_path = property(lambda self: self.path / BACKUP_DIR_NAME)
    tensorboard_path = property(lambda self: self.path / TENSORBOARD_DIR_NAME)

    @property
    def lock_path(self) -> Path:
        return self.logs_dir / f".{self.name}.lock"

    def staging(self) -> RunDir:
        """The folder a replacement of this run trains in."""
        return RunDir(self.logs_dir, self.name, is_staging=True)

    def notebooks(self) -> list[Path]:
        return sorted(path for path in self.path.glob("*.ipynb") if not path.name.startswith("."))

    # Reading.
    def record(self) -> RunRecord | None:
        """The run's record (`summary.json`); None when it has none yet."""
        return records.read(self.path)

    def history(self) -> list[dict]:
        return read_history(self.path)

    def exists(self) -> bool:
        return self.summary_path.is_file() or self.backup_path.is_dir()

    def state(self, record: RunRecord | None = None) -> str | None:
        """running, interrupted, failed or complete; None when there is no run here.
        `record`: the record already read, so one row of a table reads it once (a run that
        is training rewrites it every epoch, and one reading gives one consistent view)."""
        if not self.exists():
            return None
        status = (record or self.record() or RunRecord(self.name)).status
        if status in (COMPLETE, FAILED):
            return status
        return RUNNING if self.lock_holder() is not None else INTERRUPTED

    def describe_state(self, record: RunRecord | None = None) -> str:
        """The state in words, e.g. 'interrupted after epoch 3 of 50' or 'failed: nan'
        (`record`: as for `state`)."""
        record = record or self.record() or RunRecord(self.name)
        state = self.state(record)
        if state is None:
            return "no run"
        asked = record.training.epochs_requested
        done = f"{record.training.epochs_run} of {'?' if asked is None else asked}"
        if state == FAILED:
            return f"failed: {record.failure or record.error or 'unknown'}"
        if state in (RUNNING, INTERRUPTED):
            return f"{state} after epoch {done}"
        return f"complete ({done} epochs)"

    def complete_model_path(self) -> Path:
        """The final model of a complete run; `RunError` saying what to do otherwise."""
        complete = self.state() == COMPLETE
        if complete and self.model_path.is_file():
            return self.model_path
        if complete:
            raise ModelNotKeptError(
                f"Run {self.name!r} is complete, but its {MODEL_FILE} is not in {self.path}: "
                f"the run keeps its logs only (a run that backs no headline claim has its model "
                f"removed to keep the repository small; `git log -- {self.model_path}` names "
                f"the commit). Train it again with its notebook to get a model.")
        raise RunError(
            f"No complete run {self.name!r} in {self.logs_dir} ({self.describe_state()}), so "
            f"there is no final model.keras to load. Train it first (`cnn-course run` its "
            f"notebook), or point to the folder that holds it (a clone of the repository has "
            f"the committed runs in logs/).")

    # Writing.
    def write_record(self, record: RunRecord) -> None:
        records.write(self.path, record)

    def mark_failed(self, error: str, failure: str = "error") -> None:
        """Records that the run failed (keeping what it wrote), unless it is already failed."""
        record = self.record() or RunRecord(self.name)
        if record.status == FAILED and record.failure not in (None, failure):
            return  # the more precise cause ("nan", "no validation") the trainer recorded
        self.path.mkdir(parents=True, exist_ok=True)
        self.write_record(record.replace(status=FAILED, failure=failure, error=error))

    def clear(self) -> None:
        """Removes the files of an earlier, unfinished run here (never called on a complete
        run that is not being replaced: callers check `state()`)."""
        for name in RUN_FILES:
            (self.path / name).unlink(missing_ok=True)
        for notebook in self.notebooks():
            notebook.unlink()
        for folder in (self.backup_path, self.tensorboard_path):
            if folder.is_dir():
                shutil.rmtree(folder)
        self.remove_temporaries()

    def discard(self) -> None:
        """Removes the whole folder (a staging folder, or a partial run being restarted)."""
        if self.path.is_dir():
            shutil.rmtree(self.path)

    def remove_temporaries(self) -> None:
        """Deletes the temporary files an atomic write leaves behind when killed mid-write."""
        if self.path.is_dir():
            for temporary in self.path.glob(".*.tmp*"):
                if temporary.is_file():
                    temporary.unlink()

    def remove_backup(self) -> None:
        """Drops the checkpoint: only once the final files are written and the run complete."""
        if self.backup_path.is_dir():
            shutil.rmtree(self.backup_path)

    # The checkpoint.
    def backup_epoch(self) -> int | None:
        """The number of epochs the checkpoint holds; None without one. A damaged or
        inconsistent checkpoint raises `RunError` naming the folder and the way out."""
        if not self.backup_path.is_dir():
            return None
        restart = (f"Delete {self.backup_path} to start this run over (`cnn-course run ... "
                   f"--restart` does it), or restore the missing files.")
        missing = [name for name in (BACKUP_WEIGHTS_FILE, BACKUP_METADATA_FILE)
                   if not (self.backup_path / name).is_file()]
        if len(missing) == 2:  # killed while its first checkpoint was written: none to resume
            return None
        if missing:
            raise RunError(f"The checkpoint of run {self.name!r} is damaged: {self.backup_path} "
                           f"lacks {', '.join(missing)}, so resuming would not continue the "
                           f"training that stopped. {restart}")
        try:
            metadata = json.loads((self.backup_path / BACKUP_METADATA_FILE).read_text("utf-8"))
            epoch = int(metadata["epoch"])
        except (ValueError, KeyError, TypeError) as error:
            raise RunError(f"The checkpoint of run {self.name!r} is damaged: "
                           f"{self.backup_path / BACKUP_METADATA_FILE} is unreadable ({error}). "
                           f"{restart}") from None
        logged = [row["epoch"] for row in self.history()]
        if epoch < 0 or logged[:epoch] != list(range(1, epoch + 1)):
            raise RunError(f"The checkpoint of run {self.name!r} does not match its log: "
                           f"{self.backup_path} holds {epoch} epochs but {HISTORY_FILE} has "
                           f"epochs {logged[:8]}{'...' if len(logged) > 8 else ''}. {restart}")
        return epoch

    # The lock: one process per run.
    def lock_holder(self) -> dict | None:
        """Who holds the lock ({pid, host, ...}); None when free. A lock left by a process of
        this host that has died is removed."""
        try:
            holder = json.loads(self.lock_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            holder = {}
        if holder.get("host") == socket.gethostname() and not _process_alive(holder.get("pid")):
            self.lock_path.unlink(missing_ok=True)
            return None
        return holder

    @contextlib.contextmanager
    def locked(self, command: str = "") -> Iterator[RunDir]:
        """Holds the run's lock; refuses when a live process holds it."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        holder = self.lock_holder()
        if holder is not None and holder.get("pid") != os.getpid():
            raise RunLockedError(
                f"Run {self.name!r} is in use by process {holder.get('pid')} on host "
                f"{holder.get('host')} (since {holder.get('started_at')}). Wait for it to end, "
                f"or choose another run_name. If that process is gone, delete {self.lock_path}."
            )
        if holder is not None:  # this process already holds it (a runner's notebook)
            yield self
            return
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                  "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            handle = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:  # another process took it between the check and now
            raise RunLockedError(f"Run {self.name!r} was just taken by another process; "
                                 f"see {self.lock_path}.") from None
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(record, file)
        try:
            yield self
        finally:
            self.lock_path.unlink(missing_ok=True)

    # Replacing a complete run.
    def recover(self) -> None:
        """Finishes a swap that a crash interrupted (see `promote`)."""
        retired = self.logs_dir / f".{self.name}.replaced"
        if retired.is_dir():
            if not self.path.exists():
                os.replace(retired, self.path)  # the new run never arrived: keep the old one
            else:
                shutil.rmtree(retired)

    # The run rules: each has this one owner, which the runner and `LoggedRun` both ask.
    def training_target(self, overwrite: bool = False) -> RunDir:
        """The folder a new training of this run writes: its own, or its staging folder when
        it replaces a complete run. A complete run is kept unless `overwrite`."""
        if self.state() != COMPLETE:
            return self
        if not overwrite:
            from cnn_course.environment import committed

            yours = (" It is one of this repository's committed runs: train your own into "
                     "another folder (`--logs-dir runs`, git-ignored, as `make run` does; in a "
                     "notebook, `logs_dir = \"../runs\"` in its parameters cell)."
                     if committed(self.summary_path) else "")
            raise RunError(
                f"Run {self.name!r} in {self.logs_dir} is {self.describe_state()}; "
                f"it is kept. Choose another run name (`-p run_name NEW_NAME`), or replace it "
                f"with --overwrite (overwrite=True in Python); the old run stays until the new "
                f"one completes.{yours}"
            )
        return self.staging()

    def check_resume(self, starting: RunRecord) -> int | None:
        """The epoch an interrupted run resumes after (None: nothing to resume). It resumes
        only with the parameters, epochs and model (name, parameter count) it had, as
        `starting` (the record of the training about to start) states them; a damaged
        checkpoint is refused too."""
        epoch = self.backup_epoch()
        if epoch is None:
            return None
        previous = self.record() or RunRecord(self.name)
        restart = ("Run the same command as before to resume, or start over with --restart "
                   "(`cnn-course run ... --restart`).")
        differences = parameter_differences(previous, starting)
        asked, wanted = previous.training.epochs_requested, starting.training.epochs_requested
        if None not in (asked, wanted) and asked != wanted and not any(
                difference.startswith("epochs:") for difference in differences):
            differences.append(f"epochs: {asked!r} -> {wanted!r}")
        if differences:
            raise RunError(f"Run {self.name!r} was interrupted after epoch {epoch} and would "
                           f"resume with other parameters ({'; '.join(differences)}). {restart}")
        before, after = previous.model, starting.model
        if None not in (before.name, after.name) and (
                (before.name, before.params) != (after.name, after.params)):
            raise RunError(f"Run {self.name!r} was interrupted while training model "
                           f"{before.name!r} ({before.params:,} parameters); this model is "
                           f"{after.name!r} ({after.params:,} parameters). {restart}")
        return epoch

    def promote(self, staged: RunDir) -> None:
        """Puts a complete staged run in this run's place; the old run is kept until then."""
        if staged.state() != COMPLETE:
            raise RunError(f"The staged run in {staged.path} is not complete "
                           f"({staged.describe_state()}); {self.path} was left as it was.")
        retired = self.logs_dir / f".{self.name}.replaced"
        if self.path.exists():
            os.replace(self.path, retired)
        os.replace(staged.path, self.path)
        if retired.exists():
            shutil.rmtree(retired)


def _process_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
