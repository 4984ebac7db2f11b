"""Comparing runs of a logs folder: models over seeds (`compare_models`), a run against a
baseline run (`baseline_comparison`), and the validation curves of each dataset's recipes on one
axis, plus the headline's base against the chosen student (`comparison_plots`, drawn by
`cnn-course report`). Only complete runs are compared."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from cnn_course import data, tables
from cnn_course.runs import logs_folder, run_files, run_folder
from cnn_course.study import selection
from cnn_course.runs.logs_folder import LoggedRuns
from cnn_course.study.seeds import SeedGroup, mean_std, seed_groups


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
    is looked for beside the run; without it, the text says so and only the run is plotted."""
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
    base = base_record.results
    final, best = record.final_accuracy, base.best_val_accuracy
    verdict = "beats" if final is not None and best is not None and final > best else (
        "does not beat")
    text = (f"{run.name}: final {tables.percent(final)}; {baseline_name}: final "
            f"{tables.percent(base.final_val_accuracy)}, best {tables.percent(best)} (epoch "
            f"{base.best_epoch}). {run.name} {verdict} the baseline's best epoch.")
    histories[f"{baseline_name} ({base_record.model.params or 0:,} params)"] = baseline.history()
    return BaselineComparison(text, histories)


HEADLINE_PLOT = "headline_val_accuracy.png"  # in the logs folder: base vs chosen student


@dataclasses.dataclass(frozen=True)
class ComparisonPlot:
    """A figure the report draws into the logs folder: one curve per recipe, the mean over its
    seeds per epoch with a band from the lowest to the highest seed; holdout recipes dashed."""

    title: str
    curves: dict[str, dict[str, list[float]]]  # label -> epoch, val_accuracy, _min, _max
    dashed: frozenset[str] = frozenset()

    def write(self, path: Path) -> None:
        """Draws the plot into `path` (PNG). The PNG carries no software-version metadata, so
        the same logs and matplotlib give the same file (`report --check` compares bytes)."""
        import matplotlib.pyplot as plt

        from cnn_course import plots

        figure = plots.compare_curves(self.curves, metric="val_accuracy", title=self.title,
                                      dashed=self.dashed)
        with run_files.atomic_path(path) as temporary:
            figure.savefig(temporary, format="png", dpi=100, metadata={"Software": None})
        plt.close(figure)


def recipe_curve(group: SeedGroup, metric: str = "val_accuracy") -> dict[str, list[float]]:
    """A recipe's `metric` per epoch over its seeds (mean, min, max), on the epochs every seed
    logged it; empty when they share none."""
    logged = []
    for run in group.members:
        rows = run.history
        logged.append({row["epoch"]: row[metric] for row in rows if row.get(metric) is not None})
    epochs = sorted(set.intersection(*(set(values) for values in logged)))
    per_epoch = [[values[epoch] for values in logged] for epoch in epochs]
    return {"epoch": epochs, metric: [sum(values) / len(values) for values in per_epoch],
            f"{metric}_min": [min(values) for values in per_epoch],
            f"{metric}_max": [max(values) for values in per_epoch]}


def recipe_plot(groups: list[tuple[str, SeedGroup]], title: str) -> ComparisonPlot:
    """The plot of named recipes (label, group); a recipe without a shared epoch is left out."""
    curves, dashed = {}, set()
    for name, group in groups:
        seeds = f"{len(group.members)} seeds, " if len(group.members) > 1 else ""
        holdout = ", holdout" if group.validation == "holdout" and "holdout" not in name else ""
        label = f"{name} ({seeds}{group.first.model.params or 0:,} params{holdout})"
        if label in curves:  # two recipes share a name: number the later ones
            label += f" [{sum(key.startswith(label) for key in curves) + 1}]"
        curve = recipe_curve(group)
        if curve["epoch"]:
            curves[label] = curve
            if group.validation == "holdout":
                dashed.add(label)
    return ComparisonPlot(title, curves, frozenset(dashed))


def plot_name(dataset: str) -> str:
    """The comparison plot's file name in the logs folder."""
    return f"{dataset}_val_accuracy.png"


def has_headline_plot(result: selection.Outcome) -> bool:
    """Whether the headline plot can be drawn: a recipe is chosen and it and the base have a
    test-set run (answered without reading any history)."""
    return result.chosen is not None and bool(result.base_runs) and bool(result.student_runs)


def headline_plot(result: selection.Outcome) -> ComparisonPlot | None:
    """The base network's seeds against the chosen student's on the test set; None until
    both have a run."""
    if not has_headline_plot(result):
        return None
    base, student = seed_groups(result.base_runs), seed_groups(result.student_runs)
    return recipe_plot([("base network", base[0]), (f"student: {result.chosen.name}",
                                                    student[0])], headline_title(result))


def headline_title(result: selection.Outcome) -> str:
    """The headline plot's title (the README's link shows it too)."""
    dataset = result.base_runs[0].record.data.dataset if result.base_runs else None
    return (f"{data.title(dataset)}, test set: the base network and the chosen student\n"
            f"(mean over seeds; band: lowest to highest seed)")


def comparison_plots(logged: LoggedRuns) -> dict[Path, ComparisonPlot]:
    """Plot path -> plot: each dataset with two or more complete full-data recipes, and the
    headline (base vs chosen student) once `selection.yaml` has both: what the report draws."""
    plots = {}
    for dataset, group in logged.by_dataset().items():
        recipes = [(recipe.label, recipe) for recipe in seed_groups(group) if not recipe.sample]
        plot = recipe_plot(recipes, f"{data.title(dataset)}: validation accuracy per epoch\n"
                                    f"(mean over seeds; band: lowest to highest seed)")
        if len(plot.curves) >= 2:
            plots[logged.logs_dir / plot_name(dataset)] = plot
    chosen = selection.read_selection(logged.logs_dir)
    headline = (headline_plot(selection.outcome(chosen, logged.complete))
                if chosen is not None else None)
    if headline is not None:
        plots[logged.logs_dir / HEADLINE_PLOT] = headline
    return plots
