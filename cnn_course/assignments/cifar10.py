"""The CIFAR-10 assignment (lecture 3): run the base network for 50 epochs and report its
final validation accuracy; then a student network of depthwise separable convolutions only,
with BatchNorm and dropout, fewer than 100,000 parameters, its output size and receptive field
stated for every layer, trained 50 epochs, whose best validation accuracy within them beats the
base's final one.

How a 1x1 pointwise part is judged: the course writes it `SeparableConv2D(k, 1)` (a 1x1
depthwise step, then the pointwise one); a `Conv2D`, of any kernel size and at any depth (inside
a nested model or block too), breaks "separable convolutions only". `DepthwiseConv2D` is a part
of a separable convolution and is allowed.
"""

from __future__ import annotations

import re

from cnn_course import tables
from cnn_course.assignments import common
from cnn_course.assignments.rules import FAIL, PASS, Rule

NAME = "cifar10"
EPOCHS = 50
MAX_PARAMETERS = 100_000
BASE_MODEL = "cifar10_base_net"
DROPOUT_RANGE = (0.05, 0.5)  # a rate that regularizes without starving the network
BASE_NOTEBOOK = "02_cifar10_base"  # its defaults are the base's recipe
BASE_RECIPE = ("batch_size", "learning_rate")  # the parameters a student could set otherwise


def walk(layer, path: str = ""):
    """(layer, where) for every layer at any depth: nested models, Sequential blocks."""
    for inner in getattr(layer, "layers", []):
        where = f"{path}/{inner.name}" if path else inner.name
        yield inner, where
        yield from walk(inner, where)


