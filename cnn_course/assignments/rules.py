"""A rule of an assignment: an id, the course's one-line statement, and a check that returns
pass, fail or not checked, with the evidence it saw."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

PASS, FAIL, NOT_CHECKED = "pass", "fail", "not checked"
MARKS = {PASS: "✔", FAIL: "✘", NOT_CHECKED: "?"}


@dataclasses.dataclass(frozen=True)
class Outcome:
    rule_id: str
    statement: str
    status: str
    evidence: str

    @property
    def mark(self) -> str:
        return MARKS[self.status]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Rule:
    """`check(submission) -> (status, evidence)`; `role` names the run it reads ("net",
    "base" or "student")."""

    rule_id: str
    statement: str
    role: str
    check: Callable

    def apply(self, submission) -> Outcome:
        from cnn_course.assignments.evidence import EvidenceError

        run = submission.get(self.role)
        if run is None:
            return Outcome(self.rule_id, self.statement, FAIL,
                           f"no {self.role} run in the submission")
        try:
            status, evidence = self.check(run, submission)
        except EvidenceError as error:
            status, evidence = FAIL, str(error)
        return Outcome(self.rule_id, self.statement, status, evidence)
