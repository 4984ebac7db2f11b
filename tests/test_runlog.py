import csv
import json
import os

import keras
import numpy as np
import pytest

from cnn_course import environment
from cnn_course.runs import (errors, logs_folder, record, run_files, run_folder,
                             training_log)
from cnn_course.study import results
from tests.helpers import InterruptAt, fit_tiny_run as fit, tiny_images, tiny_model, tiny_split

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras


def test_run_writes_every_file(tmp_path):
    fit(tmp_path)
    run_dir = tmp_path / "tiny-run"
    for name in run_files.RUN_FILES:
        assert (run_dir / name).is_file(), name
    assert not (run_dir / run_files.BACKUP_DIR_NAME).exists()
    assert not [path for path in run_dir.iterdir() if ".tmp" in path.name]


def test_history_csv_has_the_schema(tmp_path):
    fit(tmp_path)
    with open(tmp_path / "tiny-run" / "history.csv") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == run_files.HISTORY_COLUMNS
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert all(float(row["epoch_seconds"]) > 0 for row in rows)
    assert all(float(row["learning_rate"]) == pytest.approx(0.05) for row in rows)


def test_the_record_says_what_ran_on_what_and_how_well(tmp_path):
    fit(tmp_path, seed=4)
    run = record.read(tmp_path / "tiny-run")
    assert run.complete and run.schema == record.SCHEMA_VERSION
    assert run.training.epochs_requested == run.training.epochs_run == 3
    assert run.model.params == tiny_model().count_params()
    assert run.environment.backend == keras.backend.backend()
    assert run.data.sample is True and run.data.dataset == "synthetic"
    assert run.seed == 4  # the seed that seeded the process
    assert run.recipe["batch_size"] == 16 and run.recipe["epochs"] == 3
    rows = run_files.read_history(tmp_path / "tiny-run")
    assert run.results.final_val_accuracy == rows[-1]["val_accuracy"]
    assert run.results.best_val_accuracy == max(row["val_accuracy"] for row in rows)
    assert run.environment.versions["keras"] == keras.__version__
    assert run.training.wall_time_s > 0 and run.results.best_epoch in (1, 2, 3)


def test_train_log_has_keras_lines_per_epoch(tmp_path):
    fit(tmp_path, epochs=2)
    lines = (tmp_path / "tiny-run" / "train.log").read_text().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("4/4 - ") and " - val_accuracy: " in lines[1]


def test_saved_model_takes_raw_uint8_images(tmp_path):
    model, _ = fit(tmp_path)
    restored = keras.saving.load_model(tmp_path / "tiny-run" / "model.keras")
    x, _ = tiny_images(8)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_resumed_run_has_no_lost_or_duplicated_epochs(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path, epochs=5, callbacks=[InterruptAt(epoch=2)])
    run_dir = tmp_path / "tiny-run"
    assert [row["epoch"] for row in run_files.read_history(run_dir)] == [1, 2]
    assert record.read(run_dir).status == "running"
    fit(tmp_path, epochs=5)  # a new process would build a fresh model; BackupAndRestore restores
    assert [row["epoch"] for row in run_files.read_history(run_dir)] == [1, 2, 3, 4, 5]
    log = (run_dir / "train.log").read_text()
    assert [log.count(f"Epoch {epoch}/5\n") for epoch in range(1, 6)] == [1] * 5
    resumed = record.read(run_dir)
    assert resumed.training.resumed is True and resumed.training.epochs_run == 5


def test_fresh_run_has_one_segment_from_epoch_one(tmp_path):
    fit(tmp_path)
    run = record.read(tmp_path / "tiny-run")
    assert [segment["first_epoch"] for segment in run.segments] == [1]
    segment = run.segments[0]
    assert segment["git_commit"] == run.environment.git_commit
    assert segment["backend"] == keras.backend.backend()
    assert segment["started_at"] == run.training.started_at


def test_resumed_run_records_each_segment_with_its_first_epoch(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path, epochs=5, callbacks=[InterruptAt(epoch=2)])
    fit(tmp_path, epochs=5)
    run = record.read(tmp_path / "tiny-run")
    assert [segment["first_epoch"] for segment in run.segments] == [1, 3]
    assert run.training.started_at == run.segments[0]["started_at"]


