"""The `cnn-course` command (also `python -m cnn_course`).

    cnn-course list                                   notebooks, their parameters and defaults
    cnn-course run NOTEBOOK [-p NAME VALUE]... [-f params.yaml] [--logs-dir DIR]
                   [--overwrite] [--restart] [--verbose]
    cnn-course sweep NOTEBOOK -p NAME V1,V2 [-p NAME 0..4]... [-f grid.yaml] [--workers N]
                     [--scheduler ADDRESS] [--logs-dir DIR] [--name PREFIX] [--overwrite]
    cnn-course check RUN_DIR [--assignment mnist|cifar10] [--base RUN_DIR] [--json]
    cnn-course grade SUBMISSION... --assignment mnist|cifar10 -o grades.csv [--workers N]
    cnn-course submit RUN_DIR... -o submission.zip
    cnn-course results [--logs-dir DIR]               the results table, on the terminal
    cnn-course verify [RUN ...] [--logs-dir DIR]
    cnn-course notebooks [DIR]                        copy the course notebooks out
    cnn-course --version

Exit codes: 0 done; 1 a run failed, a check found a difference; 2 bad input (nothing ran).
Nothing here imports Keras or TensorFlow before the input is checked.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import sys
from pathlib import Path

EXIT_FAILED, EXIT_BAD_INPUT = 1, 2
# papermill's own progress lines: shown with --verbose only (cell outputs are always shown).
PAPERMILL_CHATTER = ("Input Notebook", "Output Notebook", "Working directory", "Executing notebook",
                     "Executing Cell", "<Figure size", "Ending Cell", "Black is not installed")
# Every command finds the logs folder by one rule (`logs_folder.resolve_logs_dir`).
LOGS_DIR_HELP = "the logs folder (default: $CNN_COURSE_LOGS_DIR, else the project's logs/)"


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1 (workers, seconds)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


class _EachNameOnce(argparse.Action):
    """`-p NAME VALUE`, appended, each name once (a second would silently replace the first)."""

    def __call__(self, parser, namespace, values, option_string=None):
        pairs = getattr(namespace, self.dest) or []
        if any(name == values[0] for name, _ in pairs):
            parser.error(f"-p {values[0]} is given twice; give each parameter once (a sweep's "
                         f"values as one list: -p {values[0]} V1,V2)")
        setattr(namespace, self.dest, [*pairs, values])


def build_parser() -> argparse.ArgumentParser:
    from cnn_course import __version__

    parser = argparse.ArgumentParser(
        prog="cnn-course",
        description="Run the course's notebooks as logged runs; check, list and verify results.",
        epilog="Exit codes: 0 done, 1 a run failed or a check found a difference, "
               "2 bad input (nothing ran).")
    parser.add_argument("--version", action="version", version=f"cnn-course {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="the course notebooks with their parameters")

    # What `run` and `sweep` share: the notebook, a parameters file, the logs folder, overwrite.
    runs = argparse.ArgumentParser(add_help=False)
    runs.add_argument("notebook", metavar="NOTEBOOK",
                      help="a notebook file, or the name of a course notebook "
                           "(e.g. 00_quickstart or quickstart; see `cnn-course list`)")
    runs.add_argument("-f", "--parameters-file", type=Path,
                      help="YAML file of name: value (lists and dicts go here; a sweep also "
                           "takes name: [values])")
    runs.add_argument("-p", "--parameter", nargs=2, action=_EachNameOnce, default=[],
                      metavar=("NAME", "VALUE"), help="set a parameter (`cnn-course list` shows "
                      "them); a sweep's VALUE is V1,V2,... or an integer range FIRST..LAST")
    runs.add_argument("--logs-dir", type=Path, default=None, help=LOGS_DIR_HELP)
    runs.add_argument("--overwrite", action="store_true",
                      help="replace a complete run of the same name (kept until the new one "
                           "completes)")

    run = commands.add_parser(
        "run", parents=[runs], help="execute a notebook with papermill into logs/<run_name>/",
        description="Execute a notebook as a logged run. An interrupted run resumes when the "
                    "same command is run again; a complete run is kept unless --overwrite.")
    run.add_argument("--restart", action="store_true",
                     help="start an interrupted or failed run over (deletes its checkpoint)")
    run.add_argument("--timeout", type=_at_least_one, default=None,
                     help="per-cell execution timeout in seconds (default: 4 hours)")
    run.add_argument("--verbose", action="store_true",
                     help="also show papermill's progress and the libraries' start-up messages")

    sweep = commands.add_parser(
        "sweep", parents=[runs], help="many runs of a notebook (a grid of parameters) on Dask",
        description="Run every point of a parameter grid as one logged run each, on a local "
                    "Dask cluster or an existing one. Complete runs are skipped; run the same "
                    "command again to finish an interrupted sweep.")
    sweep.add_argument("--workers", type=_at_least_one, default=None,
                       help="local workers (default: one per GPU, else 1)")
    sweep.add_argument("--scheduler", default=None,
                       help="an existing cluster (tcp://host:8786 or tls://...), whose workers "
                            "see the logs folder at the same path")
    sweep.add_argument("--gpu", action="store_true",
                       help="each run asks for one GPU (workers started with --resources GPU=1)")
    sweep.add_argument("--name", default=None, help="run-name prefix (default: the notebook's "
                                                   "run_name)")

    check = commands.add_parser(
        "check", help="check a run against its assignment's rules (never trains)")
    check.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    check.add_argument("--assignment", choices=["mnist", "cifar10"], default=None,
                       help="default: inferred from the run's data set")
    check.add_argument("--base", type=Path, default=None,
                       help="the base network's run (default: cifar10_base beside RUN_DIR)")
    check.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    grade = commands.add_parser(
        "grade", help="grade submissions (run folders, folders of runs, zips) into a CSV")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION")
    grade.add_argument("--assignment", choices=["mnist", "cifar10"], required=True)
    grade.add_argument("-o", "--output", type=Path, required=True, help="the CSV to write")
    grade.add_argument("--workers", type=_at_least_one, default=1,
                       help="re-evaluate this many submissions at a time (Dask)")
    submit = commands.add_parser("submit", help="pack run folders and SUBMISSION.md into a zip")
    submit.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    submit.add_argument("-o", "--output", type=Path, required=True)

    results = commands.add_parser("results", help="the results table of logs/ (writes nothing)")
    results.add_argument("--logs-dir", type=Path, default=None, help=LOGS_DIR_HELP)

    verify = commands.add_parser(
        "verify", help="re-evaluate runs' model.keras; must reproduce the logged accuracy")
    verify.add_argument("runs", nargs="*", metavar="RUN",
                        help="run names (default: every complete run)")
    verify.add_argument("--logs-dir", type=Path, default=None, help=LOGS_DIR_HELP)

    notebooks = commands.add_parser("notebooks", help="copy the course notebooks into DIR")
    notebooks.add_argument("directory", nargs="?", type=Path, default=Path("notebooks"),
                           metavar="DIR", help="destination folder (default: ./notebooks)")
    notebooks.add_argument("--force", action="store_true", help="replace files already there")
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before verify's TensorFlow import

    from cnn_course.runs import notebook_runner

    args = build_parser().parse_args(argv)
    handlers = {"run": _run, "sweep": _sweep, "check": _check, "grade": _grade,
                "submit": _submit, "list": _list, "results": _results,
                "verify": _verify, "notebooks": _notebooks}
    try:
        return handlers[args.command](args)
    except notebook_runner.RunFailedError as error:
        return _fail(args, error, EXIT_FAILED)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        return _fail(args, error, EXIT_BAD_INPUT)  # RunError, parameter and notebook errors
    except OSError as error:  # a full disk, a read-only folder, a vanished file, a network
        fix = (f" ({error.filename}). Nothing complete was replaced; free the space or fix the "
               f"folder" if error.filename else ". Nothing complete was replaced; fix the cause")
        return _fail(args, f"{error.strerror or error}{fix}, then run the same command again.",
                     EXIT_FAILED)
    except KeyboardInterrupt:
        print(f"cnn-course {args.command}: interrupted. Run the same command again to resume.",
              file=sys.stderr)
        return 130


def _fail(args: argparse.Namespace, error: object, code: int) -> int:
    print(f"cnn-course {args.command}: error: {' '.join(str(error).split())}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    from cnn_course import notebooks
    from cnn_course.runs import notebook_runner, parameters
    from cnn_course.runs.run_files import CURVES_FILE, SUMMARY_FILE

    notebook = notebooks.resolve(args.notebook)
    values = _parameters_file(args.parameters_file)
    for name, value in args.parameter:
        values[name] = parameters.parse_value(value)
    _show_progress(verbose=args.verbose)
    timeout = args.timeout if args.timeout is not None else notebook_runner.DEFAULT_TIMEOUT_S
    output = notebook_runner.run_notebook(notebook, values, logs_dir=args.logs_dir,
                                          overwrite=args.overwrite, restart=args.restart,
                                          timeout_s=timeout, verbose=args.verbose)
    run_dir = output.parent
    print(f"\nrun folder: {run_dir}")
    for name in (CURVES_FILE, SUMMARY_FILE):
        if (run_dir / name).is_file():
            print(f"  {name}: {run_dir / name}")
    print(f"  executed notebook: {output}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from cnn_course import notebooks
    from cnn_course.runs import logs_folder
    from cnn_course.study import sweep
    from cnn_course.study import results, seeds

    notebook = notebooks.resolve(args.notebook)
    grid = {name: value if isinstance(value, list) else [value]
            for name, value in _parameters_file(args.parameters_file).items()}
    for name, values in args.parameter:
        grid[name] = sweep.parse_values(values)
    if not grid:
        raise ValueError("A sweep needs at least one parameter: -p NAME V1,V2 (or -p seed 0..4).")
    defaults = notebooks.parameter_defaults(notebook)
    prefix = args.name or str(defaults.get("run_name") or notebook.stem)
    points = sweep.expand(grid, prefix)
    sweep.check_points(notebook, points)  # one bad value: one line, nothing made or run
    logs_dir = logs_folder.choose_logs_dir(args.logs_dir, None)
    print(f"sweep: {len(points)} runs of {notebook.name} into {logs_dir}")
    result = sweep.run_sweep(notebook, points, logs_dir=logs_dir, workers=args.workers,
                             scheduler=args.scheduler, overwrite=args.overwrite, gpu=args.gpu)
    names = {point.run_name for point in result.points}  # grouped over seeds below
    print(results.seed_groups_text(seeds.seed_groups(
        [run for run in logs_folder.load(logs_dir).complete if run.name in names])))
    return 0 if result.all_complete else EXIT_FAILED


def _parameters_file(path: Path | None) -> dict:
    """The `-f` file of `run` and `sweep`: a YAML mapping of name: value (a sweep's values may
    be lists); {} without one."""
    import yaml

    if path is None:
        return {}
    if not path.is_file():
        raise FileNotFoundError(f"The parameters file {path} does not exist.")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:  # worded here, where the file is read
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"the parameters file is not valid YAML: "
                         f"{getattr(error, 'problem', error)}{where}.") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} must hold a mapping of name: value.")
    return loaded


def _output_file(path: Path) -> Path:
    """`-o` of `grade` and `submit`, checked before any work: a file in an existing folder."""
    if path.is_dir():
        raise ValueError(f"-o {path} is a folder; give the file to write in it.")
    if not path.resolve().parent.is_dir():
        raise FileNotFoundError(f"-o {path}: the folder {path.parent} does not exist; create "
                                f"it first or choose another.")
    return path


def _quiet_keras_import() -> None:
    """Imports Keras with TensorFlow's C++ start-up lines silenced (tensorflow#100442)."""
    from cnn_course import environment

    with environment.native_stderr_silenced():
        import keras  # noqa: F401


