"""A run's record: the one schema of `summary.json`, and the one module that reads, checks and
writes it. Everything else asks a `RunRecord` (is it complete, what recipe, which seed, how
well) and never reads the file's keys.

The schema is plain dataclasses, checked field by field against their annotations: a summary is
small, and the standard library keeps the package's install unchanged (Colab, a laptop).
Schema 2 groups the fields by what they say (identity, data, recipe, speed, environment,
training, results); a summary written before it (schema 1: one flat object) is migrated when
read, so every committed run loads as it is on disk.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import typing
from collections.abc import Mapping
from pathlib import Path

from cnn_course.runs import parameters as declared
from cnn_course.runs.run_files import SUMMARY_FILE, atomic_write_text, restore_advice

SCHEMA_VERSION = 2
RUNNING, INTERRUPTED, FAILED, COMPLETE = "running", "interrupted", "failed", "complete"


class UnreadableRecordError(ValueError):
    """A `summary.json` that is not a run's record (a merge conflict, a disk that filled up, a
    hand edit); the message names the file, what is wrong and what to do (`path` and
    `problem` alone: for a file someone else made, which the reader cannot restore)."""


@dataclasses.dataclass(frozen=True)
class Model:
    name: str | None = None
    params: int | None = None
    trainable_params: int | None = None


@dataclasses.dataclass(frozen=True)
class Data:
    """What the run trained and validated on: "test" (the course's convention) or "holdout"
    (images held out from the training set: never shown as a test accuracy)."""

    dataset: str | None = None
    sample: bool = False
    validation: str = "test"
    validation_examples: int | None = None


@dataclasses.dataclass(frozen=True)
class Environment:
    """The process that trained last (each process's own: `RunRecord.segments`)."""

    git_commit: str | None = None
    uncommitted_changes: list | None = None
    backend: str | None = None
    device: str | None = None
    versions: dict | None = None
    platform: str | None = None
    colab: bool | None = None
    cpu_count: int | None = None


@dataclasses.dataclass(frozen=True)
class Training:
    """How far the training went and how long it took."""

    epochs_requested: int | None = None
    epochs_run: int = 0
    steps_per_epoch: int | None = None
    started_at: str | None = None
    updated_at: str | None = None
    finished_at: str | None = None
    resumed: bool = False
    wall_time_s: float = 0.0
    train_time_s: float | None = None
    mean_epoch_s: float | None = None


@dataclasses.dataclass(frozen=True)
class Results:
    """Validation accuracy after the last epoch (the result) and at the best epoch (reported,
    never used to choose anything); `evaluation` is the notebook's `model.evaluate`."""

    final_val_accuracy: float | None = None
    final_val_loss: float | None = None
    best_val_accuracy: float | None = None
    best_epoch: int | None = None
    evaluation: dict | None = None

    @property
    def evaluated_accuracy(self) -> float | None:
        value = (self.evaluation or {}).get("accuracy")
        return value if isinstance(value, (int, float)) else None


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """Everything a run's `summary.json` says.

    `recipe` is what defines the training (every recipe parameter, with parameters added after
    a run was logged at the value that run trained with), and nothing else: the seed, the data,
    the speed settings and where the run went each have their own place.
    """

    run_name: str
    status: str = RUNNING
    seed: int | None = None
    notebook: str | None = None
    launched_by: str | None = None
    failure: str | None = None
    error: str | None = None
    model: Model = Model()
    data: Data = Data()
    recipe: dict = dataclasses.field(default_factory=dict)
    speed: dict = dataclasses.field(default_factory=dict)
    environment: Environment = Environment()
    segments: list = dataclasses.field(default_factory=list)
    training: Training = Training()
    results: Results = Results()
    non_finite: list | None = None
    schema: int = SCHEMA_VERSION

    @property
    def complete(self) -> bool:
        """The one definition: a run is a result only when it trained all its epochs."""
        return self.status == COMPLETE

    @property
    def final_accuracy(self) -> float | None:
        return self.results.final_val_accuracy

    @property
    def recipe_key(self) -> tuple:
        """What makes two runs the same recipe (their results are reported over seeds):
        notebook, model, data, epochs and every recipe parameter; not the seed, nor where the
        run went, nor how fast it ran."""
        return (self.notebook, self.model.name, self.data.dataset, self.data.sample,
                self.data.validation, self.training.epochs_requested,
                json.dumps(self.recipe, sort_keys=True, default=str))

    def trained_as(self, notebook: str, wanted: Mapping, validation: str) -> bool:
        """Whether this is a full-data run of `notebook` on `validation` whose recipe has
        `wanted`'s values (a parameter it does not state is not held against it)."""
        return (self.notebook == notebook and not self.data.sample
                and self.data.validation == validation
                and all(self.recipe.get(name, value) == value for name, value in wanted.items()))

    def replace(self, **sections) -> RunRecord:
        """A copy with some fields changed; a section given as a mapping updates its fields
        (`record.replace(training={"epochs_run": 3})`)."""
        changes = {}
        for name, value in sections.items():
            current = getattr(self, name)
            if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
                value = dataclasses.replace(current, **value)
            changes[name] = value
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def new_record(run_name: str, parameters: Mapping, added: bool = True, **sections) -> RunRecord:
    """The record of a run starting with `parameters` (the notebook's, defaults merged): each
    goes where its declaration says (`parameters.DECLARED`; `added`: see `split_by_role`)."""
    roles = declared.split_by_role(parameters, added)
    data = {"sample": bool(roles["data"].get("sample", False)),
            "validation": roles["data"].get("validation", "test"), **sections.pop("data", {})}
    return RunRecord(run_name=run_name, seed=roles["seed"].get("seed"), recipe=roles["recipe"],
                     speed=roles["speed"], data=Data(**data),
                     **{name: _section(name, value) for name, value in sections.items()})


# --- reading and writing --------------------------------------------------------------------------

def read(run_dir: str | os.PathLike) -> RunRecord | None:
    """The record in `run_dir/summary.json`; None when there is none. `UnreadableRecordError`
    names a file that is not a run's record, with what is wrong and what to do."""
    path = Path(run_dir) / SUMMARY_FILE
    if not path.is_file():
        return None
    try:
        text = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        _unreadable(path, str(error))
    if not isinstance(text, dict):
        _unreadable(path, f"it holds a JSON {type(text).__name__}, not an object")
    try:
        return from_json({"run_name": path.parent.name, **text})
    except (TypeError, ValueError) as error:
        _unreadable(path, str(error))


def from_json(text: Mapping) -> RunRecord:
    """A record from its JSON object (schema 1 is migrated); TypeError names a field that does
    not hold what a run writes there. `run_name` must be there (`read` gives the folder's)."""
    if text.get("schema", 1) == 1:
        text = _migrate_v1(text)
    elif text.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"schema {text.get('schema')!r} is newer than this cnn-course reads "
                         f"(schema {SCHEMA_VERSION}); upgrade cnn-course")
    return _build(RunRecord, text, "")


def write(run_dir: str | os.PathLike, record: RunRecord) -> None:
    """Strict JSON, atomically: NaN and infinities become null and their fields are listed
    under `non_finite`, so every JSON parser reads the file and nothing is hidden."""
    non_finite: list[str] = []

    def clean(value, key):
        if isinstance(value, float) and not math.isfinite(value):
            non_finite.append(key)
            return None
        if isinstance(value, Mapping):
            return {name: clean(item, f"{key}.{name}" if key else name)
                    for name, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(item, f"{key}[{index}]") for index, item in enumerate(value)]
        return value

    text = clean({**record.to_json(), "non_finite": None}, "")
    text["non_finite"] = non_finite or None
    atomic_write_text(Path(run_dir) / SUMMARY_FILE,
                      json.dumps(text, indent=2, allow_nan=False) + "\n")


def _unreadable(path: Path, problem: str) -> typing.NoReturn:
    error = UnreadableRecordError(f"{path} cannot be read ({problem}). {restore_advice(path)}")
    error.path, error.problem = path, problem
    raise error


def _section(name: str, value):
    kind = typing.get_type_hints(RunRecord)[name]
    return _build(kind, value, name) if dataclasses.is_dataclass(kind) else value


def _build(kind: type, text: Mapping, where: str):
    """`kind(**text)`, each field checked against its annotation; unknown fields dropped (a
    newer writer's additions), missing ones at their default."""
    if not isinstance(text, Mapping):
        raise TypeError(f"{where!r} is {text!r}, expected an object")
    hints = typing.get_type_hints(kind)
    values = {}
    for field in dataclasses.fields(kind):
        if field.name not in text:
            continue
        value, hint = text[field.name], hints[field.name]
        place = f"{where}.{field.name}" if where else field.name
        if dataclasses.is_dataclass(hint):
            values[field.name] = _build(hint, value, place)
            continue
        allowed = typing.get_args(hint) or (hint,)
        if value is None and type(None) in allowed:
            values[field.name] = value
            continue
        accepted = tuple(kind for option in allowed
                         for kind in ((int, float) if option is float else (option,)))
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, accepted):
            expected = " or ".join(getattr(a, "__name__", str(a)) for a in allowed)
            raise TypeError(f"{place!r} is {value!r} ({type(value).__name__}), expected "
                            f"{expected.replace('NoneType', 'null')}; the file was edited or "
                            f"not written by a run")
        values[field.name] = value
    return kind(**values)


