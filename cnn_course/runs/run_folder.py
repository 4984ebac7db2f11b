"""`RunDir`: a run folder's state, lock, checkpoint and staging, and the run rules (a complete
run is kept unless overwrite; a run resumes only unchanged) that every caller asks it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import statistics
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path

from cnn_course.runs.errors import RunError, RunLockedError
from cnn_course.runs.logs_folder import MAX_RUN_NAME_LENGTH, RUN_NAME_PATTERN, check_run_name
from cnn_course.runs.model_history import committed_model
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
    read_history,
    read_summary,
    write_json,
)

RUNNING, INTERRUPTED, FAILED, COMPLETE = "running", "interrupted", "failed", "complete"
STATES = (RUNNING, INTERRUPTED, FAILED, COMPLETE)
# Parameters that say where a run goes, not how it trains: not compared when resuming.
PLACEMENT_PARAMETERS = ("run_name", "logs_dir")


def parameter_differences(before: Mapping, after: Mapping) -> list[str]:
    """'name: before -> after' for each training parameter both runs state with different
    values."""
    return [f"{name}: {before[name]!r} -> {after[name]!r}" for name in sorted(set(before) & set(after))
            if name not in PLACEMENT_PARAMETERS and before[name] != after[name]]


class RunDir:
    """`<logs_dir>/<name>/`: the only code that spells a run file's name or decides a run's
    state. A run is `running` (a live process holds its lock), `interrupted` (stopped before
    the end; resumable from `backup/`), `failed` (the notebook or training raised; the error
    is in the summary) or `complete`.

    Replacing a complete run trains in a staging folder beside it, `<logs_dir>/.<name>.staging/`,
    swapped in only once the new run is complete; the lock is `<logs_dir>/.<name>.lock`.
    """

    def __init__(self, logs_dir: str | os.PathLike, name: str, staging: bool = False):
        self.logs_dir = Path(logs_dir)
        self.name = check_run_name(name)
        self.is_staging = staging
        self.path = self.logs_dir / (f".{name}.staging" if staging else name)

    @classmethod
    def at(cls, path: str | os.PathLike) -> RunDir:
        """The run whose folder is `path` (a run's own folder or a staging folder)."""
        path = Path(path)
        name = path.name
        if name.startswith(".") and name.endswith(".staging"):
            return cls(path.parent, name[1:-len(".staging")], staging=True)
        return cls(path.parent, name)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RunDir) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # Files.
    @property
    def summary_path(self) -> Path:
        return self.path / SUMMARY_FILE

    @property
    def history_path(self) -> Path:
        return self.path / HISTORY_FILE

    @property
    def train_log_path(self) -> Path:
        return self.path / TRAIN_LOG_FILE

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def model_table_path(self) -> Path:
        return self.path / MODEL_TABLE_FILE

    @property
    def curves_path(self) -> Path:
        return self.path / CURVES_FILE

    @property
    def backup_path(self) -> Path:
        return self.path / BACKUP_DIR_NAME

    @property
    def tensorboard_path(self) -> Path:
        return self.path / TENSORBOARD_DIR_NAME

    @property
    def lock_path(self) -> Path:
        return self.logs_dir / f".{self.name}.lock"

    def staging(self) -> RunDir:
        """The folder a replacement of this run trains in."""
        return RunDir(self.logs_dir, self.name, staging=True)

    def notebooks(self) -> list[Path]:
        return sorted(path for path in self.path.glob("*.ipynb") if not path.name.startswith("."))

    # Reading.
    def summary(self) -> dict:
        """The run's summary; {} when it has none yet."""
        return read_summary(self.path) if self.summary_path.is_file() else {}

    def history(self) -> list[dict]:
        return read_history(self.path)

    def exists(self) -> bool:
        return self.summary_path.is_file() or self.backup_path.is_dir()

    def state(self, summary: Mapping | None = None) -> str | None:
        """running, interrupted, failed or complete; None when there is no run here.
        `summary`: the summary already read, so one row of a table reads it once (a run that
        is training rewrites it every epoch, and one reading gives one consistent view)."""
        if not self.exists():
            return None
        status = (self.summary() if summary is None else summary).get("status")
        if status in (COMPLETE, FAILED):
            return status
        return RUNNING if self.lock_holder() is not None else INTERRUPTED

    def describe_state(self, summary: Mapping | None = None) -> str:
        """The state in words, e.g. 'interrupted after epoch 3 of 50' or 'failed: nan'
        (`summary`: as for `state`)."""
        summary = self.summary() if summary is None else summary
        state = self.state(summary)
        if state is None:
            return "no run"
        done = f"{summary.get('epochs_run', 0)} of {summary.get('epochs_requested', '?')}"
        if state == FAILED:
            return f"failed: {summary.get('failure') or summary.get('error') or 'unknown'}"
        if state in (RUNNING, INTERRUPTED):
            return f"{state} after epoch {done}"
        return f"complete ({done} epochs)"

    def seconds_left(self, recent_epochs: int = 5,
                     summary: Mapping | None = None) -> float | None:
        """About how long an unfinished run still needs: its epochs left times the median of
        its last `recent_epochs` epochs in its latest segment (an earlier segment may have run
        on a busier or another machine). None when complete, failed or not yet timed here
        (`summary`: as for `state`)."""
        summary = self.summary() if summary is None else summary
        if self.state(summary) not in (RUNNING, INTERRUPTED):
            return None
        left = (summary.get("epochs_requested") or 0) - (summary.get("epochs_run") or 0)
        segments = summary.get("segments") or [{}]
        first = segments[-1].get("first_epoch") or 1
        times = [row["epoch_seconds"] for row in self.history()
                 if row.get("epoch_seconds") and row.get("epoch", 0) >= first][-recent_epochs:]
        return left * statistics.median(times) if left > 0 and times else None

    def complete_model_path(self) -> Path:
        """The final model of a complete run; `RunError` saying what to do otherwise."""
        complete = self.state() == COMPLETE
        if complete and self.model_path.is_file():
            return self.model_path
        committed = committed_model(self.model_path) if complete else None
        if committed is not None:
            raise RunError(
                f"Run {self.name!r} is complete, but its model.keras is kept in git history, "
                f"not in the tree (so the tree stays small enough to travel). Put it back "
                f"with: {committed.restore_command}")
        raise RunError(
            f"No complete run {self.name!r} in {self.logs_dir} ({self.describe_state()}), so "
            f"there is no final model.keras to load. Train it first (`cnn-course run` its "
            f"notebook), or point to the folder that holds it (a clone of the repository has "
            f"the committed runs in logs/).")

    # Writing.
    def write_summary(self, summary: Mapping) -> None:
        write_json(self.summary_path, summary)

    def mark_failed(self, error: str, failure: str = "error", **extra) -> None:
        """Records that the run failed (keeping what it wrote), unless it is already failed."""
        summary = self.summary() or {"run_name": self.name}
        if summary.get("status") == FAILED and summary.get("failure") == "nan":
            return  # the more precise cause was recorded by the trainer
        self.path.mkdir(parents=True, exist_ok=True)
        self.write_summary({**summary, **extra, "status": FAILED, "failure": failure,
                            "error": error})

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

    # The run rules: each has this one owner, which the runner and `fit_logged` both ask.
    def training_target(self, overwrite: bool = False) -> RunDir:
        """The folder a new training of this run writes: its own, or its staging folder when
        it replaces a complete run. A complete run is kept unless `overwrite`."""
        if self.state() != COMPLETE:
            return self
        if not overwrite:
            raise RunError(
                f"Run {self.name!r} in {self.logs_dir} is complete ({self.describe_state()}); "
                f"it is kept. Choose another run name (`-p run_name NEW_NAME`), or replace it "
                f"with --overwrite (overwrite=True in Python); the old run stays until the new "
                f"one completes."
            )
        return self.staging()

    def check_resume(self, parameters: Mapping, epochs: int | None = None,
                     model: tuple[str, int] | None = None) -> int | None:
        """The epoch an interrupted run resumes after (None: nothing to resume). It resumes
        only with the parameters, epochs and model (name, parameter count) it had; a damaged
        checkpoint is refused too."""
        epoch = self.backup_epoch()
        if epoch is None:
            return None
        previous = self.summary()
        restart = ("Run the same command as before to resume, or start over with --restart "
                   "(`cnn-course run ... --restart`).")
        differences = parameter_differences(previous.get("parameters") or {}, parameters)
        asked = previous.get("epochs_requested")
        if epochs is not None and asked not in (None, epochs) and not any(
                difference.startswith("epochs:") for difference in differences):
            differences.append(f"epochs: {asked!r} -> {epochs!r}")
        if differences:
            raise RunError(f"Run {self.name!r} was interrupted after epoch {epoch} and would "
                           f"resume with other parameters ({'; '.join(differences)}). {restart}")
        before = (previous.get("model_name"), previous.get("params"))
        if model is not None and before != (None, None) and before != tuple(model):
            raise RunError(f"Run {self.name!r} was interrupted while training model "
                           f"{before[0]!r} ({before[1]:,} parameters); this model is "
                           f"{model[0]!r} ({model[1]:,} parameters). {restart}")
        return epoch

    def adopt(self, source: str | os.PathLike, overwrite: bool = False) -> None:
        """Places a complete run folder made elsewhere (a GPU machine, a sweep's worker) here.

        The folder is moved (no copy on one filesystem) into this run's staging folder and
        swapped in like any replacement: a complete run here is kept unless `overwrite`; a
        failed or interrupted one takes the place of what is not complete here; a checkpoint
        that came along is dropped (it belongs to the machine that trained).
        """
        source = Path(source)
        with self.locked(command=f"adopt {source}"):
            self.recover()
            self.training_target(overwrite)  # a complete run here is kept unless overwrite
            staged = self.staging()
            staged.discard()
            staged.path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(staged.path))
            if staged.backup_path.is_dir():
                shutil.rmtree(staged.backup_path)
            staged.remove_temporaries()
            if staged.state() != COMPLETE:  # a failed run comes back as what it is
                if self.path.exists():
                    shutil.rmtree(self.path)
                os.replace(staged.path, self.path)
                return
            self.promote(staged)

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


