"""Executes a course notebook with papermill into its run's folder under logs/.

Checks come before any kernel starts: the notebook must have exactly one `parameters`-tagged
cell of literals, every parameter passed must be one of its names, and each value must have
the type of that parameter's default. The executed notebook lands in
`<logs_dir>/<run_name>/<notebook name>`, beside the files the run logger writes.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from pathlib import Path

import nbformat

from cnn_course import runlog

DEFAULT_TIMEOUT_S = 4 * 60 * 60  # per cell: a 50-epoch CPU run fits, a hung kernel does not
KERNEL_NAME = "python3"


class NotebookParameterError(ValueError):
    """A parameter passed to a notebook is unknown or has the wrong type."""


def parameters_cell(notebook_path: str | os.PathLike) -> nbformat.NotebookNode:
    """The notebook's single `parameters`-tagged cell."""
    notebook = nbformat.read(str(notebook_path), as_version=4)
    tagged = [
        cell for cell in notebook.cells if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise ValueError(
            f"Notebook {notebook_path} has {len(tagged)} cells tagged 'parameters'; expected "
            f"exactly 1 (papermill injects the new values after it)."
        )
    return tagged[0]


def notebook_parameters(notebook_path: str | os.PathLike) -> dict[str, object]:
    """Name → default value of the parameters cell, which must hold `name = literal` lines."""
    cell = parameters_cell(notebook_path)
    defaults: dict[str, object] = {}
    for statement in ast.parse(cell.source).body:
        targets = (
            statement.targets if isinstance(statement, ast.Assign)
            else [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value
            else []
        )
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise ValueError(
                f"Notebook {notebook_path}: the parameters cell must hold only `name = literal` "
                f"lines; found: {ast.unparse(statement)!r}"
            )
        target = targets[0]
        try:
            defaults[target.id] = ast.literal_eval(statement.value)
        except ValueError as error:
            raise ValueError(
                f"Notebook {notebook_path}: parameter {target.id!r} must be a literal; found "
                f"{ast.unparse(statement.value)!r}. Derive values in the next cell."
            ) from error
    return defaults


def parse_value(text: str) -> object:
    """A command-line value as Python: numbers, True/False/None, lists, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    return text


def check_parameters(
    notebook_path: str | os.PathLike,
    parameters: Mapping[str, object],
    defaults: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Validates names and types against the notebook's defaults; returns the checked values.

    An int is accepted where a float is expected; a parameter whose default is None accepts
    anything. `defaults` saves re-reading the notebook when the caller has them.
    """
    defaults = notebook_parameters(notebook_path) if defaults is None else defaults
    unknown = sorted(set(parameters) - set(defaults))
    if unknown:
        valid = ", ".join(f"{name}={value!r}" for name, value in defaults.items())
        raise NotebookParameterError(
            f"Unknown parameter{'s' if len(unknown) > 1 else ''} {unknown} for notebook "
            f"{Path(notebook_path).name}. Valid parameters (with defaults): {valid}"
        )
    checked = {}
    for name, value in parameters.items():
        default = defaults[name]
        checked[name] = _coerce(name, value, default, notebook_path)
    return checked


def _coerce(name: str, value: object, default: object, notebook_path) -> object:
    if default is None or value is None:
        return value
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is str and not isinstance(value, str):
        return str(value)
    if isinstance(value, expected) and (expected is bool) == isinstance(value, bool):
        return value
    raise NotebookParameterError(
        f"Parameter {name!r} of notebook {Path(notebook_path).name} expects a value of type "
        f"{expected.__name__} (default {default!r}); received {value!r} of type "
        f"{type(value).__name__}."
    )


def run_notebook(
    notebook_path: str | os.PathLike,
    parameters: Mapping[str, object] | None = None,
    *,
    logs_dir: str | os.PathLike | None = None,
    timeout_s: int | None = DEFAULT_TIMEOUT_S,
    kernel_name: str = KERNEL_NAME,
    log_output: bool = True,
) -> Path:
    """Executes `notebook_path` with `parameters`; returns the executed notebook's path.

    The run's name is the notebook's `run_name` parameter (passed or default); the executed
    notebook is saved after every cell into `<logs_dir>/<run_name>/`. A failing cell raises
    papermill's `PapermillExecutionError`; the executed notebook shows where.
    """
    import papermill

    notebook_path = Path(notebook_path).resolve()
    if not notebook_path.is_file():
        raise FileNotFoundError(f"Notebook not found: {notebook_path}")
    defaults = notebook_parameters(notebook_path)
    checked = check_parameters(notebook_path, dict(parameters or {}), defaults)
    run_name = checked.get("run_name", defaults.get("run_name")) or notebook_path.stem
    logs_path = runlog.resolve_logs_dir(logs_dir)
    if "logs_dir" in defaults:
        checked["logs_dir"] = str(logs_path)
    run_dir = runlog.run_directory(str(run_name), logs_path)
    run_dir.mkdir(parents=True, exist_ok=True)
    output_path = run_dir / notebook_path.name
    previous = os.environ.get(runlog.NOTEBOOK_ENV_VAR)
    os.environ[runlog.NOTEBOOK_ENV_VAR] = notebook_path.name
    try:
        papermill.execute_notebook(
            str(notebook_path),
            str(output_path),
            parameters=checked,
            kernel_name=kernel_name,
            cwd=str(notebook_path.parent),
            execution_timeout=timeout_s,
            request_save_on_cell_execute=True,
            log_output=log_output,
            progress_bar=False,
        )
    finally:
        if previous is None:
            os.environ.pop(runlog.NOTEBOOK_ENV_VAR, None)
        else:
            os.environ[runlog.NOTEBOOK_ENV_VAR] = previous
    return output_path
