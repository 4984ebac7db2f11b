"""Comparing runs of a logs folder: models over seeds (`compare_models`), a run against a
baseline run (`baseline_comparison`), and each dataset's validation curves on one axis
(`comparison_plots`, drawn by `cnn-course report`). Only complete runs are compared."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from cnn_course import data, tables
from cnn_course.runs import run_files, run_folder
from cnn_course.runs.run_folder import by_dataset, complete_runs
from cnn_course.runs.seeds import mean_std, seed_groups


def compare_models(logs_dir: str | os.PathLike, model_names: list[str],
                   quoted: dict[str, str] | None = None) -> str:
    """One line per model and recipe: its complete full-data runs in `logs_dir` grouped by
    `seed_groups` (seeds, epochs), the final validation accuracy (mean ± standard deviation
    over seeds) and the mean of each run's best epoch (reported, never used to pick anything);
    `quoted` adds a column of published numbers to compare with. A model without runs says so.
    A model run with several recipes gets one line per recipe, named after it."""
    runs = [(run_dir, summary) for run_dir, summary in complete_runs(logs_dir)
            if not summary.get("sample")]
    header = (["model", "runs (seeds)", "epochs", "final val acc", "best epoch (mean)"]
              + (["quoted"] if quoted else []))
    rows = []
    for model_name in model_names:
        groups = seed_groups([(run_dir, summary) for run_dir, summary in runs
                              if summary.get("model_name") == model_name])
        if not groups:
            rows.append([model_name, "0", "–", "no complete full-data run", "–"]
                        + ([quoted.get(model_name, "–")] if quoted else []))
        for group in groups:
            mean, spread = mean_std(group.finals)
            accuracy = (tables.percent_spread(mean, spread) if len(group.finals) > 1
                        else tables.percent(mean))
            seeds = f"{len(group.members)} ({', '.join(str(seed) for seed in group.seeds)})"
            epochs = ", ".join(sorted({str(summary.get("epochs_run"))
                                       for _, summary in group.members}))
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
    is looked for beside the run; without it, the text says so and only the run is plotted."""
    run = run_folder.RunDir.at(run_dir)
    summary = run.summary()
    label = f"{run.name} ({summary.get('params', 0):,} params)"
    histories = {label: run.history()}
    baseline = run_folder.RunDir(run.logs_dir, baseline_name)
    if baseline.state() != run_folder.COMPLETE:
        return BaselineComparison(
            f"No complete {baseline_name!r} run in {run.logs_dir} to compare with "
            f"(`cnn-course run` its notebook with the same logs folder).", histories)
    base = baseline.summary()
    final, best = summary.get("final_val_accuracy"), base.get("best_val_accuracy")
    verdict = "beats" if final is not None and best is not None and final > best else (
        "does not beat")
    text = (f"{run.name}: final {tables.percent(final)}; {baseline_name}: final "
            f"{tables.percent(base.get('final_val_accuracy'))}, best {tables.percent(best)} (epoch "
            f"{base.get('best_epoch')}). {run.name} {verdict} the baseline's best epoch.")
    histories[f"{baseline_name} ({base.get('params', 0):,} params)"] = baseline.history()
    return BaselineComparison(text, histories)


def comparison_histories(runs: list[tuple[Path, dict]]) -> dict[str, list[dict]]:
    """Plot label → history rows of the full-data runs (no samples) that have a history."""
    histories = {}
    for run_dir, summary in runs:
        rows = [] if summary.get("sample") else run_files.read_history(run_dir)
        if rows:
            histories[f"{summary['run_name']} ({summary.get('params', 0):,} params)"] = rows
    return histories


def write_comparison_plot(histories: dict[str, list[dict]], path: Path, title: str) -> None:
    """Draws the validation accuracy per epoch of `histories` on one axis into `path` (PNG).

    The PNG carries no software-version metadata, so the same logs and matplotlib give the
    same file.
    """
    import matplotlib.pyplot as plt

    from cnn_course import plots

    figure = plots.compare_curves(histories, metric="val_accuracy", title=title)
    with run_files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)


def plot_name(dataset: str) -> str:
    """The comparison plot's file name in the logs folder."""
    return f"{dataset}_val_accuracy.png"


def comparison_plots(logs_dir: str | os.PathLike) -> dict[Path, tuple[dict, str]]:
    """Plot path → (histories, title) of each dataset with two or more complete full-data
    runs: the plots the report draws."""
    plots = {}
    for dataset, group in by_dataset(complete_runs(logs_dir)).items():
        histories = comparison_histories(group)
        if len(histories) >= 2:
            title = f"{data.title(dataset)}: validation accuracy per epoch"
            plots[Path(logs_dir).resolve() / plot_name(dataset)] = (histories, title)
    return plots
