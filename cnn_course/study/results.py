"""`cnn-course results`: every run of a logs folder as a plain-text table, whatever its state
(an unreadable record named, the others still listed), the recipes run with several seeds, the
selection's verdicts, and the runs still missing as the commands that make them."""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping

from cnn_course import tables
from cnn_course.runs import logs_folder, run_folder
from cnn_course.runs.errors import RunError
from cnn_course.runs.logs_folder import Run
from cnn_course.study import selection
from cnn_course.study.seeds import SeedGroup, mean_std, seed_groups


def data_label(record: run_folder.RunRecord) -> str:
    """`cifar10 (full)`, `mnist (sample)`, `cifar10 (full, holdout)`: what it trained and
    validated on (a holdout's accuracy is not a test accuracy)."""
    words = "sample" if record.data.sample else "full"
    if record.data.validation == "holdout":
        words += ", holdout"
    return f"{record.data.dataset} ({words})"


def seconds_left(run: Run, recent_epochs: int = 5) -> float | None:
    """About how long an unfinished run still needs: its epochs left times the median of its
    last `recent_epochs` epochs in its latest segment (an earlier segment may have run on a
    busier or another machine). None when complete, failed or not yet timed."""
    if run.state not in (run_folder.RUNNING, run_folder.INTERRUPTED):
        return None
    record = run.record
    left = (record.training.epochs_requested or 0) - record.training.epochs_run
    first = (record.segments or [{}])[-1].get("first_epoch") or 1
    try:
        history = run.history
    except ValueError:  # a damaged history.csv: no estimate (resuming it names the file)
        return None
    times = [row["epoch_seconds"] for row in history
             if row.get("epoch_seconds") and row.get("epoch", 0) >= first][-recent_epochs:]
    return left * statistics.median(times) if left > 0 and times else None


def terminal_table(logs_dir: str | os.PathLike | None = None) -> str:
    """Every run of `logs_dir`, whatever its state, as a plain-text table; a run whose record
    cannot be read is named, with what to do, and the others are still listed."""
    logged = logs_folder.load(logs_dir)
    header = ("run", "state", "model", "data", "epochs", "final", "best", "wall time")
    rows = [(name, "unreadable summary.json", "–", "–", "–", "–", "–", "–")
            for name in logged.unreadable]
    states = {}  # run name -> its row's words, which a missing run's line repeats
    for run in logged.runs:
        record = run.record
        words = run.folder.describe_state(record) if not run.complete else "complete"
        left = seconds_left(run)
        if left is not None:
            words += f", about {max(1, round(left / 60))} min left"
        states[run.name] = words
        asked = record.training.epochs_requested
        rows.append((run.name, words, str(record.model.name or "–"),
                     data_label(record) if record.data.dataset else "–",
                     f"{record.training.epochs_run}/{'?' if asked is None else asked}",
                     tables.percent(record.results.final_val_accuracy),
                     tables.percent(record.results.best_val_accuracy),
                     tables.duration(record.training.wall_time_s)))
    if not rows:
        return f"No runs in {logged.logs_dir}/."
    table = tables.render(header, rows, align="l" * len(header))
    if logged.unreadable:
        table += "\n\n" + "\n".join(f"error: {problem}" for problem in logged.unreadable.values())
    groups = [group for group in seed_groups(logged.complete) if len(group.members) > 1]
    if groups:
        table += "\n\nRecipes run with several seeds:\n" + seed_groups_text(groups)
    try:
        chosen = selection.read_selection(logged.logs_dir)
    except RunError as error:  # the runs above are still listed
        chosen, table = None, f"{table}\n\nerror: {error}"
    if chosen is not None:
        result = selection.outcome(chosen, logged.complete)
        missing = selection.next_runs(result)
        table += f"\n\n{selection.verdict(result)}"
        follow_up = selection.follow_up_outcome(result, logged.complete)
        if follow_up is not None:
            table += f"\nThe next question: {selection.follow_up_verdict(follow_up)}"
            missing += selection.follow_up_next_runs(follow_up, chosen.notebook)
        unfinished = [run for run in logged.runs if not run.complete]
        if missing:
            table += (f"\nRuns still missing ({selection.SELECTION_FILE}), in order:\n"
                      + "\n".join(_next_run_line(run, unfinished, states) for run in missing))
    return table


NEXT_STEP = {run_folder.INTERRUPTED: ": the same command resumes it",
             run_folder.FAILED: ": fix the cause, then run the same command again"}


def _next_run_line(next_run: selection.NextRun, unfinished: list[Run],
                   states: Mapping[str, str]) -> str:
    """The command that makes a missing run, and, if it was started, its folder's state as
    its row says it (`states`: run name -> words) with what to do next."""
    started = next_run.started(unfinished)
    if started is None:
        return f"  {next_run.sweep_command()}"
    return (f"  {next_run.sweep_command()}   # {started.name}: {states[started.name]}"
            f"{NEXT_STEP.get(started.state, '')}")


def seed_groups_text(groups: list[SeedGroup]) -> str:
    """A plain-text table: one row per recipe, n, mean ± std of the final and the best
    validation accuracy, min–max of the final, and which set validated."""
    header = ["recipe", "validation", "n", "final (mean ± std)", "best (mean ± std)", "min–max"]
    rows = []
    for group in groups:
        final_mean, final_std = mean_std(group.finals)
        best_mean, best_std = mean_std(group.bests)
        rows.append([group.label, group.validation + (" (sample)" if group.sample else ""),
                     str(len(group.members)),
                     tables.percent_spread(final_mean, final_std),
                     tables.percent_spread(best_mean, best_std),
                     f"{tables.percent(min(group.finals))}–{tables.percent(max(group.finals))}"])
    if not rows:
        return "No complete runs."
    return tables.render(header, rows, align="l" * len(header))