def test_fresh_run_refuses_a_trained_model(tmp_path):
    model = tiny_model()
    x, y = tiny_images()
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="already been trained for 2 steps.*fresh weights"):
        fit(tmp_path, model=model)


def test_same_seed_gives_the_same_history(tmp_path):
    fit(tmp_path / "a", seed=3)
    fit(tmp_path / "b", seed=3)
    first = run_files.read_history(tmp_path / "a" / "tiny-run")
    second = run_files.read_history(tmp_path / "b" / "tiny-run")
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [row[column] for row in first] == pytest.approx([row[column] for row in second],
                                                               rel=1e-6)


def test_a_complete_run_is_kept_unless_overwrite_is_asked(tmp_path):
    fit(tmp_path, epochs=3)
    with pytest.raises(errors.RunError,
                       match=r"is complete \(3 of 3 epochs\); it is kept.*overwrite=True"):
        fit(tmp_path, epochs=2)
    assert [row["epoch"] for row in run_files.read_history(tmp_path / "tiny-run")] == [1, 2, 3]
    fit(tmp_path, epochs=2, overwrite=True)
    assert [row["epoch"] for row in run_files.read_history(tmp_path / "tiny-run")] == [1, 2]
    assert sorted(os.listdir(tmp_path)) == ["tiny-run"]  # no staging folder or lock left


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "with space", ".hidden"])
def test_invalid_run_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="Invalid run name"):
        run_files.check_run_name(name)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "summary.json"
    run_files.atomic_write_text(path, json.dumps({"old": True}))
    with pytest.raises(RuntimeError):
        with run_files.atomic_path(path) as temporary:
            temporary.write_text("half")
            raise RuntimeError("disk full")
    assert json.loads(path.read_text()) == {"old": True}
    assert os.listdir(tmp_path) == ["summary.json"]


def evaluated_run(tmp_path, overwrite=False) -> record.RunRecord:
    """A tiny run trained by hand, then its evaluation recorded as the notebooks do."""
    split = tiny_split()
    (x, y), validation_pair = split
    run = training_log.LoggedRun("tiny-run", split, {"batch_size": 16}, tmp_path,
                                 overwrite=overwrite)
    tiny_model().fit(x, y, batch_size=16, epochs=1, validation_data=validation_pair,
                     callbacks=[run], verbose=0)
    return run.record_evaluation({"accuracy": 0.5, "loss": 1.0})


def test_record_evaluation_adds_to_summary(tmp_path):
    written = evaluated_run(tmp_path)
    assert record.read(tmp_path / "tiny-run") == written
    assert written.results.evaluation == {"accuracy": 0.5, "loss": 1.0, "examples": 16,
                                          "validation": "test"}


def test_a_replaced_run_records_its_evaluation_in_its_own_folder(tmp_path):
    evaluated_run(tmp_path)
    written = evaluated_run(tmp_path, overwrite=True)  # trained in staging, then swapped in
    assert record.read(tmp_path / "tiny-run") == written
    assert not (tmp_path / ".tiny-run.staging").exists()


def test_an_evaluation_before_the_training_is_refused_and_nothing_written(tmp_path):
    run = training_log.LoggedRun("never-ran", tiny_split(), {"batch_size": 16}, tmp_path)
    try:
        with pytest.raises(errors.RunError, match="has not trained .*model.fit"):
            run.record_evaluation({"accuracy": 0.5})
    finally:
        run.release()
    assert not (tmp_path / "never-ran").exists()


def test_a_run_records_its_validation_set_and_its_size(tmp_path):
    fit(tmp_path, epochs=1)
    run = record.read(tmp_path / "tiny-run")
    assert run.data.validation == "test" and run.data.validation_examples == 16


def test_logs_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(logs_folder.LOGS_ENV_VAR, str(tmp_path))
    assert logs_folder.resolve_logs_dir() == tmp_path


def test_a_run_writes_tensorboard_event_files_where_tensorflow_is_installed(tmp_path):
    import importlib.util

    fit(tmp_path, epochs=2)
    events = list((tmp_path / "tiny-run" / "tensorboard").rglob("events.out.tfevents.*"))
    if importlib.util.find_spec("tensorflow") and importlib.util.find_spec("tensorboard"):
        assert {path.parent.name for path in events} == {"train", "validation"}
        assert sum(path.stat().st_size for path in events) < 50_000
    else:
        assert events == []


