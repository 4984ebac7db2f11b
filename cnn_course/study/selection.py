"""Choosing a recipe honestly: the question, the rule and the candidates are written down in
`logs/selection.yaml` before the candidates' results are seen; the candidates' holdout runs
decide by the rule; the chosen recipe's test-set seeds and the base network's answer the
question. `scripts/report.py` renders this for the README; nothing here trains or picks by a test accuracy.

A run belongs to a recipe (a candidate, the chosen one, the base) when it is a complete,
full-data run of that notebook whose every recipe parameter is the notebook's default or the
recipe's value (`RunRecord.trained_as`: the seed, the data, the run's place and its speed
settings do not count).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from cnn_course import notebooks, tables
from cnn_course.runs.errors import RunError
from cnn_course.runs.logs_folder import Run
from cnn_course.study.seeds import mean_std

SELECTION_FILE = "selection.yaml"  # in the logs folder


@dataclass(frozen=True)
class Candidate:
    name: str
    parameters: dict


@dataclass(frozen=True)
class Selection:
    """What `logs/selection.yaml` states."""

    question: str
    rule: str
    notebook: str
    base_notebook: str
    candidates: tuple[Candidate, ...]
    seeds: dict = field(default_factory=lambda: {"student": 5, "base": 3})
    goal: float | None = None
    labels: dict = field(default_factory=dict)
    next_question: FollowUp | None = None


@dataclass(frozen=True)
class FollowUp:
    """A later question (`next_question:`): can candidates on top of the chosen recipe replace
    it? Each candidate and the chosen recipe run on the holdout with seeds 0 to
    `holdout_seeds - 1`; the best candidate's mean must beat the chosen recipe's over the same
    seeds by at least `margin` to replace it, and the replacement's test-set seeds 0 to
    `test_seeds - 1` answer the question against `goal`."""

    question: str
    rule: str
    candidates: tuple[Candidate, ...]
    holdout_seeds: int
    margin: float
    goal: float | None = None
    test_seeds: int = 5


def read_selection(logs_dir: str | os.PathLike) -> Selection | None:
    """The logs folder's `selection.yaml`, checked; None when there is none."""
    import yaml

    path = Path(logs_dir) / SELECTION_FILE
    if not path.is_file():
        return None
    try:
        text = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise RunError(f"{path} is not valid YAML: {getattr(error, 'problem', error)}"
                       f"{f' at line {mark.line + 1}' if mark else ''}; fix it.") from None
    if not isinstance(text, Mapping):
        raise RunError(f"{path} holds a {type(text).__name__}; it is a mapping of question:, "
                       f"rule:, notebook:, base_notebook: and candidates:.")
    required = ("question", "rule", "notebook", "base_notebook", "candidates")
    missing = [key for key in required if key not in text]
    if missing:
        raise RunError(f"{path} lacks {', '.join(missing)}; it needs {', '.join(required)}.")
    candidates = _candidates(text["candidates"], path)
    if len({candidate.name for candidate in candidates}) != len(candidates):
        raise RunError(f"{path}: two candidates share a name.")
    follow = text.get("next_question")
    if follow is not None:
        lacking = [key for key in ("question", "rule", "candidates", "holdout_seeds", "margin")
                   if key not in follow]
        if lacking:
            raise RunError(f"{path}: next_question lacks {', '.join(lacking)}.")
        follow = FollowUp(str(follow["question"]), str(follow["rule"]),
                          _candidates(follow["candidates"], path), int(follow["holdout_seeds"]),
                          float(follow["margin"]), follow.get("goal"),
                          int(follow.get("test_seeds", 5)))
    return Selection(str(text["question"]), str(text["rule"]), str(text["notebook"]),
                     str(text["base_notebook"]), candidates,
                     dict(text.get("seeds") or {"student": 5, "base": 3}), text.get("goal"),
                     dict(text.get("labels") or {}), follow)


def _candidates(items: object, path: Path) -> tuple[Candidate, ...]:
    if not isinstance(items, list) or not all(
            isinstance(item, Mapping) and "name" in item
            and isinstance(item.get("parameters") or {}, Mapping) for item in items):
        raise RunError(f"{path}: candidates is a list of `- name: ...` entries, each with an "
                       f"optional `parameters:` mapping; received {items!r:.80}.")
    return tuple(Candidate(str(item["name"]), dict(item.get("parameters") or {}))
                 for item in items)


def notebook_defaults(notebook: str) -> dict:
    """The default of every recipe parameter of a course notebook. Read once per version of
    the file: `cnn-course results` asks for each missing run."""
    path = Path(notebooks.resolve(notebook))
    status = path.stat()
    return dict(_recipe_defaults(str(path), status.st_mtime_ns, status.st_size))


