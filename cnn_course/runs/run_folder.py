"""The files of a logged run, read and written without Keras (so `cnn-course report` and
other tools stay light): atomic writes, `history.csv`, `train.log` lines, `summary.json`, and
`RunDir`, the one owner of a run folder's file names, state, lock and checkpoint."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from cnn_course import data

HISTORY_COLUMNS = (
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "epoch_seconds",
)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `path` (same suffix); moves it into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}"
    )
    os.close(handle)
    os.unlink(temporary)  # some writers (Keras) refuse to overwrite
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` so that readers see the old or the new file, never half."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def read_history(run_dir: str | os.PathLike) -> list[dict]:
    """The rows of a run's `history.csv`, numbers parsed; [] when there is none."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {key: (int(value) if key == "epoch" else _number(value)) for key, value in row.items()}
        for row in rows
    ]


def read_summary(run_dir: str | os.PathLike) -> dict:
    """A run's `summary.json`."""
    return json.loads((Path(run_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))


def history_csv(rows: Sequence[Mapping[str, float]]) -> str:
    """The CSV text of history rows: the standard columns first, any extra metrics after."""
    extra = sorted({key for row in rows for key in row} - set(HISTORY_COLUMNS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*HISTORY_COLUMNS, *extra], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _format_number(row.get(key)) for key in writer.fieldnames})
    return buffer.getvalue()


def keras_log_lines(row: Mapping[str, float], epochs: int, steps: int | None) -> str:
    """One epoch as Keras' `fit(verbose=2)` prints it (two lines)."""
    seconds = row.get("epoch_seconds") or 0.0
    parts = [f"{steps}/{steps}" if steps else "-", f"{seconds:.0f}s"]
    if steps:
        parts.append(f"{1000 * seconds / steps:.0f}ms/step")
    metrics = sorted(key for key in row if key not in ("epoch", "epoch_seconds", "learning_rate"))
    for key in [*metrics, "learning_rate"]:
        value = row.get(key)
        if value is None:
            continue  # a metric this epoch does not have (NaN is shown: it is the news)
        parts.append(f"{key}: {value:.4e}" if key == "learning_rate" else f"{key}: {value:.4f}")
    return f"Epoch {row['epoch']}/{epochs}\n" + " - ".join(parts) + "\n"