def test_a_logged_run_is_one_callback_on_a_plain_model_fit(tmp_path):
    model = tiny_model()
    split = tiny_split()
    (x, y), (x_val, y_val) = split
    run = training_log.LoggedRun("plain", split, {"batch_size": 16}, tmp_path)
    model.fit(x, y, batch_size=16, epochs=2, validation_data=(x_val, y_val), callbacks=[run],
              verbose=0)
    written = run.record_evaluation(model.evaluate(x_val, y_val, return_dict=True, verbose=0))
    assert written.complete and written.results.evaluation["examples"] == 16
    assert written.training.epochs_requested == 2  # from the fit call itself
    assert [row["epoch"] for row in run.history()] == [1, 2]
    for name in run_files.RUN_FILES:
        assert (tmp_path / "plain" / name).is_file(), name
    assert not (tmp_path / ".plain.lock").exists()  # the lock went with the end of fit


def test_a_logged_run_refuses_a_trained_model_before_any_step(tmp_path):
    model = tiny_model()
    x, y = tiny_images()
    model.fit(x, y, epochs=1, verbose=0)
    run = training_log.LoggedRun("plain", tiny_split(), None, tmp_path)
    with pytest.raises(ValueError, match="already been trained for 2 steps"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[run])
    assert not (tmp_path / ".plain.lock").exists()
    assert not (tmp_path / "plain" / "summary.json").exists()  # nothing recorded


@pytest.mark.parametrize("split, recipe, words", [
    ("plain pair", {}, "takes the `data.Split` that `data.split(...)` returns"),
    ("split", [16], "a mapping of name: value; received list")])
