"""Comparing runs of a logs folder, as the lessons do: models over seeds (`compare_models`)
and a run against a baseline run (`baseline_comparison`). Only complete runs are compared."""

from __future__ import annotations

import dataclasses
import os

from cnn_course import tables
from cnn_course.runs import logs_folder, run_folder
from cnn_course.study.results import data_label
from cnn_course.study.seeds import mean_std, seed_groups


def compare_models(logs_dir: str | os.PathLike | None, model_names: list[str],
                   quoted: dict[str, str] | None = None) -> str:
    """One line per model and recipe: its complete full-data runs in `logs_dir` grouped by
    `seed_groups` (seeds, epochs), the final validation accuracy (mean ± standard deviation
    over seeds) and the mean of each run's best epoch (reported, never used to pick anything);
    `quoted` adds a column of published numbers to compare with. A model without runs says so.
    A model run with several recipes gets one line per recipe, named after it."""
    runs = [run for run in logs_folder.load(logs_dir).complete if not run.record.data.sample]
    header = (["model", "runs (seeds)", "epochs", "final val acc", "best epoch (mean)"]
              + (["quoted"] if quoted else []))
    rows = []
    for model_name in model_names:
        groups = seed_groups([run for run in runs if run.record.model.name == model_name])
        if not groups:
            rows.append([model_name, "0", "–", "no complete full-data run", "–"]
                        + ([quoted.get(model_name, "–")] if quoted else []))
        for group in groups:
            mean, spread = mean_std(group.finals)
            accuracy = (tables.percent_spread(mean, spread) if len(group.finals) > 1
                        else tables.percent(mean))
            seeds = f"{len(group.members)} ({', '.join(str(seed) for seed in group.seeds)})"
            epochs = ", ".join(sorted({str(run.record.training.epochs_run)
                                       for run in group.members}))
            name = model_name if len(groups) == 1 else f"{model_name} ({group.label})"
            rows.append([name, seeds, epochs, accuracy, tables.percent(mean_std(group.bests)[0])]
                        + ([quoted.get(model_name, "–")] if quoted else []))
    return tables.render(header, rows, align="l" * len(header))


@dataclasses.dataclass(frozen=True)
class BaselineComparison:
    """A run against a baseline run of the same logs folder: words and both histories."""

    text: str
    histories: dict[str, list[dict]]


def baseline_comparison(run_dir: str | os.PathLike, baseline_name: str) -> BaselineComparison:
    """Does the run's final validation accuracy beat the baseline's best epoch? The baseline
    is looked for beside the run; without it, or when the two validated on other data (the
    sample, the holdout), the text says so and only the run is plotted."""
    run = run_folder.RunDir.at(run_dir)
    record = run.record() or run_folder.RunRecord(run.name)
    label = f"{run.name} ({record.model.params or 0:,} params)"
    histories = {label: run.history()}
    baseline = run_folder.RunDir(run.logs_dir, baseline_name)
    if baseline.state() != run_folder.COMPLETE:
        return BaselineComparison(
            f"No complete {baseline_name!r} run in {run.logs_dir} to compare with "
            f"(`cnn-course run` its notebook with the same logs folder).", histories)
    base_record = baseline.record()
    if data_label(record) != data_label(base_record):  # a sample's or holdout's: no test score
        return BaselineComparison(
            f"{run.name} validated on {data_label(record)}, {baseline_name} on "
            f"{data_label(base_record)}: not compared (their accuracies are not comparable).",
            histories)
    base = base_record.results
    final, best = record.final_accuracy, base.best_val_accuracy
    verdict = "beats" if final is not None and best is not None and final > best else (
        "does not beat")
    text = (f"{run.name}: final {tables.percent(final)}; {baseline_name}: final "
            f"{tables.percent(base.final_val_accuracy)}, best {tables.percent(best)} (epoch "
            f"{base.best_epoch}). {run.name} {verdict} the baseline's best epoch.")
    histories[f"{baseline_name} ({base_record.model.params or 0:,} params)"] = baseline.history()
    return BaselineComparison(text, histories)
