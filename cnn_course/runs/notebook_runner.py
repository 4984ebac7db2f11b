"""Executes a course notebook with papermill into its run's folder under logs/.

Every check comes before a kernel starts: the notebook must have exactly one
`parameters`-tagged cell of literals; every parameter passed must be one of its names, of the
type of its default (or of its annotation, `dropout: float | None = None`) and within its rule
(`run_folder.ARGUMENT_RULES`: epochs >= 1, ...); the logs folder must be a writable folder; a
complete run is kept unless `overwrite`; an interrupted run resumes only with the parameters
it had, from an intact checkpoint. The run's lock is held while the kernel runs.

The kernel receives the run's context (name, folder, notebook, every parameter with defaults
merged) through one channel, `run_folder.RunContext`, and `training_log.fit_logged` records it. The
executed notebook is written to a temporary file and moved into the run folder at the end, so a
complete run's notebook is never half-written or replaced by a failed run's.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import logging
import os
import tokenize
from collections.abc import Iterator, Mapping
from pathlib import Path

import nbformat

from cnn_course.runs.run_folder import (
    RunContext,
    RunDir,
    RunError,
    check_argument,
    resolve_logs_dir,
)

DEFAULT_TIMEOUT_S = 4 * 60 * 60  # per cell: a 50-epoch CPU run fits, a hung kernel does not
KERNEL_NAME = "python3"
# Types a parameter annotation may name (a parameters cell holds literals only).
ANNOTATION_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list,
                    "dict": dict, "None": type(None)}
# Set in the kernel's environment: TensorFlow's C++ start-up lines stay out of outputs.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
# The kernel's own start-up warnings (a local kernel "running over TCP without encryption") are
# silenced, and its C++ libraries' output (TensorFlow's absl lines, which no environment
# variable stops: tensorflow#100442) is kept out of cell outputs: it goes to the kernel's
# stderr, which the runner points at a log file beside the run.
QUIET_KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR", "--IPKernelApp.capture_fd_output=False"]


class NotebookError(ValueError):
    """The file is not a notebook the runner can execute."""


class NotebookParameterError(ValueError):
    """A parameter passed to a notebook is unknown, of the wrong type or out of range."""


class RunFailedError(RuntimeError):
    """The notebook raised; the run is recorded as failed and its executed notebook kept."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One line of a parameters cell: `name[: annotation] = default  # comment`."""

    name: str
    default: object
    types: tuple[type, ...] | None  # None: any type (a None default without annotation)
    comment: str = ""

    @property
    def type_name(self) -> str:
        if self.types is None:
            return "any"
        return " | ".join("None" if kind is type(None) else kind.__name__ for kind in self.types)


def read_notebook(notebook_path: str | os.PathLike) -> nbformat.NotebookNode:
    """The notebook at `notebook_path`; `NotebookError` (one line) when it is not one."""
    path = Path(notebook_path)
    if not path.is_file():
        raise NotebookError(f"Notebook not found: {path}")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises JSON, schema and key errors
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise NotebookError(f"{path} is not a Jupyter notebook ({type(error).__name__}"
                            f"{': ' + reason if reason else ''}).") from None


