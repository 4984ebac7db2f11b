"""Many runs of one notebook: the cartesian product of parameter lists, on Dask.

`cnn-course sweep NOTEBOOK -p NAME V1,V2 [-p NAME 0..4] ...` turns each point of the grid into
one ordinary logged run (the same runner, notebook and checks as `cnn-course run`), named after
what it sets (`cifar10_separable-holdout-wd0.005-seed3`). Every point is checked before anything
starts; complete runs are skipped (a sweep run again finishes what an interruption left);
interrupted ones resume.

The engine is Dask distributed (`distributed.Client`): a `LocalCluster` on 127.0.0.1 by default,
or the workers of an existing cluster (`--scheduler tcp://host:8786`). Each run is a
`cnn-course run` subprocess of its worker, so papermill (not thread-safe) and the kernel get
their own processes, and that subprocess dies with its worker (Linux: PR_SET_PDEATHSIG).

Every worker writes straight into the client's logs folder (no second copy of large models),
so a point retried after its worker died resumes from its checkpoint there. A local cluster
shares the client's disk; the workers of a remote cluster must see the folder at the same path
(a shared filesystem): a worker that does not is refused before it trains, naming the folder.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cnn_course import notebooks, tables
from cnn_course.runs import parameters
from cnn_course.runs.run_files import check_run_name
from cnn_course.runs.record import COMPLETE, RunRecord, UnreadableRecordError
from cnn_course.runs.run_folder import RunDir

EVENT_TOPIC = "cnn-course-sweep"
RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")
RETRIES = 2  # a point whose worker died is run again this many times (Dask's `retries`)


@dataclasses.dataclass(frozen=True)
class Point:
    """One run of the sweep: its name and the parameters it sets."""

    run_name: str
    parameters: dict


def parse_values(text: str) -> list:
    """`"0..4"` -> [0, 1, 2, 3, 4]; `"a,b"` -> each value read as `cnn-course run -p` reads it."""
    match = RANGE.match(text.strip())
    if match:
        first, last = int(match.group(1)), int(match.group(2))
        if last < first:
            raise ValueError(f"The range {text!r} is empty: write FIRST..LAST with FIRST <= LAST.")
        return list(range(first, last + 1))
    values = [parameters.parse_value(part.strip()) for part in text.split(",")]
    if any(part.strip() == "" for part in text.split(",")):
        raise ValueError(f"The value list {text!r} has an empty entry.")
    return values


def _format(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def point_name(prefix: str, settings: Mapping[str, object]) -> str:
    """`prefix-holdout-wd0.005-seed3`: every set parameter in the order given, the seed last."""
    parts = [prefix]
    names = [name for name in settings if name != "seed"] + (
        ["seed"] if "seed" in settings else [])
    for name in names:
        parts.append(f"{parameters.short_name(name)}{_format(settings[name])}")
    name = "-".join(parts)
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def expand(grid: Mapping[str, Sequence], prefix: str) -> list[Point]:
    """The cartesian product of `grid`'s value lists, in order, as named points."""
    names = list(grid)
    empty = [name for name in names if not list(grid[name])]
    if empty:
        raise ValueError(f"{empty[0]} has no values: a sweep runs every combination of the "
                         f"values given, so it would run nothing. Give it at least one.")
    points = []
    for values in itertools.product(*(grid[name] for name in names)):
        settings = dict(zip(names, values))
        points.append(Point(point_name(prefix, settings), settings))
    duplicates = {point.run_name for point in points
                  if sum(other.run_name == point.run_name for other in points) > 1}
    if duplicates:
        raise ValueError(f"Two points of the sweep would share the run name(s) "
                         f"{sorted(duplicates)}; give the values distinct spellings.")
    return points


