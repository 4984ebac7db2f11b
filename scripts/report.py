"""The repository's results, generated from `logs/*/summary.json` (numbers are never typed):
README.md's results section, `logs/README.md` (every run's details) and the comparison plots.

    python scripts/report.py            # or `make report`: rewrites them
    python scripts/report.py --check    # writes nothing; exit 1 when out of date (`make test`)

This serves this repository's upkeep, so it lives here, not in the package: a user's view of
their own runs is `cnn-course results`. The section lives between two markers in README.md and
is replaced whole on every run; everything outside the markers is left as it is. Where a
dataset has two or more full-data recipes, the report draws their validation curves on one axis
into `logs/<dataset>_val_accuracy.png`, and the headline's base against the chosen student into
`logs/headline_val_accuracy.png`. Nothing here imports Keras.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cnn_course import data, tables
from cnn_course.runs import logs_folder, run_files
from cnn_course.runs.logs_folder import LoggedRuns, Run
from cnn_course.study import selection
from cnn_course.study.results import data_label
from cnn_course.study.seeds import SeedGroup, mean_std, seed_groups

START_MARKER = "<!-- cnn-course:results:start -->"
END_MARKER = "<!-- cnn-course:results:end -->"
RUN_FILE_LINKS = (run_files.HISTORY_FILE, run_files.TRAIN_LOG_FILE, run_files.SUMMARY_FILE,
                  run_files.MODEL_FILE, run_files.CURVES_FILE)


def _link(run_dir: Path, base: Path, name: str) -> str:
    return os.path.relpath(run_dir / name, base).replace(os.sep, "/")


def last_epochs_minimum(run: Run, count: int = 3) -> float | None:
    """The lowest validation accuracy over the last `count` epochs (does a run *hold*)."""
    values = [row.get("val_accuracy") for row in run.history[-count:]]
    values = [value for value in values if value is not None]
    return min(values) if values else None


RUN_COLUMNS = ("run", "model", "params", "data", "epochs", "final val acc", "best val acc",
               "min of last 3", "evaluate", "wall time", "per epoch", "backend/device", "files")


def run_cells(run: Run, base: Path) -> list[str]:
    """One run's row of `logs/README.md`: what ran and how well, with links to its files."""
    record, run_dir = run.record, run.path
    results, training = record.results, record.training
    best = results.best_val_accuracy
    best_text = f"{tables.percent(best)} (ep {results.best_epoch})" if best is not None else "–"
    files = [_link(run_dir, base, file) for file in RUN_FILE_LINKS if (run_dir / file).exists()]
    links = [f"[{Path(file).name.split('.')[0]}]({file})" for file in files]
    links += [f"[notebook]({_link(run_dir, base, notebook.name)})"
              for notebook in sorted(run_dir.glob("*.ipynb"))]
    return [f"`{record.run_name}`", str(record.model.name), f"{record.model.params:,}",
            data_label(record), f"{training.epochs_run}/{training.epochs_requested}",
            tables.percent(results.final_val_accuracy), best_text,
            tables.percent(last_epochs_minimum(run)), tables.percent(results.evaluated_accuracy),
            tables.duration(training.wall_time_s), tables.seconds(training.mean_epoch_s),
            f"{record.environment.backend}/{record.environment.device}", " ".join(links)]


def run_details(run: Run, base: Path) -> str:
    """Collapsible curves and epoch log of one run."""
    run_dir, name = run.path, run.record.run_name
    parts = [f"<details><summary><code>{name}</code>: curves and epoch log</summary>\n"]
    if (run_dir / "curves.png").is_file():
        parts.append(f"![curves of {name}]({_link(run_dir, base, 'curves.png')})\n")
    if (run_dir / "train.log").is_file():
        parts.append("```\n" + (run_dir / "train.log").read_text(encoding="utf-8").strip()
                     + "\n```\n")
    parts.append("</details>\n")
    return "\n".join(parts)