def parameters_cell(notebook_path: str | os.PathLike) -> nbformat.NotebookNode:
    """The notebook's single `parameters`-tagged cell."""
    notebook = read_notebook(notebook_path)
    tagged = [
        cell for cell in notebook.cells if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise NotebookError(
            f"Notebook {notebook_path} has {len(tagged)} cells tagged 'parameters'; expected "
            f"exactly 1 (papermill injects the new values after it)."
        )
    return tagged[0]


def notebook_parameter_specs(notebook_path: str | os.PathLike) -> dict[str, Parameter]:
    """Name → `Parameter` of the parameters cell, which must hold `name = literal` lines
    (optionally annotated: `dropout: float | None = None`), each with an optional comment."""
    source = parameters_cell(notebook_path).source
    comments = _line_comments(source)
    specs: dict[str, Parameter] = {}
    for statement in ast.parse(source).body:
        targets = (
            statement.targets if isinstance(statement, ast.Assign)
            else [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value
            else []
        )
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise NotebookError(
                f"Notebook {notebook_path}: the parameters cell must hold only `name = literal` "
                f"lines; found: {ast.unparse(statement)!r}"
            )
        name = targets[0].id
        try:
            default = ast.literal_eval(statement.value)
        except ValueError:
            raise NotebookError(
                f"Notebook {notebook_path}: parameter {name!r} must be a literal; found "
                f"{ast.unparse(statement.value)!r}. Derive values in the next cell."
            ) from None
        if isinstance(statement, ast.AnnAssign):
            types = _annotation_types(statement.annotation, name, notebook_path)
        else:
            types = None if default is None else (type(default),)
        specs[name] = Parameter(name, default, types, comments.get(statement.lineno, ""))
    return specs


def notebook_parameters(notebook_path: str | os.PathLike) -> dict[str, object]:
    """Name → default value of the notebook's parameters cell."""
    return {name: spec.default for name, spec in notebook_parameter_specs(notebook_path).items()}


def _line_comments(source: str) -> dict[int, str]:
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    return comments


def _annotation_types(annotation: ast.expr, name: str, notebook_path) -> tuple[type, ...]:
    parts = []
    while isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        parts.append(annotation.right)
        annotation = annotation.left
    parts.append(annotation)
    names = [ast.unparse(part) for part in reversed(parts)]
    unknown = [part for part in names if part not in ANNOTATION_TYPES]
    if unknown:
        raise NotebookError(
            f"Notebook {notebook_path}: parameter {name!r} is annotated with {unknown}; use "
            f"{', '.join(ANNOTATION_TYPES)} joined by '|'."
        )
    return tuple(ANNOTATION_TYPES[part] for part in names)


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
    specs: Mapping[str, Parameter] | None = None,
) -> dict[str, object]:
    """Validates names, types and ranges against the parameters cell; returns the checked
    values. An int is accepted where a float is expected, and a string that reads as a number
    where a number is (YAML reads `1e-3` as a string)."""
    specs = notebook_parameter_specs(notebook_path) if specs is None else specs
    unknown = sorted(set(parameters) - set(specs))
    if unknown:
        valid = ", ".join(f"{name}={spec.default!r}" for name, spec in specs.items())
        raise NotebookParameterError(
            f"Unknown parameter{'s' if len(unknown) > 1 else ''} {unknown} for notebook "
            f"{Path(notebook_path).name}. Valid parameters (with defaults): {valid}"
        )
    checked = {}
    for name, value in parameters.items():
        checked[name] = _coerce(specs[name], value, notebook_path)
        try:
            check_argument(name, checked[name])
        except RunError as error:
            raise NotebookParameterError(
                f"Parameter {name!r} of notebook {Path(notebook_path).name}: {error}") from None
    if "model_variant" in checked and "model_variant" in specs:
        check_model_variant(checked["model_variant"], specs["model_variant"].default,
                            notebook_path)
    return checked


def check_model_variant(name: object, default: object, notebook_path) -> None:
    """A notebook's `model_variant` must be a registered model built for the notebook's
    dataset (the dataset of its default model). Imports Keras, so only when one is named."""
    from cnn_course.runs import environment

    with environment.native_stderr_silenced():
        from cnn_course import models

    if not isinstance(default, str) or default not in models.MODELS:
        return
    dataset = models.dataset_of(default)
    fitting = sorted(model for model in models.MODELS if models.dataset_of(model) == dataset)
    where = f"Parameter 'model_variant' of notebook {Path(notebook_path).name}"
    if name not in models.MODELS:
        raise NotebookParameterError(
            f"{where}: unknown model {name!r}. Models for its dataset ({dataset}): {fitting}.")
    if models.dataset_of(name) != dataset:
        raise NotebookParameterError(
            f"{where}: {name!r} is built for {models.dataset_of(name)}, but the notebook "
            f"trains on {dataset}. Models for {dataset}: {fitting}.")


def _coerce(spec: Parameter, value: object, notebook_path) -> object:
    if spec.types is None:
        return value
    if isinstance(value, str) and str not in spec.types and (
            {int, float} & set(spec.types)):
        value = parse_value(value)  # '1e-3' from YAML, '5' from a file of strings
    for expected in spec.types:
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if expected is str and spec.types == (str,) and isinstance(value, (int, float)) and (
                not isinstance(value, bool)):
            return str(value)
        if isinstance(value, expected) and (expected is bool) == isinstance(value, bool):
            return value
    raise NotebookParameterError(
        f"Parameter {spec.name!r} of notebook {Path(notebook_path).name} expects a value of type "
        f"{spec.type_name} (default {spec.default!r}); received {value!r} of type "
        f"{type(value).__name__}."
    )


def choose_logs_dir(option: str | os.PathLike | None, parameter: object) -> Path:
    """The logs folder from `--logs-dir` or `-p logs_dir` (they must agree), else the default;
    created if missing, and refused with one line when it cannot hold runs."""
    chosen = [Path(value).expanduser().resolve() for value in (option, parameter)
              if value is not None]
    if len(chosen) == 2 and chosen[0] != chosen[1]:
        raise NotebookParameterError(
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


@dataclasses.dataclass(frozen=True)
class PreparedRun:
    """A run whose inputs passed every check: what the kernel will receive."""

    notebook: Path
    run: RunDir
    target: RunDir  # the run's folder, or its staging folder when replacing a complete run
    parameters: dict  # the checked values passed to papermill
    context: RunContext

    @property
    def output_path(self) -> Path:
        return self.target.path / self.notebook.name


def prepare_run(
    notebook_path: str | os.PathLike,
    parameters: Mapping[str, object] | None = None,
    *,
    logs_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    restart: bool = False,
) -> PreparedRun:
    """Every check a run needs before a kernel starts (see the module's docstring). Changes
    nothing on disk but the logs folder's creation; `restart` skips the checkpoint's checks
    (the runner deletes it under the run's lock)."""
    notebook_path = Path(notebook_path).resolve()
    specs = notebook_parameter_specs(notebook_path)
    checked = check_parameters(notebook_path, dict(parameters or {}), specs)
    merged = {name: spec.default for name, spec in specs.items()} | checked
    logs_path = choose_logs_dir(logs_dir, checked.get("logs_dir"))
    if "logs_dir" in specs:
        checked["logs_dir"] = merged["logs_dir"] = str(logs_path)
    run = RunDir(logs_path, str(merged.get("run_name") or notebook_path.stem))
    target = run.training_target(overwrite) if "run_name" in specs else run
    if not restart:
        target.check_resume(merged)  # a damaged checkpoint or other parameters stop here
    context = RunContext(run_name=run.name, run_dir=str(target.path), notebook=notebook_path.name,
                         parameters=merged, logs_dir=str(logs_path))
    return PreparedRun(notebook_path, run, target, checked, context)


def run_notebook(
    notebook_path: str | os.PathLike,
    parameters: Mapping[str, object] | None = None,
    *,
    logs_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    restart: bool = False,
    timeout_s: int | None = DEFAULT_TIMEOUT_S,
    kernel_name: str = KERNEL_NAME,
    log_output: bool = True,
    verbose: bool = False,
) -> Path:
    """Executes `notebook_path` with `parameters`; returns the executed notebook's path.

    Unless `verbose`, what the kernel's libraries print outside Python (TensorFlow's start-up
    lines) goes to `<logs_dir>/.<run_name>.kernel.log`, not to the console or the notebook.

    The run's name is the notebook's `run_name` parameter (passed or default). A failing cell
    raises `RunFailedError` naming the cell as papermill's progress numbers it; the run is
    recorded as failed and its executed notebook kept in its folder (a complete run that was
    being replaced stays untouched).
    """
    import papermill
    import papermill.exceptions

    _quiet_papermill_parameter_warnings()
    prepared = prepare_run(notebook_path, parameters, logs_dir=logs_dir, overwrite=overwrite,
                           restart=restart)  # bad input stops here, before the lock
    with prepared.run.locked(command=f"cnn-course run {prepared.notebook.name}"):
        prepared.run.recover()
        prepared = prepare_run(notebook_path, parameters, logs_dir=logs_dir,
                               overwrite=overwrite, restart=restart)  # the state may have moved
        target = prepared.target
        if restart:
            target.discard() if target.is_staging else target.clear()
        target.path.mkdir(parents=True, exist_ok=True)
        temporary = prepared.run.logs_dir / f".{prepared.run.name}.tmp.ipynb"
        kernel_log = prepared.run.logs_dir / f".{prepared.run.name}.kernel.log"
        try:
            with _environment({**QUIET_ENVIRONMENT, **prepared.context.to_environment()}), (
                    contextlib.nullcontext() if verbose else _stderr_to(kernel_log)):
                papermill.execute_notebook(
                    str(prepared.notebook),
                    str(temporary),
                    parameters=prepared.parameters,
                    kernel_name=kernel_name,
                    cwd=str(prepared.notebook.parent),
                    execution_timeout=timeout_s,
                    request_save_on_cell_execute=True,
                    log_output=log_output,
                    progress_bar=False,
                    extra_arguments=[] if verbose else QUIET_KERNEL_ARGUMENTS,
                )
        except papermill.exceptions.PapermillExecutionError as error:
            _keep(temporary, prepared.output_path)
            message = f"cell {error.cell_index + 1}: {error.ename}: {error.evalue}"
            target.mark_failed(message)  # it ran and failed: recorded, whatever cell raised
            raise RunFailedError(
                f"the notebook failed in {message}. The executed notebook is "
                f"{prepared.output_path}.") from None
        except Exception as error:
            _keep(temporary, prepared.output_path)
            if type(error).__name__ != "DeadKernelError":
                raise
            raise RunFailedError(
                f"the notebook's kernel died ({' '.join(str(error).split())[:120]}); it was "
                f"not a Python error. Its last messages are in {kernel_log}. The run is "
                f"interrupted: run the same command again to resume.") from None
        except BaseException:
            _keep(temporary, prepared.output_path)  # interrupted: resumable, notebook kept
            raise
        _keep(temporary, prepared.output_path)
        if target.is_staging:
            prepared.run.promote(target)
    return prepared.run.path / prepared.notebook.name


def _quiet_papermill_parameter_warnings() -> None:
    """papermill warns about parameters its regex cannot read (annotated ones, such as
    `dropout: float | None = None`); `check_parameters` has already checked them all."""
    logger = logging.getLogger("papermill")
    if not any(isinstance(item, _ParameterWarningFilter) for item in logger.filters):
        logger.addFilter(_ParameterWarningFilter())


class _ParameterWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Passed unknown parameter")


def _keep(temporary: Path, destination: Path) -> None:
    """Moves the executed notebook into the run folder (one rename: never half a file)."""
    if temporary.is_file():
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, destination)


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Points this process's file descriptor 2 at `path` (children, such as the kernel, inherit
    it), and back afterwards."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Sets environment variables (which the kernel inherits) and restores them afterwards."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
