"""Where runs live and what they may be called: one rule for every command (`run`, `sweep`,
`results`, `report`, `verify`, notebooks run by hand): `--logs-dir` (or a notebook's
`logs_dir`), else `$CNN_COURSE_LOGS_DIR`, else the project's `logs/`."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cnn_course.runs.errors import RunError

LOGS_ENV_VAR = "CNN_COURSE_LOGS_DIR"
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_RUN_NAME_LENGTH = 100


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


def choose_logs_dir(option: str | os.PathLike | None, parameter: object = None) -> Path:
    """The logs folder from `--logs-dir` or `-p logs_dir` (they must agree), else the default;
    created if missing, and refused with one line when it cannot hold runs."""
    chosen = [Path(value).expanduser().resolve() for value in (option, parameter)
              if value is not None]
    if len(chosen) == 2 and chosen[0] != chosen[1]:
        raise RunError(
            f"--logs-dir {option} and -p logs_dir {parameter} name different folders; give one.")
    path = resolve_logs_dir(chosen[0] if chosen else None)
    if path.exists() and not path.is_dir():
        raise RunError(f"The logs folder {path} is a file; pass --logs-dir with a folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"Cannot create the logs folder {path}: {error.strerror}. Pass "
                       f"--logs-dir with a writable folder.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise RunError(f"The logs folder {path} is not writable; pass --logs-dir with a "
                       f"writable folder.")
    return path


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