@functools.lru_cache(maxsize=16)
def _recipe_defaults(path: str, modified_ns: int, size: int) -> dict:
    """`notebook_defaults` of the file at `path` as it was at `modified_ns` with `size` bytes
    (the cache key: an edited notebook is read again)."""
    from cnn_course.runs import parameters

    defaults = notebooks.parameter_defaults(path)
    return {name: value for name, value in defaults.items()
            if parameters.role(name) == parameters.RECIPE}


def members(runs: Sequence[Run], notebook: str, settings: Mapping, defaults: Mapping,
            validation: str) -> list[Run]:
    """The complete full-data runs of `notebook` on `validation` whose recipe is the
    defaults with `settings` on top."""
    return [run for run in runs if run.record.complete
            and run.record.trained_as(notebook, {**defaults, **settings}, validation)]


@dataclass(frozen=True)
class Outcome:
    """The selection as the runs stand: each candidate's holdout runs, the chosen one (None
    until every candidate has a run), and the test-set runs of the chosen recipe and the base."""

    selection: Selection
    candidate_runs: dict  # candidate name -> [Run]
    chosen: Candidate | None
    student_runs: list
    base_runs: list


def outcome(selection: Selection, runs: Sequence[Run],
            defaults_of: Callable[[str], dict] | None = None) -> Outcome:
    """Applies the rule: the candidate with the highest mean final holdout accuracy, once every
    candidate has at least one complete holdout run (ties: the first listed). `defaults_of`
    gives a notebook's defaults (default: read from the course's notebook)."""
    defaults_of = defaults_of or notebook_defaults
    defaults = defaults_of(selection.notebook)
    candidate_runs = {candidate.name: members(runs, selection.notebook, candidate.parameters,
                                              defaults, "holdout")
                      for candidate in selection.candidates}
    chosen = None
    if all(candidate_runs.values()):
        chosen = max(selection.candidates, key=lambda candidate: mean_std(
            [run.record.final_accuracy for run in candidate_runs[candidate.name]])[0])
    student_runs = (members(runs, selection.notebook, chosen.parameters, defaults, "test")
                    if chosen else [])
    base_runs = members(runs, selection.base_notebook, {}, defaults_of(selection.base_notebook),
                        "test")
    return Outcome(selection, candidate_runs, chosen, student_runs, base_runs)


def verdict(result: Outcome) -> str:
    """The question's answer in one sentence, on the numbers as they stand, with how many of
    the planned seeds are in."""
    selection = result.selection
    if result.chosen is None:
        done = sum(bool(found) for found in result.candidate_runs.values())
        return (f"Not answered yet: {done} of {len(selection.candidates)} candidates have a "
                f"holdout run, so no recipe is chosen and no student seed has run on the test "
                f"set.")
    student = [run.record.final_accuracy for run in result.student_runs]
    base = [run.record.final_accuracy for run in result.base_runs]
    student_seeds, base_seeds = _by_seed(result.student_runs), _by_seed(result.base_runs)
    seeds_in = (f"{_seeds_in(student_seeds)} of {selection.seeds.get('student', 5)} "
                f"student seeds and {_seeds_in(base_seeds)} of "
                f"{selection.seeds.get('base', 3)} base seeds are in")
    if not student or not base:
        return f"Chosen: {result.chosen.name}. Not answered yet: {seeds_in}."
    margin = 100 * (min(student) - max(base))
    worst, best = tables.percent(min(student)), tables.percent(max(base))
    comparison = (f"the student's worst seed ({worst}) beats the base's best ({best}) by "
                  f"{margin:.2f} points" if margin > 0 else
                  f"the student's worst seed ({worst}) does not beat the base's best ({best})")
    goal = ""
    if selection.goal is not None:
        mean, planned = mean_std(student)[0], selection.seeds.get("student", 5)
        over = (f"over {_seeds_in(student_seeds)} of {planned} seeds so far"
                if len(student_seeds) < planned else f"over {_seeds_in(student_seeds)} seeds")
        goal = (f" The student's mean final test accuracy {over}, {tables.percent(mean)}, "
                f"{'meets' if mean >= selection.goal else 'is below'} the goal of "
                f"{100 * selection.goal:.1f}%.")
    return (f"Chosen: {result.chosen.name}. On the test set, {comparison} ({seeds_in})."
            f"{goal}{_repeated_seeds({'student': student_seeds, 'base': base_seeds})}")


