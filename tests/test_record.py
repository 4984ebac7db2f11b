"""The run record: one schema for `summary.json`, every committed summary loads (schema 1 is
migrated on read), a file that is not a record is named with the field that is wrong, and the
recipe, the seed and "complete" are the record's answers."""

import json
import math
from pathlib import Path

import pytest

from cnn_course.runs import logs_folder, parameters, record
from cnn_course.study import seeds

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = sorted(path.parent for path in (ROOT / "logs").glob("*/summary.json"))


@pytest.mark.parametrize("run_dir", COMMITTED, ids=lambda path: path.name)
def test_every_committed_summary_loads_and_round_trips(run_dir, tmp_path):
    loaded = record.read(run_dir)
    assert loaded.run_name == run_dir.name and loaded.schema == record.SCHEMA_VERSION
    assert loaded.data.dataset in ("mnist", "fashion_mnist", "cifar10")
    if loaded.complete:
        assert 0 < loaded.final_accuracy <= 1 and loaded.training.epochs_run >= 1
    record.write(tmp_path, loaded)
    assert record.read(tmp_path) == loaded


def test_a_schema_1_summary_is_migrated_into_its_sections():
    flat = {"run_name": "old", "model_name": "net", "params": 10, "dataset": "cifar10",
            "sample": False, "seed": 3, "status": "complete", "epochs_run": 50,
            "epochs_requested": 50, "final_val_accuracy": 0.9, "backend": "tensorflow",
            "parameters": {"seed": 3, "run_name": "old", "runs_dir": "../logs", "epochs": 50,
                           "jit_compile": None, "recipe": {"weight_decay": 0.005,
                                                           "steps_per_execution": 1}}}
    migrated = record.from_json(flat)
    assert migrated.model == record.Model("net", 10)
    assert migrated.data == record.Data("cifar10", False, "test")
    assert migrated.seed == 3 and migrated.environment.backend == "tensorflow"
    assert migrated.speed == {"jit_compile": None, "steps_per_execution": 1}
    assert migrated.recipe == {"epochs": 50, "weight_decay": 0.005, "precision": "float32",
                               "label_smoothing": 0.0, "residual": False, "decay_norm": True}


def test_the_students_committed_seeds_are_one_recipe_though_written_over_three_versions():
    """Seeds 1-5 and the run named by hand: label smoothing, the speed settings and the schema
    were added between them, and weight decay is stated twice in some."""
    runs = [run for run in logs_folder.load(ROOT / "logs").complete
            if run.name.startswith("cifar10_separable-wd")]
    groups = seeds.seed_groups(runs)
    assert len(runs) >= 6 and len(groups) == 1
    assert sorted(groups[0].seeds) == list(range(len(runs)))


@pytest.mark.parametrize("text, words", [
    ('{"run_name": "x", "status": "complete", "final_val', "Unterminated string"),
    ("[0.9]", "holds a JSON list, not an object"),
    ('{"schema": 2, "run_name": "x", "model": {"params": "95k"}}',
     r"'model.params' is '95k' \(str\), expected int or null"),
    ('{"schema": 2, "run_name": "x", "data": {"sample": "yes"}}', r"'data.sample' is 'yes'"),
    ('{"schema": 9, "run_name": "x"}', "schema 9 is newer than this cnn-course reads"),
])
def test_a_file_that_is_not_a_record_is_named_with_what_is_wrong(tmp_path, text, words):
    (tmp_path / "summary.json").write_text(text)
    with pytest.raises(record.UnreadableRecordError, match=words) as caught:
        record.read(tmp_path)
    assert str(tmp_path / "summary.json") in str(caught.value)
    assert "git checkout --" in str(caught.value)


def test_a_garbled_summary_is_named_and_every_other_run_still_listed(tmp_path):
    for name in ("good", "garbled"):
        (tmp_path / name).mkdir()
        record.write(tmp_path / name, record.RunRecord(name, status="complete"))
    (tmp_path / "garbled" / "summary.json").write_text("<<<<<<< HEAD\n")
    logged = logs_folder.load(tmp_path)
    assert [run.name for run in logged.runs] == ["good"]
    assert "garbled/summary.json cannot be read" in logged.unreadable["garbled"]


def test_non_finite_numbers_are_written_as_null_and_listed(tmp_path):
    written = record.RunRecord("nan", results=record.Results(final_val_loss=math.nan))
    record.write(tmp_path, written)
    text = json.loads((tmp_path / "summary.json").read_text())  # strict JSON: no bare NaN
    assert text["results"]["final_val_loss"] is None
    assert record.read(tmp_path).non_finite == ["results.final_val_loss"]


def test_a_missing_file_is_no_record(tmp_path):
    assert record.read(tmp_path) is None


def test_each_parameter_goes_where_its_declaration_says():
    roles = parameters.split_by_role({"run_name": "r", "logs_dir": None, "seed": 1,
                                      "validation": "holdout", "sample": False,
                                      "steps_per_execution": 16, "weight_decay": 0.1,
                                      "filters": 8})
    assert roles["placement"] == {"run_name": "r", "logs_dir": None}
    assert roles["seed"] == {"seed": 1}
    assert roles["data"] == {"validation": "holdout", "sample": False}
    assert roles["speed"] == {"steps_per_execution": 16}
    assert roles["recipe"]["weight_decay"] == 0.1 and roles["recipe"]["filters"] == 8
    assert roles["recipe"]["label_smoothing"] == 0.0  # added later, at its old value


@pytest.mark.parametrize("name, short", [("weight_decay", "wd"), ("validation", ""),
                                         ("residual", "residual")])
def test_a_sweeps_run_names_use_the_declared_short_names(name, short):
    assert parameters.short_name(name) == short


def test_a_new_seed_of_the_students_recipe_joins_the_committed_ones():
    """What notebook 03 records now (its parameters and `Recipe`, schema 2) is the recipe its
    committed seeds recorded in schema 1, parameters added since at their old value."""
    import dataclasses

    from cnn_course.models import recipes

    old = record.read(ROOT / "logs" / "cifar10_separable-wd0.005-seed5")
    notebook = {"run_name": "new", "sample": False, "epochs": 50, "batch_size": 128,
                "max_learning_rate": 0.1, "weight_decay": 0.005, "label_smoothing": 0.0,
                "residual": False, "decay_norm": True, "seed": 6, "precision": "float32",
                "steps_per_execution": 1, "jit_compile": None, "validation": "test",
                "logs_dir": "/elsewhere"}
    recipe = dataclasses.replace(recipes.CIFAR10, weight_decay=0.005).as_dict()
    new = record.new_record("new", {**notebook, **recipe}, notebook=old.notebook,
                            model={"name": old.model.name}, data={"dataset": "cifar10"},
                            training={"epochs_requested": 50})
    assert new.recipe_key == old.recipe_key and new.seed == 6
    assert new.recipe_key != new.replace(recipe={**new.recipe, "residual": True}).recipe_key