def seeds_lines(runs: list[Run]) -> list[str]:
    """Per recipe run with several seeds (full data): how the results spread."""
    lines = []
    for group in seed_groups(runs):
        if group.sample or len(group.members) < 2:
            continue
        mean, spread = mean_std(group.finals)
        holds = [last_epochs_minimum(run) for run in group.members]
        seeds = ", ".join(str(seed) for seed in group.seeds)
        lines += [
            f"Across seeds ({seeds}), `{group.label}`: final {tables.percent_spread(mean, spread)}"
            f" (min {tables.percent(min(group.finals))}, max "
            f"{tables.percent(max(group.finals))}); the worst of the last 3 epochs over all seeds: "
            f"{tables.percent(min(holds))}.",
            "",
        ]
    return lines


def model_tables(runs: list[Run]) -> list[str]:
    """Each model's layer table (output size, RF, params per layer) once, collapsed, from its
    run's `model.md`; full-data runs first, so the table shown is the one the claims come from."""
    shown: set = set()
    lines = []
    for run in sorted(runs, key=lambda run: run.record.data.sample):
        model_name = run.record.model.name
        table = run.folder.model_table_path
        if model_name in shown or not table.is_file():
            continue
        shown.add(model_name)
        lines += [f"<details><summary>Model <code>{model_name}</code>: layer table (output "
                  f"size, receptive field, parameters, MACs)</summary>\n",
                  table.read_text(encoding="utf-8").strip(), "", "</details>", ""]
    return lines


def results_section(logged: LoggedRuns, base: str | os.PathLike,
                    plots: Mapping[Path, ComparisonPlot]) -> str:
    """The Markdown of every complete run, per dataset: a table of runs, the seeds' spread,
    the comparison plots (`plots`, drawn by `update_readme`), layer tables and details.

    Only complete runs are results: a run still going (or stopped) is left out until it ends.
    """
    base = Path(base).resolve()
    lines = [
        "_Generated by `make report` (scripts/report.py) from `logs/*/summary.json`; do not edit by hand. "
        "\"sample\" runs use the small embedded sample and make no accuracy claim; \"final\" is "
        "the validation (= test set) accuracy after the last epoch, \"evaluate\" the "
        "`model.evaluate` accuracy recorded by the notebook; a holdout run's \"final\" is on "
        "images held out from the training set, not the test set._",
        "",
    ]
    if not logged.complete:
        return "\n".join([*lines, "No runs in logs/ yet."])
    for dataset, group in logged.by_dataset().items():
        lines += [f"### {data.title(dataset)}", "",
                  tables.render(RUN_COLUMNS, [run_cells(run, base) for run in group],
                                align="llrlrrrrrrrll", format="markdown"), ""]
        lines += seeds_lines(group)
        for plot_path, plot in plots.items():
            if plot_path.name == plot_name(dataset):
                lines += [f"![{_one_line(plot.title)}]"
                          f"({_link(plot_path.parent, base, plot_path.name)})", ""]
        lines += model_tables(group)
        lines += [run_details(run, base) for run in group]
    return "\n".join(lines).rstrip() + "\n"


DETAILS_FILE = "README.md"  # in the logs folder: every run's row, layer table, curves and log


def details_path(logs_dir: str | os.PathLike) -> Path:
    """The generated page of per-run details: `logs/README.md`."""
    return Path(logs_dir) / DETAILS_FILE


def details_page(logged: LoggedRuns, plots: Mapping[Path, ComparisonPlot]) -> str:
    """`logs/README.md`: every complete run with its files, layer tables, curves and epoch log."""
    return "# Runs in logs/\n\n" + results_section(logged, logged.logs_dir, plots)


def _validation_words(group: SeedGroup) -> str:
    if group.sample:
        return "sample (no claim)"
    if group.validation == "holdout":
        examples = group.first.data.validation_examples
        held = f"{examples:,} " if isinstance(examples, int) else ""
        return f"holdout ({held}training images; not a test accuracy)"
    return "test set"