def _by_seed(runs: Sequence[Run]) -> dict:
    """The runs' folder names grouped by seed, in the runs' order: one grouping that the seed
    count, the run count, the repeated seeds and the missing seeds all read."""
    by_seed: dict = {}
    for run in runs:
        by_seed.setdefault(run.record.seed, []).append(run.name)
    return by_seed


def _seeds_in(by_seed: Mapping) -> str:
    """How many distinct seeds there are, and how many runs when a seed ran twice."""
    runs = sum(len(names) for names in by_seed.values())
    return str(len(by_seed)) if len(by_seed) == runs else f"{len(by_seed)} ({runs} runs)"


def _repeated_seeds(by_role: Mapping[str, Mapping]) -> str:
    """A sentence naming any seed run twice (each counts above: none is dropped); '' if none."""
    repeated = [f"the {role}'s seed {seed} ({', '.join(names)})"
                for role, by_seed in by_role.items()
                for seed, names in by_seed.items() if len(names) > 1]
    if not repeated:
        return ""
    return (f" Run more than once: {'; '.join(repeated)}. Every run counts above, none is "
            f"dropped; each planned seed should run once.")


@dataclass(frozen=True)
class NextRun:
    """A run the selection still needs: a notebook with parameters on top of its defaults."""

    notebook: str
    parameters: dict  # includes the seed, and `validation` for a holdout candidate

    def sweep_command(self) -> str:
        """The `cnn-course sweep` command that makes it (named after what it sets)."""
        settings = " ".join(f"-p {name} {value}" for name, value in self.parameters.items())
        return f"cnn-course sweep {self.short_name} {settings}"

    @property
    def short_name(self) -> str:
        """The notebook's name without its number: `cifar10_separable`."""
        return re.sub(r"^\d+_", "", Path(self.notebook).stem)

    def spec(self) -> str:
        """`notebook:name=value,...`, as `scripts/gpu_window.py --runs` takes it."""
        settings = ",".join(f"{name}={value}" for name, value in self.parameters.items())
        return f"{self.short_name}:{settings}"

    def started(self, runs: Sequence[Run],
                defaults_of: Callable[[str], dict] | None = None) -> Run | None:
        """The unfinished run among `runs` (running, interrupted or failed) that is this one,
        so that `cnn-course results` says it is under way instead of inviting a second copy."""
        settings = {name: value for name, value in self.parameters.items()
                    if name not in ("seed", "validation")}
        wanted = {**(defaults_of or notebook_defaults)(self.notebook), **settings}
        validation = self.parameters.get("validation", "test")
        for run in runs:
            if (not run.complete and run.record.seed == self.parameters.get("seed")
                    and run.record.trained_as(self.notebook, wanted, validation)):
                return run
        return None


def next_runs(result: Outcome) -> list[NextRun]:
    """What is missing, in the order to run it: every candidate without a holdout run (seed 0),
    the base's missing seeds, then, once a recipe is chosen, its missing test-set seeds."""
    chosen = result.selection
    missing = [NextRun(chosen.notebook, {"validation": "holdout", **candidate.parameters,
                                         "seed": 0})
               for candidate in chosen.candidates if not result.candidate_runs[candidate.name]]
    base_seeds = _by_seed(result.base_runs)
    missing += [NextRun(chosen.base_notebook, {"seed": seed})
                for seed in range(int(chosen.seeds.get("base", 3))) if seed not in base_seeds]
    if result.chosen is not None:
        student_seeds = _by_seed(result.student_runs)
        missing += [NextRun(chosen.notebook, {**result.chosen.parameters, "seed": seed})
                    for seed in range(int(chosen.seeds.get("student", 5)))
                    if seed not in student_seeds]
    return missing


@dataclass(frozen=True)
class FollowUpOutcome:
    """The follow-up question as the runs stand: the holdout runs of today's recipe and of each
    candidate (seeds below `holdout_seeds`), the verdict once every one has them all, and the
    test-set runs that answer the question: the replacement's (seeds below `test_seeds`), or
    today's recipe's (the headline's) if it stays."""

    follow_up: FollowUp
    todays: Candidate
    runs: dict  # name (today's recipe's, or a candidate's) -> [Run]
    test_runs: list = field(default_factory=list)

    def mean(self, name: str) -> float | None:
        finals = [run.record.final_accuracy for run in self.runs[name]]
        return mean_std(finals)[0] if finals else None

    @property
    def complete(self) -> bool:
        return all(len({run.record.seed for run in found}) == self.follow_up.holdout_seeds
                   for found in self.runs.values())

    @property
    def best(self) -> Candidate:
        """The candidate with the highest holdout mean (once every holdout run is in)."""
        return max(self.follow_up.candidates, key=lambda candidate: self.mean(candidate.name))

    @property
    def gap(self) -> float:
        """The best candidate's holdout mean less today's recipe's (once complete)."""
        return self.mean(self.best.name) - self.mean(self.todays.name)

    @property
    def replacement(self) -> Candidate | None:
        """The best candidate, if it beats today's recipe by the margin (None otherwise, and
        until every holdout run is in)."""
        if not self.complete:
            return None
        beats = self.gap >= self.follow_up.margin - 1e-12  # "at least": 0.955 - 0.95 counts
        return self.best if beats else None


