"""Checks that several assignments share: parameters, epochs, the reported accuracy, and the
re-evaluation of the committed model (`runs.verify`'s code, not a second copy)."""

from __future__ import annotations

from cnn_course import tables
from cnn_course.assignments.rules import FAIL, NOT_CHECKED, PASS


def fewer_parameters(limit: int):
    def check(run, submission):
        count = run.model.count_params()
        logged = run.record.model.params
        if logged is not None and logged != count:
            return FAIL, f"the model has {count:,} parameters but the run logged {logged:,}"
        return (PASS if count < limit else FAIL), f"{count:,} parameters ({'<' if count < limit else '≥'} {limit:,})"
    return check


def epochs_run(required: int):
    def check(run, submission):
        done, asked = run.record.training.epochs_run, run.record.training.epochs_requested
        if not run.complete:
            return FAIL, f"the run is {run.run.describe_state()}, not complete"
        ok = done == required and asked == required
        return (PASS if ok else FAIL), f"{done} of {asked} epochs run (the assignment: {required})"
    return check


def full_data(run, submission):
    """Trained and validated on the whole data set: the assignment's numbers are on its test
    set, not on the embedded sample's few hundred images, where a lucky score is easy."""
    data = run.record.data
    seen = (f"{data.validation_examples:,} validation images"
            if isinstance(data.validation_examples, int) else "validation images not logged")
    if data.sample:
        return FAIL, (f"trained on the embedded sample ({seen}); the assignment's run uses the "
                      f"full {data.dataset}: run it with `sample = False` in the notebook (`-p "
                      f"sample False` with `cnn-course run`)")
    return PASS, f"the full {data.dataset} ({seen})"


def final_accuracy_reported(run, submission):
    record = run.record
    final = record.final_accuracy
    if final is None:
        return FAIL, "no final validation accuracy in summary.json"
    if record.data.validation != "test":
        return FAIL, (f"validated on the {record.data.validation} split; the assignment's "
                      f"number is the accuracy on the test set")
    evaluated = record.results.evaluated_accuracy
    words = (f"final validation accuracy {tables.percent(final)} after epoch "
             f"{record.training.epochs_run}")
    if evaluated is not None:
        words += f"; model.evaluate in the notebook: {tables.percent(evaluated)}"
    return PASS, words


def reproduces(run, submission):
    """The committed model, re-evaluated on the validation set, gives the logged accuracy."""
    from cnn_course import data
    from cnn_course.study import verify

    if not run.complete:
        return FAIL, f"the run is {run.run.describe_state()}: no final model to re-evaluate"
    run.model  # noqa: B018 - refuses an unsafe model (Lambda) before anything evaluates it
    try:
        result = verify.verify_run(run.path, submission.data_dir)
    except data.DatasetNotFoundError:
        return NOT_CHECKED, (f"the full {run.record.data.dataset} test set is not on this "
                             f"machine (set {data.ENV_VAR})")
    except ValueError as error:  # a model that does not take its data set's images
        return FAIL, f"cannot re-evaluate it: {error}"
    words = (f"re-evaluated {tables.percent(result.measured)} on {result.examples:,} images, "
             f"logged {tables.percent(result.logged)}")
    return (PASS if result.reproduced else FAIL), words