HEADLINE_COLUMNS = ("recipe", "validation", "n", "final val acc", "best epoch (mean)", "min–max",
                    "params", "per epoch", "device")


def _recipe_cells(recipe: SeedGroup, label: str | None = None, name: str | None = None) -> list:
    """A recipe's row: name (and seeds), validation, n, mean ± std, best epoch, min–max,
    parameters, time per epoch, devices."""
    mean, spread = mean_std(recipe.finals)
    final = (tables.percent_spread(mean, spread) if len(recipe.finals) > 1
             else tables.percent(mean))
    epoch_s = [run.record.training.mean_epoch_s for run in recipe.members
               if run.record.training.mean_epoch_s]
    devices = sorted({f"{run.record.environment.backend}/{run.record.environment.device}"
                      for run in recipe.members})
    name = name or f"`{recipe.label}`"
    if len(recipe.members) > 1:
        name += f" (seeds {', '.join(str(seed) for seed in recipe.seeds)})"
    if label:
        name += f": {label}"
    return [name, _validation_words(recipe), len(recipe.members), final,
            tables.percent(mean_std(recipe.bests)[0]),
            f"{tables.percent(min(recipe.finals))}–{tables.percent(max(recipe.finals))}",
            f"{recipe.first.model.params or 0:,}",
            tables.seconds(sum(epoch_s) / len(epoch_s)) if epoch_s else "–", ", ".join(devices)]


def _empty_cells(name: str) -> list:
    """A recipe's row before it has a run."""
    return [name, "–", 0, *["–"] * (len(HEADLINE_COLUMNS) - 3)]


def _run_labels(recipe: SeedGroup, labels: Mapping[str, str]) -> str | None:
    """What `selection.yaml` says about a recipe's runs: a lone run's label, or, in a group of
    seeds, which seed the labelled run is (the label stays with the run, not the recipe)."""
    if len(recipe.members) == 1:
        return labels.get(recipe.members[0].name)
    said = [f"seed {run.record.seed} is `{run.name}`, {labels[run.name]}"
            for run in recipe.members if run.name in labels]
    return "; ".join(said) or None


def selection_lines(result: selection.Outcome, logs_dir: Path, base: Path) -> list[str]:
    """The question, the candidates on the holdout, and the answer on the test set."""
    chosen = result.selection
    link = _link(logs_dir, base, selection.SELECTION_FILE)
    rows = []
    for candidate in chosen.candidates:
        found = result.candidate_runs[candidate.name]
        if not found:
            rows.append(_empty_cells(candidate.name + " (not run yet)"))
            continue
        group = seed_groups(found)[0]
        mark = " **(chosen)**" if result.chosen is candidate else ""
        rows.append(_recipe_cells(group, name=candidate.name + mark))
    answer = []
    for role, found in (("base network", result.base_runs),
                        (f"student: {result.chosen.name}" if result.chosen else "student",
                         result.student_runs)):
        groups = seed_groups(found)
        answer.append(_recipe_cells(groups[0], name=role) if groups else
                      _empty_cells(role + " (no test-set run yet)"))
    return [f"**The assignment's question.** {chosen.question} The student's recipe is chosen "
            f"on the holdout by the rule stated before the candidates' results were seen, "
            f"{chosen.rule} ([{link}]({link})):", "",
            _recipe_table("candidate", rows), "", _recipe_table("on the test set", answer), "",
            f"**{selection.verdict(result)}**", "", *headline_plot_lines(result, logs_dir, base)]


