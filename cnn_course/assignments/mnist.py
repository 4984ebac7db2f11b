"""The MNIST assignment (lectures 2-3): a network of fewer than 20,000 parameters that reaches
a validation accuracy above 99.4% on the 10,000 test images."""

from __future__ import annotations

from cnn_course import tables
from cnn_course.assignments import common
from cnn_course.assignments.rules import FAIL, PASS, Rule

NAME = "mnist"
MAX_PARAMETERS = 20_000
MIN_ACCURACY = 0.994


def accuracy_above(run, submission):
    status, words = common.final_accuracy_reported(run, submission)
    if status != PASS:
        return status, words
    final = run.record.final_accuracy
    return ((PASS if final > MIN_ACCURACY else FAIL),
            f"final {tables.percent(final)} {'>' if final > MIN_ACCURACY else '≤'} "
            f"{tables.percent(MIN_ACCURACY)}")


RULES = (
    Rule("mnist.full_data", "trained and validated on the full MNIST, not the sample", "net",
         common.full_data),
    Rule("mnist.parameters", "fewer than 20,000 parameters", "net",
         common.fewer_parameters(MAX_PARAMETERS)),
    Rule("mnist.accuracy", "validation accuracy above 99.4% on the test set (the notebook's "
         "score)", "net", accuracy_above),
    Rule("mnist.reproduces", "the submitted model reproduces the logged accuracy", "net",
         common.reproduces),
)


def roles(runs: list) -> dict:
    """The MNIST network: the run of an MNIST model (the first, if several)."""
    chosen = [run for run in runs if run.record.data.dataset == "mnist"]
    return {"net": chosen[0]} if chosen else {}