def _migrate_v1(flat: Mapping) -> dict:
    """A schema-1 summary (one flat object, written before 2026-12-04) in schema 2: its
    parameters split by their declared role, the recipe's fields flattened in, parameters
    added later at the value those runs trained with."""
    parameters = {**(flat.get("parameters") or {})}
    if isinstance(parameters.get("recipe"), Mapping):
        parameters.update(parameters.pop("recipe"))
    for name in ("seed", "validation", "sample"):
        if name in flat:
            parameters.setdefault(name, flat[name])
    roles = declared.split_by_role(parameters)

    def pick(section: type) -> dict:
        return {field.name: flat[field.name] for field in dataclasses.fields(section)
                if field.name in flat}

    return {
        "schema": SCHEMA_VERSION, "run_name": flat["run_name"],
        "status": flat.get("status", RUNNING), "seed": flat.get("seed"),
        **{name: flat.get(name) for name in ("notebook", "launched_by", "failure", "error",
                                            "non_finite")},
        "model": {"name": flat.get("model_name"), "params": flat.get("params"),
                  "trainable_params": flat.get("trainable_params")},
        "data": {**pick(Data), "validation": flat.get("validation") or "test",
                 "sample": bool(flat.get("sample"))},
        "recipe": roles["recipe"], "speed": flat.get("speed") or roles["speed"],
        "environment": pick(Environment), "segments": flat.get("segments") or [],
        "training": pick(Training), "results": pick(Results),
    }