def check_points(notebook: Path, points: Sequence[Point]) -> None:
    """Every point's parameters against the notebook's cell and rules, before anything runs:
    the first bad one raises (one line, naming the point)."""
    placed = sorted({name for point in points for name in point.parameters
                     if parameters.role(name) == parameters.PLACEMENT})
    if placed:
        raise ValueError(f"-p {placed[0]} cannot be swept: a sweep names each run after what it "
                         f"sets (the prefix is --name) and writes every run into --logs-dir.")
    specs = notebooks.parameter_specs(notebook)
    if "run_name" not in specs:
        raise ValueError(f"Notebook {notebook.name} logs no run (it has no run_name parameter); "
                         f"only training notebooks can be swept.")
    for point in points:
        check_run_name(point.run_name)
        try:
            parameters.check_parameters(notebook, point.parameters, specs)
        except ValueError as error:
            raise ValueError(f"Point {point.run_name}: {error}") from None


# --- on a worker --------------------------------------------------------------------------------

def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """The run's subprocess ends when its worker dies (Linux), so a killed worker leaves no
    orphan training beside the retry."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_point(notebook_name: str, point: Point, logs_dir: str, overwrite: bool,
              marker: str | None = None, python: str | None = None) -> dict:
    """Runs one point as `cnn-course run` in a subprocess of this worker, into `logs_dir`;
    returns its outcome. `marker`: a file the client wrote in `logs_dir`, which a worker must
    see (a remote worker that does not would train into a folder nobody reads)."""
    started, worker = time.time(), _worker_name()
    _event({"event": "start", "run_name": point.run_name, "worker": worker})
    if marker is not None and not (Path(logs_dir) / marker).is_file():
        return {"run_name": point.run_name, "state": "not started", "seconds": 0.0,
                "worker": worker,
                "error": f"worker {worker} does not see the logs folder {logs_dir}: a "
                         f"cluster's workers must share it (mount it at that path on each)"}
    command = [python or sys.executable, "-m", "cnn_course", "run", notebook_name,
               "--logs-dir", logs_dir, "-p", "run_name", point.run_name]
    for name, value in point.parameters.items():
        command += ["-p", name, repr(value)]  # read back by parameters.parse_value
    if overwrite:
        command.append("--overwrite")
    result = subprocess.run(command, capture_output=True, text=True, preexec_fn=_die_with_parent)
    run = RunDir(Path(logs_dir), point.run_name)
    try:
        record = run.record() or RunRecord(point.run_name)
    except UnreadableRecordError:  # the state says failed or interrupted; the error says why
        record = RunRecord(point.run_name)
    outcome = {
        "run_name": point.run_name,
        "returncode": result.returncode,
        "state": run.state(record) or "not started",
        "final_val_accuracy": record.results.final_val_accuracy,
        "best_val_accuracy": record.results.best_val_accuracy,
        "validation": record.data.validation,
        "seconds": time.time() - started,
        "worker": worker,
        "error": " ".join(result.stderr.strip().splitlines()[-1:]) if result.returncode else "",
    }
    if "was not found. Looked for" in result.stderr:
        from cnn_course import data

        outcome["error"] = (f"worker {worker}: a data set is missing there: set "
                            f"{data.ENV_VAR} on that worker ({outcome['error'][:200]})")
    _event({"event": "end", **outcome})
    return outcome


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _event(message: dict) -> None:
    try:
        from distributed import get_worker

        get_worker().log_event(EVENT_TOPIC, message)
    except (ImportError, ValueError):
        pass


# --- on the client ------------------------------------------------------------------------------

@dataclasses.dataclass
class SweepResult:
    points: list[Point]
    outcomes: dict[str, dict]  # by run name; skipped runs too

    @property
    def all_complete(self) -> bool:
        return all(self.outcomes.get(point.run_name, {}).get("state") == COMPLETE
                   for point in self.points)


def gpu_count() -> int:
    """The GPUs `nvidia-smi -L` lists here (0 without it): a local sweep's default workers."""
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                 timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in listing.splitlines())