def follow_up_lines(outcome: selection.FollowUpOutcome | None, link: str) -> list[str]:
    """The next question: today's recipe and each candidate on the holdout, and the verdict;
    the rule in its own words is in `selection.yaml` (`link`)."""
    if outcome is None:
        return []
    follow, rows = outcome.follow_up, []
    for candidate in (outcome.todays, *follow.candidates):
        groups = seed_groups(outcome.runs[candidate.name])
        if not groups:
            rows.append(_empty_cells(candidate.name + " (not run yet)"))
            continue
        mark = " **(replaces today's)**" if outcome.replacement is candidate else ""
        rows.append(_recipe_cells(groups[0], name=candidate.name + mark))
    return [f"**The next question.** {follow.question} The rule, written before any candidate "
            f"ran ([{link}]({link})): each candidate and today's recipe run on the holdout with "
            f"seeds 0 to {follow.holdout_seeds - 1}; the candidate with the highest mean replaces "
            f"today's recipe if it beats it by at least {100 * follow.margin:.1f} points, and its "
            f"{follow.test_seeds} test-set seeds answer the question.", "",
            _recipe_table("candidate", rows), "", *_replacement_table(outcome),
            f"**{selection.follow_up_verdict(outcome)}**", ""]


def _replacement_table(outcome: selection.FollowUpOutcome) -> list[str]:
    """The replacement's test-set seeds, once a candidate replaces today's recipe."""
    if outcome.replacement is None:
        return []
    groups = seed_groups(outcome.test_runs)
    name = outcome.replacement.name
    row = (_recipe_cells(groups[0], name=name) if groups else
           _empty_cells(name + " (no test-set run yet)"))
    return [_recipe_table("on the test set", [row]), ""]


def _recipe_table(first_column: str, rows: list) -> str:
    """A Markdown table of recipes over seeds (`_recipe_cells` rows) under `first_column`."""
    return tables.render((first_column, *HEADLINE_COLUMNS[1:]), rows, align="llrrrrrrl",
                         format="markdown")


def headline_plot_lines(result: selection.Outcome, logs_dir: Path, base: Path) -> list[str]:
    """The link to the headline plot (base against the chosen student), once there is one."""
    if not has_headline_plot(result):
        return []
    title = _one_line(headline_title(result))
    return [f"![{title}]({_link(logs_dir, base, HEADLINE_PLOT)})", ""]


def _one_line(title: str) -> str:
    return " ".join(title.split())


def headline_section(logged: LoggedRuns, base: str | os.PathLike) -> str:
    """The README's results: one row per recipe (complete runs that differ only by seed), with
    n, the final validation accuracy as mean ± std over seeds, the mean best epoch, min–max,
    parameters, time per epoch and device; the details are in `logs/README.md`."""
    base = Path(base).resolve()
    logs_dir = logged.logs_dir
    link = _link(logs_dir, base, DETAILS_FILE)
    lines = [
        f"_Generated by `make report` (scripts/report.py) from `logs/*/summary.json`; do not edit by hand. "
        f"One row per recipe: runs that differ only by seed, final validation accuracy as mean "
        f"± std over them (population std; one run: no spread). \"test set\" rows validated on "
        f"the full test set; \"holdout\" rows on images held out from the training set, used "
        f"to choose a recipe, never a test accuracy; sample rows make no claim. Every run's "
        f"files, layer table, curves and epoch log: [{link}]({link})._",
        "",
    ]
    if not logged.complete:
        return "\n".join([*lines, "No runs in logs/ yet."]) + "\n"
    chosen = selection.read_selection(logs_dir)
    if chosen is not None:
        result = selection.outcome(chosen, logged.complete)
        lines += selection_lines(result, logs_dir, base)
        lines += follow_up_lines(selection.follow_up_outcome(result, logged.complete),
                                 _link(logs_dir, base, selection.SELECTION_FILE))
    labels = chosen.labels if chosen is not None else {}
    for dataset, group in logged.by_dataset().items():
        rows = [_recipe_cells(recipe, _run_labels(recipe, labels))
                for recipe in seed_groups(group)]
        lines += [f"**{data.title(dataset)}**", "",
                  tables.render(HEADLINE_COLUMNS, rows, align="llrrrrrrl", format="markdown")]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def check(readme_path: str | os.PathLike = "README.md",
          logs_dir: str | os.PathLike | None = None) -> list[str]:
    """What `update_readme` would change (README's results section, comparison plots), as
    one line each; [] when everything is up to date. Writes nothing."""
    readme_path = Path(readme_path)
    logged = logs_folder.load(logs_dir)  # one view: the section, the details and the plots agree
    problems = []
    if readme_section(readme_path) != headline_section(logged, readme_path.parent):
        problems.append(f"{readme_path}: the results section differs from {logged.logs_dir}/")
    plots = comparison_plots(logged)
    details = details_path(logged.logs_dir)
    if (not details.is_file()
            or details.read_text(encoding="utf-8") != details_page(logged, plots)):
        problems.append(f"{details}: the run details differ from {logged.logs_dir}/")
    with tempfile.TemporaryDirectory() as scratch:
        for plot_path, plot in plots.items():
            fresh = Path(scratch) / plot_path.name
            plot.write(fresh)
            if not plot_path.is_file() or plot_path.read_bytes() != fresh.read_bytes():
                problems.append(f"{plot_path}: the plot differs from the runs' histories")
    return problems