def list_runs(logs_dir: str | os.PathLike) -> list[RunDir]:
    """Every run under `logs_dir` (any state), by name; staging folders are not listed."""
    logs_dir = Path(logs_dir)
    if not logs_dir.is_dir():
        return []
    runs = []
    for folder in sorted(logs_dir.iterdir()):
        if folder.is_dir() and RUN_NAME_PATTERN.match(folder.name) and len(
                folder.name) <= MAX_RUN_NAME_LENGTH:
            run = RunDir(logs_dir, folder.name)
            if run.exists():
                runs.append(run)
    return runs


def collect_runs(logs_dir: str | os.PathLike) -> list[tuple[Path, dict]]:
    """(run folder, summary) of every run under `logs_dir` that has a summary, sorted by
    dataset then name."""
    return by_dataset_and_name([(run.path, run.summary()) for run in list_runs(logs_dir)])


def by_dataset_and_name(runs: list[tuple[Path, dict]]) -> list[tuple[Path, dict]]:
    """The (run folder, summary) pairs that have a summary, sorted by dataset then name: the
    order every listing of runs shares."""
    runs = [(path, summary) for path, summary in runs if summary]
    return sorted(runs, key=lambda run: (str(run[1].get("dataset")), run[1]["run_name"]))


def complete_runs(logs_dir: str | os.PathLike) -> list[tuple[Path, dict]]:
    """(run folder, summary) of the complete runs: the only runs that are results."""
    return [(run_dir, summary) for run_dir, summary in collect_runs(Path(logs_dir).resolve())
            if summary.get("status") == COMPLETE]


def by_dataset(runs: list[tuple[Path, dict]]) -> dict[str, list[tuple[Path, dict]]]:
    """The runs grouped by their summary's dataset, in the order first seen."""
    groups: dict[str, list[tuple[Path, dict]]] = {}
    for run_dir, summary in runs:
        groups.setdefault(str(summary.get("dataset")), []).append((run_dir, summary))
    return groups


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