def _check(args: argparse.Namespace) -> int:
    from cnn_course import assignments
    from cnn_course.runs.run_files import SUMMARY_FILE

    if not (args.run_dir / SUMMARY_FILE).is_file():
        raise FileNotFoundError(f"{args.run_dir} is not a run folder (no summary.json).")
    _quiet_keras_import()
    from cnn_course.assignments.grading import outcomes_table

    outcomes = assignments.check_run(args.run_dir, args.assignment, args.base)
    if args.json:
        print(json.dumps([outcome.as_dict() for outcome in outcomes], indent=1,
                         ensure_ascii=False))
    else:
        print(outcomes_table(outcomes))
    unchecked = [o.rule_id for o in outcomes if o.status == assignments.NOT_CHECKED]
    if unchecked and not args.json:
        print(f"not checked here: {', '.join(unchecked)} (the full data set is needed)")
    return 0 if all(o.status == assignments.PASS for o in outcomes) else EXIT_FAILED


def _grade(args: argparse.Namespace) -> int:
    from cnn_course import assignments

    missing = [str(path) for path in args.submissions if not path.exists()]
    if missing:
        raise FileNotFoundError(f"No such submission: {', '.join(missing)}.")
    _output_file(args.output)
    _quiet_keras_import()
    rows = assignments.grade(args.submissions, args.assignment, args.output,
                             workers=args.workers)
    print(f"wrote {args.output}: {len(rows)} submissions")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from cnn_course import assignments

    path = assignments.submit(args.run_dirs, _output_file(args.output))
    print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB): "
          f"{', '.join(str(run) for run in args.run_dirs)} and SUBMISSION.md")
    return 0