def summarize_history(rows: Sequence[Mapping[str, float]]) -> dict:
    """Best and final validation accuracy, training time, from history rows."""
    if not rows:
        return {}
    result = {
        "train_time_s": round(sum(row.get("epoch_seconds") or 0.0 for row in rows), 2),
        "mean_epoch_s": round(
            sum(row.get("epoch_seconds") or 0.0 for row in rows) / len(rows), 2
        ),
    }
    scored = [row for row in rows if _finite(row.get("val_accuracy"))]
    if scored:
        best = max(scored, key=lambda row: row["val_accuracy"])
        result.update(
            best_val_accuracy=best["val_accuracy"],
            best_epoch=best["epoch"],
            final_val_accuracy=rows[-1].get("val_accuracy"),
            final_val_loss=rows[-1].get("val_loss"),
        )
    return result


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _number(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def _format_number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


# --- The run folder: one owner for its file names, its state, its lock and its checkpoint. ---

SUMMARY_FILE = "summary.json"
HISTORY_FILE = "history.csv"
TRAIN_LOG_FILE = "train.log"
MODEL_FILE = "model.keras"
MODEL_TABLE_FILE = "model.md"
CURVES_FILE = "curves.png"
# Files a run writes itself; a fresh run removes earlier copies of exactly these.
RUN_FILES = (HISTORY_FILE, TRAIN_LOG_FILE, SUMMARY_FILE, MODEL_FILE, MODEL_TABLE_FILE, CURVES_FILE)
BACKUP_DIR_NAME = "backup"
# What Keras' BackupAndRestore writes into the backup folder after each epoch.
TENSORBOARD_DIR_NAME = "tensorboard"  # event files: `tensorboard --logdir logs/` finds every run
BACKUP_WEIGHTS_FILE = "latest.weights.h5"
BACKUP_METADATA_FILE = "training_metadata.json"

RUNNING, INTERRUPTED, FAILED, COMPLETE = "running", "interrupted", "failed", "complete"
STATES = (RUNNING, INTERRUPTED, FAILED, COMPLETE)
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_RUN_NAME_LENGTH = 100
RUN_CONTEXT_ENV_VAR = "CNN_COURSE_RUN_CONTEXT"
LOGS_ENV_VAR = "CNN_COURSE_LOGS_DIR"
# Parameters that say where a run goes, not how it trains: not compared when resuming.
PLACEMENT_PARAMETERS = ("run_name", "logs_dir")


def resolve_logs_dir(logs_dir: str | os.PathLike | None = None) -> Path:
    """Where runs go: `logs_dir`, else `$CNN_COURSE_LOGS_DIR`, else the project's `logs/`.

    The project's `logs/` is found from the working directory (a notebook runs in
    `notebooks/`); outside the project it is `./logs`.
    """
    if logs_dir is not None:
        return Path(logs_dir).expanduser().resolve()
    if os.environ.get(LOGS_ENV_VAR):
        return Path(os.environ[LOGS_ENV_VAR]).expanduser().resolve()
    from cnn_course.runs.environment import project_root

    root = project_root()
    return (root / "logs") if root else Path("logs").resolve()


def parameter_differences(before: Mapping, after: Mapping) -> list[str]:
    """'name: before -> after' for each training parameter both runs state with different
    values."""
    return [f"{name}: {before[name]!r} -> {after[name]!r}" for name in sorted(set(before) & set(after))
            if name not in PLACEMENT_PARAMETERS and before[name] != after[name]]


class RunError(ValueError):
    """A run folder cannot be used as asked; the message says why and what to do."""


class RunLockedError(RunError):
    """Another live process holds the run."""


def check_run_name(run_name: object) -> str:
    """The run name, if it is a plain folder name of at most `MAX_RUN_NAME_LENGTH` characters."""
    if (not isinstance(run_name, str) or not RUN_NAME_PATTERN.match(run_name)
            or len(run_name) > MAX_RUN_NAME_LENGTH):
        shown = run_name if not isinstance(run_name, str) or len(run_name) <= 40 else (
            f"{run_name[:37]}... ({len(run_name)} characters)")
        raise RunError(
            f"Invalid run name: {shown!r}. Use 1 to {MAX_RUN_NAME_LENGTH} letters, digits, '.', "
            f"'_' and '-', starting with a letter or digit (it becomes a folder name under "
            f"logs/), e.g. 'mnist_net-seed1'."
        )
    return run_name


def write_json(path: str | os.PathLike, data: Mapping) -> None:
    """Strict JSON, atomically: NaN and infinities become null and their keys are listed under
    `non_finite`, so every JSON parser reads the file and nothing is hidden."""
    non_finite: list[str] = []

    def clean(value, key):
        if isinstance(value, float) and not math.isfinite(value):
            non_finite.append(key)
            return None
        if isinstance(value, Mapping):
            return {name: clean(item, f"{key}.{name}" if key else name)
                    for name, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(item, f"{key}[{index}]") for index, item in enumerate(value)]
        return value

    cleaned = clean({name: item for name, item in data.items() if name != "non_finite"}, "")
    if non_finite:
        cleaned["non_finite"] = non_finite
    atomic_write_text(path, json.dumps(cleaned, indent=2, allow_nan=False) + "\n")


@dataclasses.dataclass(frozen=True)
class RunContext:
    """What the runner hands a notebook's kernel (one channel: an environment variable): the
    run's name, the folder to write (the run's own, or its staging folder when a complete run
    is being replaced), the notebook, and every checked parameter with defaults merged."""

    run_name: str
    run_dir: str
    notebook: str
    parameters: dict
    logs_dir: str

    def to_environment(self) -> dict[str, str]:
        return {RUN_CONTEXT_ENV_VAR: json.dumps(dataclasses.asdict(self))}

    @classmethod
    def from_environment(cls) -> RunContext | None:
        text = os.environ.get(RUN_CONTEXT_ENV_VAR)
        return cls(**json.loads(text)) if text else None


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

    def state(self) -> str | None:
        """running, interrupted, failed or complete; None when there is no run here."""
        if not self.exists():
            return None
        status = self.summary().get("status")
        if status in (COMPLETE, FAILED):
            return status
        return RUNNING if self.lock_holder() is not None else INTERRUPTED

    def describe_state(self) -> str:
        """The state in words, e.g. 'interrupted after epoch 3 of 50' or 'failed: nan'."""
        state, summary = self.state(), self.summary()
        if state is None:
            return "no run"
        done = f"{summary.get('epochs_run', 0)} of {summary.get('epochs_requested', '?')}"
        if state == FAILED:
            return f"failed: {summary.get('failure') or summary.get('error') or 'unknown'}"
        if state in (RUNNING, INTERRUPTED):
            return f"{state} after epoch {done}"
        return f"complete ({done} epochs)"

    def complete_model_path(self) -> Path:
        """The final model of a complete run; `RunError` saying what to do otherwise."""
        if self.state() != COMPLETE or not self.model_path.is_file():
            raise RunError(
                f"No complete run {self.name!r} in {self.logs_dir} ({self.describe_state()}), so "
                f"there is no final model.keras to load. Train it first (`cnn-course run` its "
                f"notebook), or point to the folder that holds it (a clone of the repository "
                f"has the committed runs in logs/).")
        return self.model_path

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


# --- Training arguments: one rule per name, asked by the runner (before a kernel starts) and by
# fit_logged (for notebooks run by hand). ---

ARGUMENT_RULES: dict[str, tuple[object, str]] = {
    "epochs": (lambda value: value >= 1, "at least 1"),
    "batch_size": (lambda value: value >= 1, "at least 1"),
    "seed": (lambda value: 0 <= value < 2**32, "between 0 and 2**32 - 1"),
    "learning_rate": (lambda value: value > 0, "greater than 0"),
    "max_learning_rate": (lambda value: value > 0, "greater than 0"),
    "weight_decay": (lambda value: value >= 0, "at least 0"),
    "dropout": (lambda value: 0 <= value < 1, "in [0, 1)"),
    "label_smoothing": (lambda value: 0 <= value < 1, "in [0, 1)"),
    "steps_per_execution": (lambda value: value >= 1, "at least 1"),
}

# Parameters that take one of a few names.
ARGUMENT_CHOICES: dict[str, tuple[str, ...]] = {
    "validation": data.VALIDATION_SETS,
    # Keras dtype policies: float32, or mixed precision (bf16 on GPUs and TPUs; float16 with
    # loss scaling, which Keras adds by itself). The class scores stay float32 (models' last layer).
    "precision": ("float32", "mixed_bfloat16", "mixed_float16"),
}


def check_argument(name: str, value: object) -> None:
    """Raises `RunError` when `value` breaks the rule for `name` (names without a rule, and
    None meaning "the default", pass)."""
    if name == "run_name" and value is not None:
        check_run_name(value)
        return
    if name in ARGUMENT_CHOICES and value is not None:
        if value not in ARGUMENT_CHOICES[name]:
            raise RunError(f"{name} must be one of {list(ARGUMENT_CHOICES[name])}; "
                           f"received {value!r}.")
        return
    if name not in ARGUMENT_RULES or value is None or isinstance(value, bool):
        return
    rule, words = ARGUMENT_RULES[name]
    if not isinstance(value, (int, float)) or not rule(value):
        raise RunError(f"{name} must be {words}; received {value!r}.")
