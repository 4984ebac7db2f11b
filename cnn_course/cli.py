"""The `cnn-course` command (also `python -m cnn_course`).

    cnn-course run NOTEBOOK [-p NAME VALUE]... [-f params.yaml] [--logs-dir DIR]
    cnn-course report [--readme README.md] [--logs-dir logs]
    cnn-course verify [RUN ...] [--logs-dir logs]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnn-course", description="Run course notebooks as logged runs; build the report."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute a notebook with papermill into logs/<run>/")
    run.add_argument("notebook", type=Path)
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="set a parameter (repeatable)")
    run.add_argument("-f", "--parameters-file", type=Path,
                     help="YAML file of parameters (lists and dicts go here)")
    run.add_argument("--logs-dir", type=Path, default=None,
                     help="where run folders go (default: $CNN_COURSE_LOGS_DIR or ./logs)")
    run.add_argument("--timeout", type=int, default=None,
                     help="per-cell execution timeout in seconds (default: 4 hours)")

    report = commands.add_parser("report", help="rebuild README.md's results from logs/")
    report.add_argument("--readme", type=Path, default=Path("README.md"))
    report.add_argument("--logs-dir", type=Path, default=Path("logs"))

    verify = commands.add_parser(
        "verify", help="re-evaluate runs' model.keras; must reproduce the logged accuracy")
    verify.add_argument("runs", nargs="*", help="run names (default: every complete run)")
    verify.add_argument("--logs-dir", type=Path, default=Path("logs"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "verify":
            return _verify(args)
        return _report(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"cnn-course {args.command}: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import logging

    from cnn_course import runner

    parameters: dict = {}
    if args.parameters_file:
        loaded = yaml.safe_load(args.parameters_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.parameters_file} must hold a mapping of name: value.")
        parameters.update(loaded)
    for name, value in args.parameter:
        parameters[name] = runner.parse_value(value)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    timeout = args.timeout if args.timeout is not None else runner.DEFAULT_TIMEOUT_S
    try:
        import papermill.exceptions

        output = runner.run_notebook(args.notebook, parameters, logs_dir=args.logs_dir,
                                     timeout_s=timeout)
    except papermill.exceptions.PapermillExecutionError as error:
        print(f"cnn-course run: the notebook failed in cell {error.exec_count}: "
              f"{error.ename}: {error.evalue}", file=sys.stderr)
        return 1
    print(f"executed notebook: {output}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from cnn_course import report

    report.update_readme(args.readme, args.logs_dir)
    print(f"updated the results section of {args.readme} from {args.logs_dir}/")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from cnn_course import runlog, verify

    names = args.runs or [path.parent.name for path in sorted(args.logs_dir.glob("*/summary.json"))
                          if runlog.read_summary(path.parent).get("status") == "complete"]
    failures = 0
    for name in names:
        result = verify.verify_run(args.logs_dir / name)
        failures += not result.reproduced
        print(f"{'ok  ' if result.reproduced else 'FAIL'} {name}: logged {result.logged:.4f}, "
              f"re-evaluated {result.measured:.4f} on {result.examples} test images")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
