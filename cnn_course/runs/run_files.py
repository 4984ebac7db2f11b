"""A run's files and their formats, read and written without Keras (so `cnn-course results`
and other tools stay light): what a run may be called (its folder's name), the file names,
atomic writes, `history.csv` and the Keras-style lines of `train.log`. `record` owns
`summary.json`; `run_folder.RunDir` decides what a folder of these files means."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from cnn_course.runs.errors import RunError

RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_RUN_NAME_LENGTH = 100
SUMMARY_FILE = "summary.json"
HISTORY_FILE = "history.csv"
TRAIN_LOG_FILE = "train.log"
MODEL_FILE = "model.keras"
MODEL_TABLE_FILE = "model.md"
CURVES_FILE = "curves.png"
# Files a run writes itself; a fresh run removes earlier copies of exactly these.
RUN_FILES = (HISTORY_FILE, TRAIN_LOG_FILE, SUMMARY_FILE, MODEL_FILE, MODEL_TABLE_FILE, CURVES_FILE)
BACKUP_DIR_NAME = "backup"
TENSORBOARD_DIR_NAME = "tensorboard"  # event files: `tensorboard --logdir logs/` finds every run
# What Keras' BackupAndRestore writes into the backup folder after each epoch.
BACKUP_WEIGHTS_FILE = "latest.weights.h5"
BACKUP_METADATA_FILE = "training_metadata.json"

HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                   "epoch_seconds")


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
    try:
        return [{key: (int(value) if key == "epoch" else _number(value))
                 for key, value in row.items()} for row in rows]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} holds a value that is not a number ({error}). "
                         f"{restore_advice(path)}") from None


def restore_advice(path: Path) -> str:
    """What to do with a run file that cannot be read: said for a summary and a history alike."""
    return (f"Restore it (`git checkout -- {path}` for a committed run) or move the run folder "
            f"out of the logs folder.")


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
    seconds = [row.get("epoch_seconds") or 0.0 for row in rows]
    result = {"train_time_s": round(sum(seconds), 2),
              "mean_epoch_s": round(sum(seconds) / len(seconds), 2)}
    scored = [row for row in rows if _finite(row.get("val_accuracy"))]
    if scored:
        best = max(scored, key=lambda row: row["val_accuracy"])
        result.update(best_val_accuracy=best["val_accuracy"], best_epoch=best["epoch"],
                      final_val_accuracy=rows[-1].get("val_accuracy"),
                      final_val_loss=rows[-1].get("val_loss"))
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