def _show_progress(verbose: bool) -> None:
    """Cell outputs (one line per epoch) stream to the console as the kernel prints them."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    if not verbose:
        handler.addFilter(lambda record: record.levelno >= logging.ERROR or (
            record.levelno == logging.INFO
            and not str(record.getMessage()).startswith(PAPERMILL_CHATTER)))
        handler.terminator = ""  # cell outputs carry their own newlines
    logger = logging.getLogger("papermill")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _list(args: argparse.Namespace) -> int:
    from cnn_course import notebooks

    for path in notebooks.paths():
        specs = notebooks.parameter_specs(path)
        print(f"{path.stem}  ({notebooks.title(path)})")
        for spec in specs.values():
            comment = f"  # {spec.comment}" if spec.comment else ""
            print(f"    {spec.name}: {spec.type_name} = {spec.default!r}{comment}")
        print()
    print("Run one: cnn-course run NAME [-p NAME VALUE]...   e.g. cnn-course run 00_quickstart "
          "-p epochs 5")
    return 0


def _results(args: argparse.Namespace) -> int:
    from cnn_course.study import results

    print(results.terminal_table(_logs_dir_to_read(args.logs_dir)))
    return 0


def _logs_dir_to_read(option: Path | None) -> Path:
    """The folder `results` and `verify` read: a missing one is a wrong path, not no runs."""
    from cnn_course.runs.logs_folder import resolve_logs_dir

    if not (path := resolve_logs_dir(option)).exists():
        raise FileNotFoundError(f"The logs folder {path} does not exist: give the runs' folder "
                                f"with --logs-dir (or $CNN_COURSE_LOGS_DIR), or run this inside "
                                f"the project.")
    return path


def _verify(args: argparse.Namespace) -> int:
    from cnn_course.runs import logs_folder
    from cnn_course.study import verify

    args.logs_dir = _logs_dir_to_read(args.logs_dir)
    logged = logs_folder.load(args.logs_dir)
    _quiet_keras_import()  # re-evaluating loads Keras: without its start-up lines
    runs = sorted(logged.runs, key=lambda run: run.name)
    # A run whose summary.json cannot be read is named, and fails: nothing says what it logged.
    unreadable = {name: f"FAIL {name}: {problem}" for name, problem in logged.unreadable.items()}
    if args.runs:
        known = {run.name: run for run in runs}
        missing = [name for name in args.runs if name not in known and name not in unreadable]
        if missing:
            raise ValueError(f"No run named {', '.join(map(repr, missing))} in "
                             f"{args.logs_dir}/. Runs there: {', '.join(known) or 'none'}.")
        unreadable = {name: line for name, line in unreadable.items() if name in args.runs}
        runs = [known[name] for name in args.runs if name in known]
    else:
        runs = [run for run in runs if run.complete]
    if not runs and not unreadable:
        print(f"No complete run in {args.logs_dir}/ to verify.")
    failures = 0
    for outcome in itertools.chain(unreadable.values(),
                                   (verify.verify_or_skip(run.folder) for run in runs)):
        failures += outcome.startswith("FAIL")
        print(outcome, flush=True)
    return EXIT_FAILED if failures else 0


def _notebooks(args: argparse.Namespace) -> int:
    from cnn_course import notebooks

    copied = notebooks.copy_to(args.directory, force=args.force)
    print(f"copied {len(copied)} notebooks into {args.directory}/:")
    for path in copied:
        print(f"  {path.name}")
    print(f"Run one: cnn-course run {args.directory / copied[0].name}" if copied else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