def _forbidden_convolutions():
    import keras

    return tuple(getattr(keras.layers, name) for name in (
        "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
        if hasattr(keras.layers, name))


def separable_only(run, submission):
    forbidden = _forbidden_convolutions()
    found = [(layer, where) for layer, where in walk(run.model) if isinstance(layer, forbidden)]
    if found:
        layer, where = found[0]
        block = where.rsplit("/", 1)[0] if "/" in where else "the model itself"
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        return FAIL, f"found {type(layer).__name__} `{layer.name}` in block `{block}`{more}"
    separable = sum(type(layer).__name__ in ("SeparableConv2D", "DepthwiseConv2D")
                    for layer, _ in walk(run.model))
    return PASS, f"{separable} separable/depthwise convolutions, no other convolution"


def batchnorm(run, submission):
    import keras

    count = sum(isinstance(layer, keras.layers.BatchNormalization) for layer, _ in walk(run.model))
    return (PASS if count else FAIL), f"{count} BatchNormalization layers"


def dropout(run, submission):
    import keras

    rates = [float(layer.rate) for layer, _ in walk(run.model)
             if isinstance(layer, keras.layers.Dropout) or "Dropout" in type(layer).__name__]
    low, high = DROPOUT_RANGE
    if not rates:
        return FAIL, "no dropout layer"
    good = [rate for rate in rates if low <= rate <= high]
    words = f"dropout rates {', '.join(f'{rate:g}' for rate in rates)} (sensible: {low}–{high})"
    return (PASS if good else FAIL), words


def _layer_output_rf(line: str) -> tuple[str, ...] | None:
    """(layer (type), output, RF) of a row of `receptive_field.summary`'s text table (columns
    two or more spaces apart): what the rule is about, whatever the other columns' format."""
    cells = re.split(r"\s{2,}", line.strip())
    return (cells[0], cells[1], cells[4]) if len(cells) >= 5 else None


def receptive_field_table(run, submission):
    """The executed notebook shows every layer's output size and receptive field, and the
    table matches the submitted model (recomputed here)."""
    from cnn_course import receptive_field

    lines: list[str] = []
    receptive_field.summary(run.model, print_fn=lambda text: lines.extend(text.splitlines()))
    expected = [_layer_output_rf(line) for line in lines[3:-2]]  # the rows between the rules
    shown = {_layer_output_rf(line) for line in run.notebook_text}
    if not run.run.notebooks():
        return FAIL, ("no executed notebook in the run folder: `cnn-course run` keeps it there; "
                      "run by hand (Jupyter, Colab), save the notebook with its outputs into it")
    missing = [key for key in expected if key not in shown]
    if len(missing) == len(expected):
        return FAIL, "the executed notebook shows no layer table with output sizes and RFs"
    if missing:
        layer = missing[0][0].split(" ", 1)[0]
        return FAIL, (f"the notebook's table does not match the model at layer `{layer}` "
                      f"({len(missing)} of {len(expected)} rows differ)")
    return PASS, f"all {len(expected)} layers' output size and RF shown, matching the model"


def base_recipe(run, submission):
    """The base trained as the course's notebook trains it: a base trained worse (a larger
    learning rate, say) would let any student beat it."""
    from cnn_course.study.selection import notebook_defaults

    course = notebook_defaults(BASE_NOTEBOOK)
    stated = run.record.recipe
    other = [f"{name} {stated.get(name, 'not stated')} (the course's: {course[name]})"
             for name in BASE_RECIPE if stated.get(name) != course[name]]
    if other:
        return FAIL, f"trained with {', '.join(other)}"
    return PASS, ", ".join(f"{name} {course[name]}" for name in BASE_RECIPE)


def beats_base(run, submission):
    base = submission.get("base")
    if base is None:
        return FAIL, "no base run to compare with (pass --base RUN_DIR)"
    base_final = base.record.final_accuracy
    rows = [row for row in run.history if row.get("epoch", 0) <= EPOCHS
            and row.get("val_accuracy") is not None]
    if not rows or base_final is None:
        return FAIL, "no validation accuracy logged"
    if run.record.data.validation != base.record.data.validation:
        return FAIL, "the student and the base validated on different sets"
    best = max(rows, key=lambda row: row["val_accuracy"])
    ok = best["val_accuracy"] > base_final
    return ((PASS if ok else FAIL),
            f"best {tables.percent(best['val_accuracy'])} at epoch {int(best['epoch'])} "
            f"{'>' if ok else '≤'} base {tables.percent(base_final)} ({base.name})")


RULES = (
    Rule("base.full_data", "the base network trained and validated on the full CIFAR-10",
         "base", common.full_data),
    Rule("base.recipe", "the base network trained with the course's batch size and learning "
         "rate", "base", base_recipe),
    Rule("base.epochs", "the base network run for 50 epochs", "base", common.epochs_run(EPOCHS)),
    Rule("base.reported", "the base network's final validation accuracy reported", "base",
         common.final_accuracy_reported),
    Rule("base.reproduces", "the base model reproduces the logged accuracy", "base",
         common.reproduces),
    Rule("student.full_data", "trained and validated on the full CIFAR-10, not the sample",
         "student", common.full_data),
    Rule("student.separable_only", "depthwise separable convolutions only (no Conv2D anywhere)",
         "student", separable_only),
    Rule("student.batchnorm", "uses BatchNormalization", "student", batchnorm),
    Rule("student.dropout", "uses dropout with a sensible rate", "student", dropout),
    Rule("student.parameters", "fewer than 100,000 parameters", "student",
         common.fewer_parameters(MAX_PARAMETERS)),
    Rule("student.rf_table", "the output size and receptive field of every layer stated",
         "student", receptive_field_table),
    Rule("student.epochs", "trained for 50 epochs", "student", common.epochs_run(EPOCHS)),
    Rule("student.beats_base", "best validation accuracy within the 50 epochs above the "
         "base's final one", "student", beats_base),
    Rule("student.reproduces", "the student model reproduces the logged accuracy", "student",
         common.reproduces),
)


def roles(runs: list) -> dict:
    """The base network's run and the student's (the first non-base CIFAR-10 run)."""
    cifar = [run for run in runs if run.record.data.dataset == "cifar10"]
    base = [run for run in cifar if run.record.model.name == BASE_MODEL]
    students = [run for run in cifar if run.record.model.name != BASE_MODEL]
    found = {}
    if base:
        found["base"] = base[0]
    if students:
        found["student"] = students[0]
    return found