def test_a_run_refuses_a_plain_pair_or_a_recipe_that_is_no_mapping_before_anything(
        tmp_path, split, recipe, words):
    given = tiny_split() if split == "split" else tuple(tiny_split())
    with pytest.raises(TypeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        training_log.LoggedRun("plain", given, recipe, tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_fit_without_validation_data_stops_and_is_recorded_as_failed(tmp_path):
    environment.set_seed(0)
    split = tiny_split()
    (x, y), _ = split
    run = training_log.LoggedRun("plain", split, {"batch_size": 16}, tmp_path)
    with pytest.raises(ValueError, match="no validation pass .*validation_data=\\(x_val"):
        tiny_model().fit(x, y, batch_size=16, epochs=3, callbacks=[run], verbose=0)
    folder = run_folder.RunDir(tmp_path, "plain")
    failed = folder.record()
    assert (failed.status, failed.failure, failed.training.epochs_run) == (
        "failed", "no validation", 1)
    assert folder.backup_epoch() is None  # the next attempt starts over
    assert "failed: no validation" in results.terminal_table(tmp_path)
    fit(tmp_path, run_name="plain")
    assert folder.record().complete


@pytest.mark.parametrize("fit_arguments", [
    {"batch_size": 32, "validation_data": tiny_split()[1]},  # not the recipe's batch size
    {"batch_size": 16, "validation_split": 0.25},            # not the split's validation set
])
def test_a_fit_that_is_not_the_runs_data_and_recipe_is_refused_before_a_step(tmp_path,
                                                                             fit_arguments):
    split = tiny_split()
    (x, y), _ = split
    model = tiny_model()
    run = training_log.LoggedRun("plain", split, {"batch_size": 16}, tmp_path)
    with pytest.raises(ValueError, match="steps an epoch, but the run's split has"):
        model.fit(x, y, epochs=2, callbacks=[run], verbose=0, **fit_arguments)
    assert int(model.optimizer.iterations) == 0
    assert run_folder.RunDir(tmp_path, "plain").record() is None
    assert not (tmp_path / ".plain.lock").exists()


def test_a_logs_folder_that_is_a_file_is_refused_in_words(tmp_path):
    """It was the OSError '[Errno 17] File exists' of a mkdir deep in the lock."""
    (tmp_path / "logs").write_text("")
    with pytest.raises(errors.RunError, match="logs is a file; pass --logs-dir with a folder"):
        training_log.LoggedRun("plain", tiny_split(), {"batch_size": 16}, tmp_path / "logs")


def test_a_run_logged_by_hand_records_only_the_recipe_it_was_given(tmp_path):
    """By hand (notebook 03 in Jupyter with residual=True, say), a LoggedRun knows the recipe
    it is given: it must not state `residual: False` or `precision: float32` by default."""
    (x, y), validation_pair = split = tiny_split()
    run = training_log.LoggedRun("hand", split, {"batch_size": 16}, tmp_path)
    tiny_model().fit(x, y, batch_size=16, epochs=1, validation_data=validation_pair,
                     callbacks=[run], verbose=0)
    written = record.read(tmp_path / "hand")
    assert written.recipe == {"batch_size": 16, "epochs": 1}
    assert written.speed["precision"] == "float32"  # what the model ran with, measured


def test_a_fit_of_other_epochs_than_the_runs_is_refused_before_a_step(tmp_path):
    """A run whose parameters say 5 epochs must not be recorded complete after 2."""
    (x, y), validation_pair = split = tiny_split()
    model = tiny_model()
    run = training_log.LoggedRun("plain", split, {"batch_size": 16, "epochs": 5}, tmp_path)
    with pytest.raises(ValueError, match="runs 2 epochs, but the run's epochs parameter is 5"):
        model.fit(x, y, batch_size=16, epochs=2, validation_data=validation_pair,
                  callbacks=[run], verbose=0)
    assert int(model.optimizer.iterations) == 0
    assert run_folder.RunDir(tmp_path, "plain").record() is None


def test_a_fit_again_after_an_interrupted_one_resumes_from_its_checkpoint(tmp_path):
    """The same LoggedRun and model, fit again after a Ctrl-C: the run resumes, as a new
    LoggedRun would, instead of refusing the model as trained outside the run."""
    (x, y), validation_pair = split = tiny_split()
    model = tiny_model()
    run = training_log.LoggedRun("again", split, {"batch_size": 16}, tmp_path)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=16, epochs=3, validation_data=validation_pair,
                  callbacks=[run, InterruptAt(1)], verbose=0)
    model.fit(x, y, batch_size=16, epochs=3, validation_data=validation_pair, callbacks=[run],
              verbose=0)
    written = record.read(tmp_path / "again")
    assert written.complete and written.training.resumed
    assert [segment["first_epoch"] for segment in written.segments] == [1, 2]
    assert [row["epoch"] for row in run.history()] == [1, 2, 3]


def test_a_logged_run_trains_once_and_a_second_fit_leaves_the_complete_run(tmp_path):
    """A notebook's model cell and fit cell run again, its LoggedRun cell not: the complete run
    must not be trained over without overwrite, nor without its lock."""
    (x, y), validation_pair = split = tiny_split()
    run = training_log.LoggedRun("once", split, {"batch_size": 16}, tmp_path)
    tiny_model().fit(x, y, batch_size=16, epochs=2, validation_data=validation_pair,
                     callbacks=[run], verbose=0)
    before = (tmp_path / "once" / "summary.json").read_text()
    with pytest.raises(errors.RunError, match="has ended .*'once' is complete.*create it again"):
        tiny_model().fit(x, y, batch_size=16, epochs=1, validation_data=validation_pair,
                         callbacks=[run], verbose=0)
    assert (tmp_path / "once" / "summary.json").read_text() == before


def test_running_an_interrupted_cell_again_keeps_the_run_locked(tmp_path):
    """A notebook cell stopped mid-fit leaves its LoggedRun; the next attempt takes the lock
    over, and dropping the old object does not free the run under the new one."""
    import gc

    (x, y), validation_pair = tiny_split()
    first_model = tiny_model()
    first = training_log.LoggedRun("cell", tiny_split(), None, tmp_path)
    with pytest.raises(KeyboardInterrupt):
        first_model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                        validation_data=validation_pair, callbacks=[first, InterruptAt(1)])
    model = tiny_model()
    second = training_log.LoggedRun("cell", tiny_split(), None, tmp_path)
    del first
    gc.collect()
    assert (tmp_path / ".cell.lock").exists()
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_data=validation_pair,
              callbacks=[second])
    assert not (tmp_path / ".cell.lock").exists()
    assert record.read(tmp_path / "cell").complete