def _split_readme(readme_path: Path) -> tuple[str, str, str]:
    """(text before the start marker, text between the markers, text after the end marker)."""
    text = readme_path.read_text(encoding="utf-8")
    if text.count(START_MARKER) != 1 or text.count(END_MARKER) != 1 or (
        text.index(START_MARKER) > text.index(END_MARKER)
    ):
        raise ValueError(
            f"{readme_path} must contain the markers {START_MARKER} and {END_MARKER} once each, "
            f"in that order; the results section is written between them."
        )
    head, rest = text.split(START_MARKER)
    section, tail = rest.split(END_MARKER)
    return head, section, tail


def update_readme(
    readme_path: str | os.PathLike = "README.md", logs_dir: str | os.PathLike | None = None
) -> str:
    """Replaces the text between the markers in `readme_path` with the recipe table and
    writes every run's details to `logs/README.md`; returns the README's new section."""
    readme_path = Path(readme_path)
    head, _, tail = _split_readme(readme_path)
    logged = logs_folder.load(logs_dir)  # one view: the section, the details and the plots agree
    section = headline_section(logged, readme_path.parent)
    plots = comparison_plots(logged)
    for plot_path, plot in plots.items():
        plot.write(plot_path)
    run_files.atomic_write_text(details_path(logged.logs_dir), details_page(logged, plots))
    run_files.atomic_write_text(readme_path, f"{head}{START_MARKER}\n{section}{END_MARKER}{tail}")
    return section


def readme_section(readme_path: str | os.PathLike = "README.md") -> str:
    """The results section of `readme_path` as `update_readme` wrote it (markers excluded)."""
    return _split_readme(Path(readme_path))[1].removeprefix("\n")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild README.md's results from logs/.")
    parser.add_argument("--readme", type=Path, default=Path(__file__).resolve().parents[1]
                        / "README.md", help="the README to update (default: the project's)")
    parser.add_argument("--logs-dir", type=Path, default=None,
                        help="the logs folder (default: $CNN_COURSE_LOGS_DIR, else logs/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when README.md or the plots are out of date")
    args = parser.parse_args(argv)
    logs_dir = logs_folder.resolve_logs_dir(args.logs_dir)
    if args.check:
        problems = check(args.readme, logs_dir)
        for problem in problems:
            print(f"out of date: {problem}", file=sys.stderr)
        if problems:
            print("Run `make report` to regenerate them.", file=sys.stderr)
            return 1
        print(f"{args.readme} and the plots in {logs_dir}/ match the runs.")
        return 0
    update_readme(args.readme, logs_dir)
    print(f"updated the results section of {args.readme} from {logs_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
