"""The course's assignments as checkable rules: `check` one run before submitting, `grade` a
cohort into a CSV, `submit` what the course asks for as one zip. Nothing here trains, and
nothing a submission holds is executed (see `evidence`).

    from cnn_course import assignments
    outcomes = assignments.check_run("logs/cifar10_separable")   # [Outcome(rule_id, ...)]
"""

from cnn_course.assignments import cifar10, mnist
from cnn_course.assignments.grading import (ASSIGNMENTS, Submission, check_run, grade,
                                            infer_assignment, submit)
from cnn_course.assignments.rules import FAIL, NOT_CHECKED, PASS, Outcome, Rule

__all__ = ["ASSIGNMENTS", "Submission", "check_run", "grade", "infer_assignment", "submit",
           "Outcome", "Rule", "PASS", "FAIL", "NOT_CHECKED", "cifar10", "mnist"]
