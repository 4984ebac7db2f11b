"""Executes a course notebook with papermill into its run's folder under logs/.

Every check comes before a kernel starts: the parameters (`parameters.check_parameters`: names,
types, rules) and the logs folder (`logs_folder.choose_logs_dir`) once, then, under the run's
lock, the run rules that `RunDir` owns (a complete run is kept unless `overwrite`; an
interrupted run resumes only unchanged, from an intact checkpoint). The lock is held while the
kernel runs.

The kernel receives the run's context (name, folder, notebook, every parameter with defaults
merged) through one channel, `run_context.RunContext`, and `training_log.LoggedRun` records it. The
executed notebook is written to a temporary file and moved into the run folder at the end, so a
complete run's notebook is never half-written or replaced by a failed run's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from cnn_course.environment import fast_cpu_environment, stderr_to
from cnn_course.runs.logs_folder import choose_logs_dir
from cnn_course.notebooks import parameter_specs
from cnn_course.runs.parameters import check_parameters
from cnn_course.runs.run_context import RunContext
from cnn_course.runs.record import new_record
from cnn_course.runs.run_folder import RunDir

DEFAULT_TIMEOUT_S = 4 * 60 * 60  # per cell: a 50-epoch CPU run fits, a hung kernel does not
KERNEL_NAME = "python3"
# Set in the kernel's environment: TensorFlow's C++ start-up lines stay out of outputs.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
# The kernel's own start-up warnings (a local kernel "running over TCP without encryption") are
# silenced, and its C++ libraries' output (TensorFlow's absl lines, which no environment
# variable stops: tensorflow#100442) is kept out of cell outputs: it goes to the kernel's
# stderr, which the runner points at a log file beside the run.
QUIET_KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR", "--IPKernelApp.capture_fd_output=False"]
# A long run keeps the code it started with to its last cell: its kernel imports the whole
# package before the first cell (`environment.import_whole_package`).
KERNEL_ARGUMENTS = ["--IPKernelApp.exec_lines=import cnn_course.environment; "
                    "cnn_course.environment.import_whole_package()"]


class RunFailedError(RuntimeError):
    """The notebook raised; the run is recorded as failed and its executed notebook kept."""


@dataclasses.dataclass(frozen=True)
class CheckedInputs:
    """A run's input after the checks that need no run state: the notebook, its checked
    parameters (what papermill receives), every parameter with defaults merged, and the run."""

    notebook: Path
    parameters: dict
    merged: dict
    run: RunDir
    trains: bool  # the notebook has a `run_name`: it trains a run (the run rules apply)

    def prepare(self, overwrite: bool = False, restart: bool = False) -> PreparedRun:
        """Asks `RunDir` its run rules: the folder to write (a complete run is kept unless
        `overwrite`) and whether an interrupted run may resume (`restart` skips that check:
        the runner deletes the checkpoint under the run's lock)."""
        target = self.run.training_target(overwrite) if self.trains else self.run
        if not restart:
            target.check_resume(new_record(self.run.name, self.merged))  # a damaged checkpoint or other parameters stop here
        context = RunContext(run_name=self.run.name, run_dir=str(target.path),
                             notebook=self.notebook.name, parameters=self.merged,
                             logs_dir=str(self.run.logs_dir))
        return PreparedRun(self.notebook, self.run, target, self.parameters, context)


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


def check_inputs(notebook_path: str | os.PathLike, parameters: Mapping[str, object] | None = None,
                 *, logs_dir: str | os.PathLike | None = None) -> CheckedInputs:
    """The parameters (names, types, rules) and the logs folder, checked; changes nothing on
    disk but the logs folder's creation."""
    notebook_path = Path(notebook_path).resolve()
    specs = parameter_specs(notebook_path)
    checked = check_parameters(notebook_path, dict(parameters or {}), specs)
    merged = {name: spec.default for name, spec in specs.items()} | checked
    logs_path = choose_logs_dir(logs_dir, checked.get("logs_dir"))
    if "logs_dir" in specs:
        checked["logs_dir"] = merged["logs_dir"] = str(logs_path)
    run = RunDir(logs_path, str(merged.get("run_name") or notebook_path.stem))
    return CheckedInputs(notebook_path, checked, merged, run, trains="run_name" in specs)


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
    """Executes `notebook_path` with `parameters`; returns the executed notebook's path. Unless
    `verbose`, what the kernel's libraries print outside Python (TensorFlow's start-up lines)
    goes to `<logs_dir>/.<run_name>.kernel.log`. A cell that raises is a `RunFailedError` naming
    it, and the run is recorded as failed; a dead kernel or a cell past `timeout_s` leaves it
    interrupted. Either way its executed notebook is kept in its folder (a complete run being
    replaced stays untouched)."""
    import papermill
    import papermill.exceptions

    inputs = check_inputs(notebook_path, parameters, logs_dir=logs_dir)  # bad input stops here
    with inputs.run.locked(command=f"cnn-course run {inputs.notebook.name}"):
        inputs.run.recover()
        prepared = inputs.prepare(overwrite, restart)  # under the lock: the state cannot move
        target = prepared.target
        if restart:
            target.discard() if target.is_staging else target.clear()
        target.path.mkdir(parents=True, exist_ok=True)
        temporary = prepared.run.logs_dir / f".{prepared.run.name}.tmp.ipynb"
        kernel_log = prepared.run.logs_dir / f".{prepared.run.name}.kernel.log"
        try:
            with _environment({**QUIET_ENVIRONMENT, **fast_cpu_environment(),
                               **prepared.context.to_environment()}), (
                    contextlib.nullcontext() if verbose else stderr_to(kernel_log)):
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
                    extra_arguments=KERNEL_ARGUMENTS + ([] if verbose else QUIET_KERNEL_ARGUMENTS),
                )
        except papermill.exceptions.PapermillExecutionError as error:
            _keep(temporary, prepared.output_path)
            message = f"cell {error.cell_index + 1}: {error.ename}: {error.evalue.rstrip('.')}"
            target.mark_failed(message)  # it ran and failed: recorded, whatever cell raised
            raise RunFailedError(
                f"the notebook failed in {message}. The executed notebook is "
                f"{prepared.output_path}.") from None
        except Exception as error:
            _keep(temporary, prepared.output_path)
            said = " ".join(str(error).split())[:120]
            cause = {"DeadKernelError": f"the notebook's kernel died ({said}); it was not a "
                                        f"Python error. Its last messages are in {kernel_log}",
                     "CellTimeoutError": f"a cell ran past --timeout {timeout_s} s (a longer "
                                         f"limit: --timeout SECONDS)"}.get(type(error).__name__)
            if cause is None:
                raise
            raise RunFailedError(f"{cause}. The run is interrupted: run the same command again "
                                 f"to resume.") from None
        except BaseException:
            _keep(temporary, prepared.output_path)  # interrupted: resumable, notebook kept
            raise
        _keep(temporary, prepared.output_path)
        if target.is_staging:
            prepared.run.promote(target)
    return prepared.run.path / prepared.notebook.name


def _keep(temporary: Path, destination: Path) -> None:
    """Moves the executed notebook into the run folder (one rename: never half a file)."""
    if temporary.is_file():
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, destination)


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