def run_sweep(
    notebook: Path,
    points: Sequence[Point],
    *,
    logs_dir: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    gpu: bool = False,
    say: Callable[[str], None] = print,
) -> SweepResult:
    """Runs the points on Dask; returns every point's outcome. Ctrl-C cancels what has not
    finished (each run stays resumable: the same command picks it up)."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("cnn-course sweep runs on Dask, which is not installed: "
                         "pip install 'cnn-course[sweep]' (or: pip install distributed).") from None

    outcomes: dict[str, dict] = {}
    pending = []
    for point in points:
        run = RunDir(logs_dir, point.run_name)
        record = run.record() if run.exists() else None
        if record is not None and record.complete and not overwrite:
            outcomes[point.run_name] = {"run_name": point.run_name, "state": COMPLETE,
                                        "final_val_accuracy": record.final_accuracy,
                                        "best_val_accuracy": record.results.best_val_accuracy,
                                        "skipped": True}
            say(f"skip  {point.run_name}: complete ({run.describe_state(record)})")
        else:
            pending.append(point)
    if not pending:
        return SweepResult(list(points), outcomes)
    cluster = None
    if scheduler is None:
        gpus = gpu_count() if gpu or workers is None else None  # nvidia-smi only if asked
        if gpu and not gpus:
            say("note: --gpu, but nvidia-smi lists no GPU here: the runs train on the CPU")
        cluster = LocalCluster(n_workers=workers or max(1, gpus), threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None,
                               resources={"GPU": 1} if gpu else None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, ValueError) as error:
            raise ValueError(f"--scheduler {scheduler}: no Dask scheduler answers there "
                             f"({' '.join(str(error).split())[:200]}). Start one (`dask "
                             f"scheduler`, then `dask worker ADDRESS` on each machine) or give "
                             f"its tcp://host:port; nothing ran.") from None
    total = len(points)
    done = total - len(pending)
    started = time.time()

    started_on: dict[str, str] = {}

    def on_event(event) -> None:
        _, message = event
        if message.get("event") != "start":
            return
        name, worker = message["run_name"], message.get("worker", "?")
        if name in started_on:
            say(f"retry {name} on {worker}: its worker {started_on[name]} was lost; resuming "
                f"from its checkpoint")
        else:
            say(f"start {name} on {worker}")
        started_on[name] = worker

    logs_dir.mkdir(parents=True, exist_ok=True)
    marker = None if scheduler is None else f".sweep-{uuid.uuid4().hex}"
    try:
        if marker is not None:
            (logs_dir / marker).write_text("a sweep's workers check they see this folder\n")
        client.subscribe_topic(EVENT_TOPIC, on_event)
        futures = {
            client.submit(run_point, notebook.name if _is_course_notebook(notebook)
                          else str(notebook), point, str(logs_dir.resolve()), overwrite, marker,
                          key=f"run-{point.run_name}", pure=False, retries=RETRIES,
                          resources={"GPU": 1} if gpu else None): point
            for point in pending
        }
        for future in as_completed(futures):
            point = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # noqa: BLE001 - a lost point must not stop the others
                outcome = {"run_name": point.run_name, "state": "lost",
                           "error": f"{type(error).__name__}: {error}"}
            outcome["state"] = RunDir(logs_dir, point.run_name).state() or outcome["state"]
            outcomes[point.run_name] = outcome
            done += 1
            say(progress_line(done, total, outcome))
    except KeyboardInterrupt:
        say("interrupted: the sweep's runs stop; run the same command again to resume them")
        raise
    finally:
        if marker is not None:
            (logs_dir / marker).unlink(missing_ok=True)
        client.close()
        if cluster is not None:
            cluster.close()
    say(f"sweep done in {(time.time() - started) / 60:.1f} min")
    return SweepResult(list(points), outcomes)


def _is_course_notebook(notebook: Path) -> bool:
    return notebook.parent.resolve() == notebooks.folder().resolve()


def progress_line(done: int, total: int, outcome: Mapping) -> str:
    """`3/10 complete  cifar10_separable-seed2  88.41% (holdout)  31 min`."""
    accuracy = outcome.get("final_val_accuracy")
    words = tables.percent(accuracy) if isinstance(accuracy, (int, float)) else "–"
    if outcome.get("validation") == "holdout":
        words += " (holdout)"
    minutes = f"{outcome.get('seconds', 0) / 60:.0f} min"
    line = f"{done}/{total} {outcome.get('state')}  {outcome['run_name']}  {words}  {minutes}"
    if outcome.get("error"):
        line += f"  ({outcome['error'][:300]})"
    return line
