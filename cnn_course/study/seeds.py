"""Runs that differ only by seed are one recipe (`RunRecord.recipe_key`): its results are
reported over them (mean ± std), never one run's number alone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cnn_course.runs.logs_folder import Run


@dataclass(frozen=True)
class SeedGroup:
    """Complete runs that differ only by seed: one recipe's results."""

    label: str  # the members' shared name, without `-seedN`
    members: tuple[Run, ...]

    @property
    def first(self):
        """The first seed's record: what every member shares (model, data, recipe)."""
        return self.members[0].record

    @property
    def sample(self) -> bool:
        return self.first.data.sample

    @property
    def validation(self) -> str:
        return self.first.data.validation

    @property
    def finals(self) -> list[float]:
        return [run.record.results.final_val_accuracy for run in self.members]

    @property
    def bests(self) -> list[float]:
        return [run.record.results.best_val_accuracy for run in self.members]

    @property
    def seeds(self) -> list:
        return [run.record.seed for run in self.members]


def seed_groups(runs: list[Run]) -> list[SeedGroup]:
    """The complete runs grouped by recipe, in the order first seen; a group's runs in seed
    order."""
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        if run.record.complete and run.record.final_accuracy is not None:
            groups.setdefault(run.record.recipe_key, []).append(run)
    result = []
    for members in groups.values():
        members.sort(key=lambda member: _seed_order(member.record.seed))
        names = [run.name for run in members]
        stems = [re.sub(r"-seed\d+$", "", name) for name in names]
        # The name most members share, a sweep's (`name-seedN`) on a tie: seeds made by a sweep
        # outvote an older run of the same recipe that was named by hand.
        shared = max(range(len(stems)),
                     key=lambda index: (stems.count(stems[index]), names[index] != stems[index]))
        label = stems[shared] if len(members) > 1 else names[0]
        result.append(SeedGroup(label, tuple(members)))
    return result


def _seed_order(seed) -> tuple:
    """Whole-number seeds in order, any other (None, a string) after them."""
    return (0, seed, "") if isinstance(seed, int) else (1, 0, str(seed))


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and population standard deviation."""
    mean = sum(values) / len(values)
    return mean, (sum((value - mean) ** 2 for value in values) / len(values)) ** 0.5