def follow_up_outcome(result: Outcome, runs: Sequence[Run],
                      defaults_of: Callable[[str], dict] | None = None) -> FollowUpOutcome | None:
    """The follow-up question on the runs (None without one, or before a recipe is chosen)."""
    follow = result.selection.next_question
    if follow is None or result.chosen is None:
        return None
    defaults = (defaults_of or notebook_defaults)(result.selection.notebook)
    todays = Candidate(f"today's recipe: {result.chosen.name}", result.chosen.parameters)

    def seeds_below(count: int, candidate: Candidate, validation: str) -> list[Run]:
        return [run for run in members(runs, result.selection.notebook, candidate.parameters,
                                       defaults, validation)
                if isinstance(run.record.seed, int) and run.record.seed < count]

    answer = FollowUpOutcome(follow, todays, {
        candidate.name: seeds_below(follow.holdout_seeds, candidate, "holdout")
        for candidate in (todays, *follow.candidates)})
    if answer.replacement is None:  # once complete, today's test-set seeds answer
        return replace(answer, test_runs=list(result.student_runs)) if answer.complete else answer
    return replace(answer, test_runs=seeds_below(follow.test_seeds, answer.replacement, "test"))


def follow_up_verdict(outcome: FollowUpOutcome) -> str:
    """The follow-up's state in one sentence, by its rule."""
    follow, seeds = outcome.follow_up, outcome.follow_up.holdout_seeds
    if not outcome.complete:
        done = sum(len({run.record.seed for run in found}) for found in outcome.runs.values())
        return (f"Not answered yet: {done} of {seeds * len(outcome.runs)} holdout runs are in "
                f"({seeds} seeds each for today's recipe and {len(follow.candidates)} "
                f"candidates).")
    best, gap = outcome.best, 100 * outcome.gap
    finals = [run.record.final_accuracy for run in outcome.test_runs]
    mean = mean_std(finals)[0] if finals else None
    seeds = _seeds_in(_by_seed(outcome.test_runs))
    goal = "" if follow.goal is None or mean is None else (
        f", {'meeting' if mean >= follow.goal else 'below'} the goal of "
        f"{100 * follow.goal:.1f}%")
    if outcome.replacement is None:
        stays = (f"Today's recipe stays: the best candidate, {best.name}, is {gap:+.2f} points "
                 f"from it on the holdout, short of the {100 * follow.margin:.1f} the rule asks.")
        return stays if mean is None else (
            f"{stays} The answer is today's recipe's: mean final test accuracy "
            f"{tables.percent(mean)} over {seeds} seeds{goal}.")
    replaced = (f"Replaced by {best.name}: {gap:+.2f} points over today's recipe on the "
                f"holdout (the rule asks {100 * follow.margin:.1f}).")
    if mean is None:
        return f"{replaced} Its {follow.test_seeds} test-set seeds answer the question: none is in."
    return (f"{replaced} On the test set, {seeds} of {follow.test_seeds} test-set seeds are in: "
            f"mean final accuracy {tables.percent(mean)}{goal}.")


def follow_up_next_runs(outcome: FollowUpOutcome, notebook: str) -> list[NextRun]:
    """The follow-up's missing holdout runs, seed by seed (every recipe's seed 0 first), then
    the replacement's missing test-set seeds."""
    recipes = (outcome.todays, *outcome.follow_up.candidates)
    missing = [NextRun(notebook, {"validation": "holdout", **recipe.parameters, "seed": seed})
               for seed in range(outcome.follow_up.holdout_seeds) for recipe in recipes
               if seed not in {run.record.seed for run in outcome.runs[recipe.name]}]
    if outcome.replacement is not None:
        done = _by_seed(outcome.test_runs)
        missing += [NextRun(notebook, {**outcome.replacement.parameters, "seed": seed})
                    for seed in range(outcome.follow_up.test_seeds) if seed not in done]
    return missing
