"""The logs folder: where runs live, by one rule for every command (`run`, `sweep`, `results`,
`report`, `verify`, notebooks run by hand: `--logs-dir` or a notebook's `logs_dir`, else
`$CNN_COURSE_LOGS_DIR`, else the project's `logs/`), and its runs, loaded once per command
(`load`): the one view that the results, the report, the selection and the sweep ask."""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

from cnn_course.runs.errors import RunError
from cnn_course.runs.record import RunRecord, UnreadableRecordError
from cnn_course.runs.run_files import MAX_RUN_NAME_LENGTH, RUN_NAME_PATTERN
from cnn_course.runs.run_folder import RunDir

LOGS_ENV_VAR = "CNN_COURSE_LOGS_DIR"


def resolve_logs_dir(logs_dir: str | os.PathLike | None = None) -> Path:
    """Where runs go: `logs_dir`, else `$CNN_COURSE_LOGS_DIR`, else the project's `logs/`.

    The project's `logs/` is found from the working directory (a notebook runs in
    `notebooks/`); outside the project it is `./logs`.
    """
    if logs_dir is not None:
        return Path(logs_dir).expanduser().resolve()
    if os.environ.get(LOGS_ENV_VAR):
        return Path(os.environ[LOGS_ENV_VAR]).expanduser().resolve()
    from cnn_course.environment import project_root

    root = project_root()
    return (root / "logs") if root else Path("logs").resolve()


def _not_a_file(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise RunError(f"The logs folder {path} is a file; pass --logs-dir with a folder.")
    return path


def choose_logs_dir(option: str | os.PathLike | None, parameter: object = None) -> Path:
    """The logs folder from `--logs-dir` or `-p logs_dir` (they must agree), else the default;
    created if missing, and refused with one line when it cannot hold runs."""
    chosen = [Path(value).expanduser().resolve() for value in (option, parameter)
              if value is not None]
    if len(chosen) == 2 and chosen[0] != chosen[1]:
        raise RunError(
            f"--logs-dir {option} and -p logs_dir {parameter} name different folders; give one.")
    path = _not_a_file(resolve_logs_dir(chosen[0] if chosen else None))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"Cannot create the logs folder {path}: {error.strerror}. Pass "
                       f"--logs-dir with a writable folder.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise RunError(f"The logs folder {path} is not writable; pass --logs-dir with a "
                       f"writable folder.")
    return path


@dataclasses.dataclass(frozen=True, eq=False)
class Run:
    """One run as a command sees it: its folder, its record and its state, read once."""

    folder: RunDir
    record: RunRecord
    state: str

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def path(self) -> Path:
        return self.folder.path

    @property
    def complete(self) -> bool:
        return self.record.complete

    @functools.cached_property
    def history(self) -> list[dict]:
        return self.folder.history()


@dataclasses.dataclass(frozen=True)
class LoggedRuns:
    """Every run of a logs folder, by dataset then name, and the files that could not be read
    (name -> what is wrong and what to do): those are named, and the others still listed."""

    logs_dir: Path
    runs: tuple[Run, ...]
    unreadable: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def complete(self) -> list[Run]:
        """The complete runs: the only runs that are results."""
        return [run for run in self.runs if run.complete]

    def by_dataset(self, runs: list[Run] | None = None) -> dict[str, list[Run]]:
        """`runs` (default: the complete ones) grouped by dataset, in order."""
        groups: dict[str, list[Run]] = {}
        for run in self.complete if runs is None else runs:
            groups.setdefault(str(run.record.data.dataset), []).append(run)
        return groups


def load(logs_dir: str | os.PathLike | None = None) -> LoggedRuns:
    """The runs of `logs_dir` (by the one rule), each record read once; staging folders and
    folders that hold no run are not listed."""
    logs_dir = _not_a_file(resolve_logs_dir(logs_dir))
    runs, unreadable = [], {}
    folders = sorted(logs_dir.iterdir()) if logs_dir.is_dir() else []
    for folder in folders:
        if not (folder.is_dir() and RUN_NAME_PATTERN.match(folder.name)
                and len(folder.name) <= MAX_RUN_NAME_LENGTH):
            continue
        run_dir = RunDir(logs_dir, folder.name)
        if not run_dir.exists():
            continue
        try:
            record = run_dir.record() or RunRecord(folder.name)
        except UnreadableRecordError as error:
            unreadable[folder.name] = str(error)
            continue
        runs.append(Run(run_dir, record, run_dir.state(record)))
    runs.sort(key=lambda run: (str(run.record.data.dataset), run.name))
    return LoggedRuns(logs_dir, tuple(runs), unreadable)
