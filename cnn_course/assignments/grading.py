"""Checking one run, grading many submissions, writing a submission.

A submission is a run folder, a folder of run folders, or a `.zip` of them (what `submit`
writes). Zips are untrusted: every member must stay inside the extraction folder (no absolute
paths, no `..`, no links), the unpacked size and member count are capped before anything is
extracted, and extraction goes to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from cnn_course import tables
from cnn_course.assignments import cifar10, mnist
from cnn_course.assignments.evidence import EvidenceError, RunEvidence, run_folders
from cnn_course.assignments.rules import FAIL, PASS, Outcome
from cnn_course.runs.run_files import SUMMARY_FILE

ASSIGNMENTS = {mnist.NAME: mnist, cifar10.NAME: cifar10}
MAX_UNPACKED_BYTES = 256 * 2**20  # a CIFAR-10 submission is a few MB
MAX_MEMBERS = 2000
SUBMISSION_README = "SUBMISSION.md"


@dataclasses.dataclass
class Submission:
    """The runs a set of rules reads, by role ("net", "base", "student")."""

    runs: dict
    data_dir: str | os.PathLike | None = None

    def get(self, role: str):
        return self.runs.get(role)


def infer_assignment(record) -> str:
    """The assignment a run belongs to, from its data set."""
    dataset = record.data.dataset
    for name, module in ASSIGNMENTS.items():
        if dataset == name:
            return name
    if dataset is None:
        raise ValueError("The run's summary.json names no data set (every run a course notebook "
                         "logs does), so no assignment can grade it.")
    raise ValueError(f"No assignment grades a run on {dataset!r}: the assignments are "
                     f"{' and '.join(ASSIGNMENTS)}, each graded on its own data set.")


def _module(assignment: str):
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"Unknown assignment {assignment!r}: expected one of "
                         f"{sorted(ASSIGNMENTS)}.")
    return ASSIGNMENTS[assignment]


def check_run(run_dir: str | os.PathLike, assignment: str | None = None,
              base: str | os.PathLike | None = None,
              data_dir: str | os.PathLike | None = None) -> list[Outcome]:
    """The assignment's rules for one run (a CIFAR-10 student run is compared with `base`, by
    default the `cifar10_base` run beside it). Never trains; re-evaluates the model when the
    data set is here."""
    run = RunEvidence(Path(run_dir))
    try:
        record = run.record
    except EvidenceError as error:
        raise ValueError(str(error)) from None
    assignment = assignment or infer_assignment(record)
    module = _module(assignment)
    roles = module.roles([run])
    if not roles:
        raise ValueError(f"{run.path} is a run on {record.data.dataset}, which the {assignment} "
                         f"assignment does not grade; give a {assignment} run, or leave out "
                         f"--assignment to check it against its own.")
    if assignment == cifar10.NAME and "student" in roles:
        roles["base"] = _given_base(Path(base)) if base else _sibling_base(run.path)
        if roles["base"] is None:
            del roles["base"]
    submission = Submission(roles, data_dir)
    return [rule.apply(submission) for rule in module.RULES if rule.role in roles]


def _given_base(path: Path) -> RunEvidence:
    """The base run a user named, refused before any rule runs unless it is the base network's
    (a student or an MNIST run compared as the base said nothing true)."""
    base = RunEvidence(path)
    try:
        if cifar10.roles([base]).get("base"):
            return base
    except EvidenceError as error:
        raise ValueError(f"The base run: {error}") from None
    raise ValueError(f"The base run {path} is {base.record.model.name} on "
                     f"{base.record.data.dataset}, not the base network ({cifar10.BASE_MODEL} on "
                     f"cifar10); give the base network's run folder.")


def _sibling_base(run_path: Path) -> RunEvidence | None:
    beside = Path(os.path.abspath(run_path)).parent / "cifar10_base"  # also for "."
    if (beside / SUMMARY_FILE).is_file():
        return RunEvidence(beside)
    return None


def outcomes_table(outcomes: Sequence[Outcome]) -> str:
    """One line per rule: ✔/✘/?, id, statement, evidence."""
    width = max(len(outcome.rule_id) for outcome in outcomes)
    lines = [f"{outcome.mark} {outcome.rule_id.ljust(width)}  {outcome.statement}\n"
             f"  {' ' * width}  {outcome.evidence}" for outcome in outcomes]
    passed = sum(outcome.status == PASS for outcome in outcomes)
    lines.append(f"{passed}/{len(outcomes)} rules pass")
    return "\n".join(lines)


# --- grading ------------------------------------------------------------------------------------

def _safe_extract(archive: Path, target: Path) -> None:
    """Extracts a zip only if every member is a plain file or folder inside `target` and the
    whole unpacks to at most MAX_UNPACKED_BYTES; raises ValueError naming the problem."""
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        if len(members) > MAX_MEMBERS:
            raise ValueError(f"{len(members)} members (more than {MAX_MEMBERS})")
        total = sum(member.file_size for member in members)
        if total > MAX_UNPACKED_BYTES:
            raise ValueError(f"unpacks to {total / 2**20:.0f} MiB (more than "
                             f"{MAX_UNPACKED_BYTES // 2**20} MiB): refused")
        root = target.resolve()
        for member in members:
            name = PurePosixPath(member.filename)
            mode = member.external_attr >> 16
            if name.is_absolute() or ".." in name.parts or member.filename.startswith(("/", "\\")):
                raise ValueError(f"member {member.filename!r} points outside the archive")
            if stat.S_ISLNK(mode):
                raise ValueError(f"member {member.filename!r} is a link")
            if not (root / name).resolve().is_relative_to(root):
                raise ValueError(f"member {member.filename!r} points outside the archive")
        written = 0
        for member in members:
            destination = root / member.filename
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, destination.open("wb") as out:
                while block := source.read(2**20):  # counts real bytes, not the header's
                    written += len(block)
                    if written > MAX_UNPACKED_BYTES:
                        raise ValueError("unpacks to more than its header says: refused")
                    out.write(block)


def submission_name(submission: Path) -> str:
    """Its name in the CSV: the zip's stem or the folder's name (`.` is the folder one is in)."""
    named = Path(os.path.abspath(submission))
    return named.stem if named.suffix == ".zip" else named.name


def grade_one(submission: Path, assignment: str, data_dir=None) -> dict:
    """One CSV row: the submission's name, a status per rule, the total and a reason (its
    paths inside a zip as the zip names them: `name/summary.json`)."""
    module = _module(assignment)
    row = {"submission": submission_name(submission)}
    with tempfile.TemporaryDirectory(prefix="cnn-course-grade-") as scratch:
        try:
            folder = submission
            if submission.suffix == ".zip":
                folder = Path(scratch) / row["submission"]
                folder.mkdir()
                try:
                    _safe_extract(submission, folder)
                except zipfile.BadZipFile:
                    raise ValueError("not a readable zip archive") from None
                found = run_folders(folder) or [run for child in folder.iterdir()
                                                if child.is_dir() for run in run_folders(child)]
            elif submission.is_dir():
                found = run_folders(folder)
            else:
                raise ValueError("neither a run folder, a folder of runs, nor a .zip")
            if not found:
                raise ValueError("holds no run folder (summary.json)")
            runs = [RunEvidence(path) for path in found]
            roles = module.roles(runs)
            if not roles:
                datasets = sorted({str(run.record.data.dataset) for run in runs})
                raise ValueError(f"no {assignment} run (its runs are on {', '.join(datasets)}): "
                                 f"the wrong assignment?")
            outcomes = [rule.apply(Submission(roles, data_dir)) for rule in module.RULES]
            row.update({outcome.rule_id: outcome.status for outcome in outcomes})
            row["total"] = f"{sum(o.status == PASS for o in outcomes)}/{len(outcomes)}"
            row["reason"] = "; ".join(f"{o.rule_id}: {o.evidence}" for o in outcomes
                                      if o.status != PASS)
        except (ValueError, OSError, EvidenceError) as error:
            row.update({rule.rule_id: FAIL for rule in module.RULES})
            row["total"] = f"0/{len(module.RULES)}"
            row["reason"] = f"broken submission: {' '.join(str(error).split())[:300]}"
        row["reason"] = row["reason"].replace(f"{scratch}{os.sep}", "")
    return row


def grade(submissions: Sequence[str | os.PathLike], assignment: str,
          output: str | os.PathLike, data_dir=None, workers: int = 1,
          say: Callable[[str], None] = print) -> list[dict]:
    """Grades each submission into one row of `output` (CSV, a stable column order); a broken
    submission is one row with the reason and never stops the others. `workers` > 1 grades in
    parallel on a local Dask cluster."""
    module = _module(assignment)
    paths = [Path(submission) for submission in submissions]
    names = [submission_name(path) for path in paths]
    twice = [str(path) for path, name in zip(paths, names) if names.count(name) > 1]
    if twice:  # a CSV row would not say whose it is
        raise ValueError(f"Submissions {', '.join(twice)} share a name in the CSV; name each "
                         f"after its student (alice.zip, or a folder alice/ holding the runs).")
    if workers > 1:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("grade --workers runs on Dask, which is not installed: pip install "
                             "'cnn-course[sweep]' (or: pip install distributed), or grade with "
                             "--workers 1.") from None

        with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            futures = client.map(grade_one, paths, assignment=assignment, data_dir=data_dir,
                                 pure=False)
            rows = []
            for index, future in enumerate(futures, start=1):
                rows.append(future.result())
                say(f"{index}/{len(paths)} {rows[-1]['submission']}: {rows[-1]['total']}")
    else:
        rows = []
        for index, path in enumerate(paths, start=1):
            rows.append(grade_one(path, assignment, data_dir))
            say(f"{index}/{len(paths)} {rows[-1]['submission']}: {rows[-1]['total']}")
    columns = ["submission", *(rule.rule_id for rule in module.RULES), "total", "reason"]
    output = Path(output)
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return rows


# --- submitting ---------------------------------------------------------------------------------

def submission_readme(runs: Sequence[RunEvidence]) -> str:
    """What the course asks to hand in, per run: the final accuracy, the model with output
    size and RF per layer (model.md), and the epoch log."""
    parts = ["# Submission", ""]
    for run in runs:
        record = run.record
        parts += [f"## `{run.name}`", "",
                  f"- model `{record.model.name}`, {record.model.params or 0:,} parameters, "
                  f"{record.data.dataset}",
                  f"- final validation accuracy: {tables.percent(record.final_accuracy)} after "
                  f"{record.training.epochs_run} epochs (validation: {record.data.validation})",
                  ""]
        if run.run.model_table_path.is_file():
            parts += [run.run.model_table_path.read_text(encoding="utf-8").strip(), ""]
        if run.run.train_log_path.is_file():
            parts += ["```", run.run.train_log_path.read_text(encoding="utf-8").strip(), "```",
                      ""]
    return "\n".join(parts)


def submit(run_dirs: Sequence[str | os.PathLike], output: str | os.PathLike) -> Path:
    """Writes `output` (.zip): the run folders (logs, summary, model, executed notebook;
    checkpoints left out) and SUBMISSION.md, as `grade` reads them."""
    runs = [RunEvidence(Path(run_dir)) for run_dir in run_dirs]
    names = [run.name for run in runs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"More than one run named {', '.join(map(repr, twice))}: a submission "
                         f"holds each run once, in a folder of its name; give each run once.")
    output = Path(output)
    written = output.resolve()
    inside = [str(run.path) for run in runs if written.is_relative_to(run.path.resolve())]
    if inside:  # it would pack itself into the next submission
        raise ValueError(f"-o {output} is inside the run folder {inside[0]}; write the zip "
                         f"outside it (e.g. -o ../submission.zip).")
    contents = {}  # each run folder walked once: checked, then packed
    for run in runs:
        if not run.complete:
            raise ValueError(f"{run.path} is not a complete run ({run.run.describe_state()}); "
                             f"submit complete runs.")
        contents[run.name] = sorted(run.path.rglob("*"))
        links = [str(path) for path in contents[run.name] if path.is_symlink()]
        if links:  # a link's target may be any file of this machine, and grade refuses links
            raise ValueError(f"{', '.join(links)}: a link, not a file of the run; remove it "
                             f"or put the file itself there.")
    temporary = output.with_name(f".{output.name}.tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(SUBMISSION_README, submission_readme(runs))
        for run in runs:
            for path in contents[run.name]:
                relative = path.relative_to(run.path)
                if path.is_file() and relative.parts[0] != "backup":
                    zipped.write(path, f"{run.name}/{relative.as_posix()}")
    os.replace(temporary, output)
    return output


__all__ = ["ASSIGNMENTS", "Submission", "check_run", "grade", "grade_one", "submit",
           "outcomes_table", "infer_assignment"]
