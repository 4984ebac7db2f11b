"""Each training parameter, declared once (`DECLARED`: its role, rule and short name), and
values checked against a notebook's parameters cell (`notebooks.parameter_specs`) and those
rules, and command-line values read. The runner asks them before a kernel starts;
`training_log.LoggedRun` asks the rules for notebooks run by hand."""

from __future__ import annotations

import ast
import dataclasses
import os
import typing
from collections.abc import Mapping
from pathlib import Path

from cnn_course import data, notebooks
from cnn_course.runs.errors import RunError
from cnn_course.runs.run_files import check_run_name

class NotebookParameterError(ValueError):
    """A parameter passed to a notebook is unknown, of the wrong type or out of range."""


def parse_value(text: str) -> object:
    """A command-line value as Python: numbers, True/False/None, lists, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    return text


def check_parameters(
    notebook_path: str | os.PathLike,
    parameters: Mapping[str, object],
    specs: Mapping[str, notebooks.Parameter] | None = None,
) -> dict[str, object]:
    """Validates names, types and ranges against the parameters cell; returns the checked
    values. An int is accepted where a float is expected, and a string that reads as a number
    where a number is (YAML reads `1e-3` as a string)."""
    specs = notebooks.parameter_specs(notebook_path) if specs is None else specs
    unknown = sorted(set(parameters) - set(specs))
    if unknown:
        valid = ", ".join(f"{name}={spec.default!r}" for name, spec in specs.items())
        raise NotebookParameterError(
            f"Unknown parameter{'s' if len(unknown) > 1 else ''} {unknown} for notebook "
            f"{Path(notebook_path).name}. Valid parameters (with defaults): {valid}"
        )
    checked = {}
    for name, value in parameters.items():
        checked[name] = _coerce(specs[name], value, notebook_path)
        try:
            check_argument(name, checked[name])
            if name == "dataset" and specs[name].default in data.SPECS:  # the model's images
                data.check_fits(checked[name], specs[name].default)
        except ValueError as error:
            raise NotebookParameterError(
                f"Parameter {name!r} of notebook {Path(notebook_path).name}: {error}") from None
    if "model_variant" in checked and "model_variant" in specs:
        check_model_variant(checked["model_variant"], specs["model_variant"].default,
                            notebook_path)
    return checked


def check_model_variant(name: object, default: object, notebook_path) -> None:
    """A notebook's `model_variant` must be a registered model built for the notebook's
    dataset (the dataset of its default model). Imports Keras, so only when one is named."""
    from cnn_course import environment

    with environment.native_stderr_silenced():
        from cnn_course import models

    if not isinstance(default, str) or default not in models.MODELS:
        return
    dataset = models.dataset_of(default)
    fitting = sorted(model for model in models.MODELS if models.dataset_of(model) == dataset)
    where = f"Parameter 'model_variant' of notebook {Path(notebook_path).name}"
    if name not in models.MODELS:
        raise NotebookParameterError(
            f"{where}: unknown model {name!r}. Models for its dataset ({dataset}): {fitting}.")
    if models.dataset_of(name) != dataset:
        raise NotebookParameterError(
            f"{where}: {name!r} is built for {models.dataset_of(name)}, but the notebook "
            f"trains on {dataset}. Models for {dataset}: {fitting}.")


def _coerce(spec: notebooks.Parameter, value: object, notebook_path) -> object:
    if spec.types is None:
        return value
    if isinstance(value, str) and str not in spec.types and (
            {int, float} & set(spec.types)):
        value = parse_value(value)  # '1e-3' from YAML, '5' from a file of strings
    for expected in spec.types:
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if expected is str and spec.types == (str,) and isinstance(value, (int, float)) and (
                not isinstance(value, bool)):
            return str(value)
        if isinstance(value, expected) and (expected is bool) == isinstance(value, bool):
            return value
    raise NotebookParameterError(
        f"Parameter {spec.name!r} of notebook {Path(notebook_path).name} expects a value of type "
        f"{spec.type_name} (default {spec.default!r}); received {value!r} of type "
        f"{type(value).__name__}."
    )


# --- Each training parameter, declared once -------------------------------------------------------

RECIPE, DATA, SEED, PLACEMENT, SPEED = "recipe", "data", "seed", "placement", "speed"
_UNSET = object()


@dataclasses.dataclass(frozen=True)
class Declared:
    """What a training parameter is: its role (recipe: defines the training; data: what it
    trains and validates on; seed; placement: where the run goes; speed: how fast, not what it
    learns), its short name in a sweep's run names (None: the full name; "": the value alone),
    its rule, and the value runs logged before it existed trained with (`added`)."""

    role: str
    short: str | None = None
    rule: typing.Callable[[object], bool] | None = None
    words: str = ""
    choices: tuple | None = None
    added: object = _UNSET


def _at_least(low):
    return lambda value: value >= low


# Every parameter the runs, the sweep, the seed grouping, the selection and the CLI's checks
# know by name. A notebook parameter not listed here is part of the recipe.
DECLARED: dict[str, Declared] = {
    "run_name": Declared(PLACEMENT),
    "logs_dir": Declared(PLACEMENT),
    "runs_dir": Declared(PLACEMENT),  # logs_dir's name in runs logged before 2026-11-28
    "seed": Declared(SEED, rule=lambda value: 0 <= value < 2**32, words="between 0 and 2**32 - 1"),
    "dataset": Declared(DATA),
    "sample": Declared(DATA),
    "validation": Declared(DATA, short="", choices=data.VALIDATION_SETS),
    "steps_per_execution": Declared(SPEED, rule=_at_least(1), words="at least 1"),
    "jit_compile": Declared(SPEED),
    # Keras dtype policies: float32, or mixed precision (bf16 on GPUs and TPUs; float16 with
    # loss scaling, which Keras adds by itself). It changes the numbers, so it is the recipe's.
    "precision": Declared(RECIPE, short="", added="float32",
                          choices=("float32", "mixed_bfloat16", "mixed_float16")),
    "model_variant": Declared(RECIPE, short=""),
    "epochs": Declared(RECIPE, rule=_at_least(1), words="at least 1"),
    "batch_size": Declared(RECIPE, short="bs", rule=_at_least(1), words="at least 1"),
    "learning_rate": Declared(RECIPE, short="lr", rule=lambda value: value > 0,
                              words="greater than 0"),
    "max_learning_rate": Declared(RECIPE, short="maxlr", rule=lambda value: value > 0,
                                  words="greater than 0"),
    "weight_decay": Declared(RECIPE, short="wd", rule=_at_least(0), words="at least 0"),
    "dropout": Declared(RECIPE, rule=lambda value: 0 <= value < 1, words="in [0, 1)"),
    "label_smoothing": Declared(RECIPE, short="ls", rule=lambda value: 0 <= value < 1,
                                words="in [0, 1)", added=0.0),
    "residual": Declared(RECIPE, added=False),
    "decay_norm": Declared(RECIPE, added=True),
}


def role(name: str) -> str:
    return DECLARED[name].role if name in DECLARED else RECIPE


def short_name(name: str) -> str:
    """How a sweep's run names write the parameter (`wd0.005`, `holdout`)."""
    short = DECLARED[name].short if name in DECLARED else None
    return name if short is None else short


