"""Runs that differ only by seed are one recipe: its results are reported over them (mean ±
std), never one run's number alone."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Parameters that say where a run goes, which seed it drew or how fast it ran (not what it
# learns): runs equal in everything else are one recipe, and their spread over seeds is what a
# result is reported with.
NOT_RECIPE = ("seed", "run_name", "logs_dir", "steps_per_execution", "jit_compile")

# Parameters (and `Recipe` fields) added after runs were logged, with the value those earlier runs
# trained with: a new parameter's default keeps the old behaviour.
ADDED_PARAMETER_DEFAULTS = {"validation": "test", "precision": "float32", "label_smoothing": 0.0,
                            "residual": False, "decay_norm": True}


@dataclass(frozen=True)
class SeedGroup:
    """Complete runs that differ only by seed: one recipe's results."""

    label: str  # the members' shared name, without `-seedN`
    model_name: str
    dataset: str
    sample: bool
    validation: str
    members: tuple[tuple[Path, dict], ...]

    @property
    def finals(self) -> list[float]:
        return [summary["final_val_accuracy"] for _, summary in self.members]

    @property
    def bests(self) -> list[float]:
        return [summary["best_val_accuracy"] for _, summary in self.members]

    @property
    def seeds(self) -> list:
        return [summary.get("seed") for _, summary in self.members]


def recipe_parameters(summary: Mapping) -> dict:
    """What a run trained with: its parameters with the recipe's fields flattened in (the
    recipe's values win), parameters added later at their old value, and neither the seed nor
    the run's name, place or speed settings."""
    parameters = {**ADDED_PARAMETER_DEFAULTS, "validation": summary.get("validation", "test"),
                  **(summary.get("parameters") or {})}
    if isinstance(parameters.get("recipe"), Mapping):
        parameters.update(parameters.pop("recipe"))
    return {name: value for name, value in parameters.items() if name not in NOT_RECIPE}


def recipe_key(summary: Mapping) -> tuple:
    """What makes two runs the same recipe: notebook, model, data, validation set, epochs and
    every parameter but the seed and the run's name, place and speed settings."""
    parameters = recipe_parameters(summary)
    return (summary.get("notebook"), summary.get("model_name"), summary.get("dataset"),
            bool(summary.get("sample")), summary.get("epochs_requested"),
            json.dumps(parameters, sort_keys=True, default=str))


def seed_groups(runs: list[tuple[Path, dict]]) -> list[SeedGroup]:
    """The complete runs grouped by recipe (`recipe_key`), in the order first seen; a group's
    runs in seed order."""
    groups: dict[tuple, list[tuple[Path, dict]]] = {}
    for run_dir, summary in runs:
        if summary.get("status") == "complete" and summary.get("final_val_accuracy") is not None:
            groups.setdefault(recipe_key(summary), []).append((run_dir, summary))
    result = []
    for members in groups.values():
        members.sort(key=lambda member: _seed_order(member[1].get("seed")))
        names = [run_dir.name for run_dir, _ in members]
        stems = [re.sub(r"-seed\d+$", "", name) for name in names]
        # The name most members share, a sweep's (`name-seedN`) on a tie: seeds made by a sweep
        # outvote an older run of the same recipe that was named by hand.
        shared = max(range(len(stems)),
                     key=lambda index: (stems.count(stems[index]), names[index] != stems[index]))
        label = stems[shared] if len(members) > 1 else names[0]
        first = members[0][1]
        result.append(SeedGroup(label, first.get("model_name"), first.get("dataset"),
                                bool(first.get("sample")), first.get("validation", "test"),
                                tuple(members)))
    return result


def _seed_order(seed) -> tuple:
    """Whole-number seeds in order, any other (None, a string) after them."""
    return (0, seed, "") if isinstance(seed, int) else (1, 0, str(seed))


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and population standard deviation."""
    mean = sum(values) / len(values)
    return mean, (sum((value - mean) ** 2 for value in values) / len(values)) ** 0.5