def split_by_role(parameters: Mapping[str, object], added: bool = True) -> dict[str, dict]:
    """The parameters by role; with `added`, the recipe also holds every recipe parameter added
    after runs were logged, at the value those runs trained with (so old and new seeds group
    together: a notebook's runs; a run logged by hand states only what it was given)."""
    roles: dict[str, dict] = {RECIPE: {}, DATA: {}, SEED: {}, PLACEMENT: {}, SPEED: {}}
    roles[RECIPE].update({name: item.added for name, item in DECLARED.items() if added
                          and item.role == RECIPE and item.added is not _UNSET})
    for name, value in parameters.items():
        roles[role(name)][name] = value
    return roles


def check_argument(name: str, value: object) -> None:
    """Raises `RunError` when `value` breaks the rule declared for `name` (names without a
    rule, and None meaning "the default", pass)."""
    if name == "run_name" and value is not None:
        check_run_name(value)
        return
    declared = DECLARED.get(name)
    if declared is None or value is None:
        return
    if declared.choices is not None:
        if value not in declared.choices:
            raise RunError(f"{name} must be one of {list(declared.choices)}; "
                           f"received {value!r}.")
        return
    if declared.rule is None or isinstance(value, bool):
        return
    if not isinstance(value, (int, float)) or not declared.rule(value):
        raise RunError(f"{name} must be {declared.words}; received {value!r}.")
