"""Fault injection: every way a logged run was seen to break (kills at named moments, damaged
checkpoints, concurrent runs, bad inputs, NaN, full disks) has a clear outcome, never a lost
complete run or a recorded result that did not happen."""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import nbformat
import pytest

from cnn_course import cli
from cnn_course.runs import (errors, logs_folder, notebook_runner, parameters, record,
                              run_files, run_folder, training_log)
from cnn_course.study import results
from scripts import report
from tests.helpers import InterruptAt, fit_tiny_run, tiny_model, tiny_split

NAME = "tiny-run"

# A notebook that writes a run through the runner's context without Keras (a fast kernel).
CONTEXT_NOTEBOOK_CELLS = [
    'run_name = "tiny-run"  # the run\nepochs = 2  # passes\nseed = 0  # seed\n'
    'logs_dir: "Optional[str]" = None  # where runs go\nfail = False  # raise after training',
    "from cnn_course.runs import record, run_context, run_folder\n"
    "context = run_context.RunContext.from_environment()\n"
    "run = run_folder.RunDir.at(context.run_dir)\n"
    "run.path.mkdir(parents=True, exist_ok=True)\n"
    'run.write_record(record.new_record(run_name, context.parameters, training={\n'
    '    "epochs_run": epochs, "epochs_requested": epochs}).replace(status="complete"))',
    'assert not fail, "asked to fail"',
]


def context_notebook(path):
    cells = [nbformat.v4.new_code_cell(source) for source in CONTEXT_NOTEBOOK_CELLS]
    cells[0].metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture
def notebook(tmp_path_factory):
    return context_notebook(tmp_path_factory.mktemp("notebooks") / "train.ipynb")


def snapshot(run_dir):
    """Name → bytes of every file of a run folder (recursively)."""
    return {str(path.relative_to(run_dir)): path.read_bytes()
            for path in sorted(run_dir.rglob("*")) if path.is_file()}


def interrupted_run(tmp_path, epochs=5, at=2, **kwargs):
    with pytest.raises(KeyboardInterrupt):
        fit_tiny_run(tmp_path, epochs=epochs, callbacks=[InterruptAt(epoch=at)], **kwargs)
    return run_folder.RunDir(tmp_path, NAME)


def one_line_error(capsys, argv, code=2):
    assert cli.main(argv) == code
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1, error
    return error


# 1. -p logs_dir is honoured, and may not contradict --logs-dir.
def test_logs_dir_parameter_is_where_the_run_goes(notebook, tmp_path):
    prepared = notebook_runner.check_inputs(
        notebook, {"logs_dir": str(tmp_path / "elsewhere")}).prepare()
    assert prepared.run.path == tmp_path / "elsewhere" / NAME
    assert prepared.parameters["logs_dir"] == str(tmp_path / "elsewhere")


def test_logs_dir_option_and_parameter_must_agree(notebook, tmp_path):
    with pytest.raises(errors.RunError, match="name different folders"):
        notebook_runner.check_inputs(notebook, {"logs_dir": str(tmp_path / "a")},
                                     logs_dir=tmp_path / "b")


# 2. A complete run is replaced only when asked, and only by a run that completes.
def test_runner_keeps_a_complete_run_unless_overwrite(notebook, tmp_path):
    fit_tiny_run(tmp_path)
    with pytest.raises(errors.RunError, match="is complete .*--overwrite"):
        notebook_runner.check_inputs(notebook, logs_dir=tmp_path).prepare()
    prepared = notebook_runner.check_inputs(notebook, logs_dir=tmp_path).prepare(overwrite=True)
    assert prepared.target.path == tmp_path / f".{NAME}.staging"


def test_an_interrupted_replacement_leaves_the_complete_run_intact(tmp_path):
    fit_tiny_run(tmp_path, epochs=3)
    before = snapshot(tmp_path / NAME)
    interrupted_run(tmp_path, epochs=5, overwrite=True)
    assert snapshot(tmp_path / NAME) == before
    fit_tiny_run(tmp_path, epochs=5, overwrite=True)  # resumes the staged run, then swaps
    written = record.read(tmp_path / NAME)
    assert written.complete and written.training.resumed is True
    assert [row["epoch"] for row in run_files.read_history(tmp_path / NAME)] == [1, 2, 3, 4, 5]
    assert sorted(os.listdir(tmp_path)) == [NAME]


# 3. A kill during the final save loses nothing; stale temporary files are cleaned.
def test_a_kill_while_writing_the_final_files_resumes_without_retraining(tmp_path, monkeypatch):
    def killed(model):
        raise KeyboardInterrupt("killed while writing model.md")

    monkeypatch.setattr(training_log, "layer_table_markdown", killed)
    with pytest.raises(KeyboardInterrupt):
        fit_tiny_run(tmp_path)
    run = run_folder.RunDir(tmp_path, NAME)
    assert run.state() == run_folder.INTERRUPTED and run.backup_epoch() == 3
    (run.path / ".model.abc123.tmp.keras").write_bytes(b"half a model")
    monkeypatch.undo()
    fit_tiny_run(tmp_path)
    written = run.record()
    assert written.complete and written.training.resumed is True
    assert [row["epoch"] for row in run.history()] == [1, 2, 3]
    assert not run.backup_path.exists()
    assert not list(run.path.glob(".*tmp*"))


@pytest.mark.parametrize("torn_epoch, whole", [(1, None), (2, 1)])
def test_a_kill_while_the_checkpoint_is_written_resumes_from_the_last_whole_one(
        tmp_path, monkeypatch, torn_epoch, whole):
    save, calls = keras.Model.save_weights, []

    def torn(model, filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) == torn_epoch:  # that epoch's checkpoint: half written, then killed
            Path(filepath).write_bytes(b"half an h5 file")
            raise KeyboardInterrupt("killed while writing the checkpoint")
        return save(model, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", torn)
    with pytest.raises(KeyboardInterrupt):
        fit_tiny_run(tmp_path, epochs=3)
    monkeypatch.undo()
    run = run_folder.RunDir(tmp_path, NAME)
    assert run.backup_epoch() == whole  # None: killed in its first checkpoint, nothing to resume
    fit_tiny_run(tmp_path, epochs=3)
    assert run.record().complete and run.record().training.resumed is (whole is not None)
    assert [row["epoch"] for row in run.history()] == [1, 2, 3]


# 4. A damaged checkpoint is refused, naming the folder and the way out.
@pytest.mark.parametrize("missing", [run_files.BACKUP_WEIGHTS_FILE, run_files.BACKUP_METADATA_FILE])
def test_a_damaged_checkpoint_is_refused(tmp_path, missing):
    run = interrupted_run(tmp_path)
    (run.backup_path / missing).unlink()
    with pytest.raises(errors.RunError, match=f"damaged: .*backup lacks {missing}.*--restart"):
        fit_tiny_run(tmp_path, epochs=5)


def test_a_checkpoint_ahead_of_the_log_is_refused(tmp_path):
    run = interrupted_run(tmp_path)
    run_files.atomic_write_text(run.history_path, "epoch,loss\n1,0.5\n")
    with pytest.raises(errors.RunError, match="does not match its log.*holds 2 epochs"):
        fit_tiny_run(tmp_path, epochs=5)


def test_restart_starts_a_damaged_run_over(notebook, tmp_path):
    run = interrupted_run(tmp_path)
    (run.backup_path / run_files.BACKUP_WEIGHTS_FILE).unlink()
    with pytest.raises(errors.RunError, match="damaged"):
        notebook_runner.check_inputs(notebook, logs_dir=tmp_path).prepare()
    inputs = notebook_runner.check_inputs(notebook, logs_dir=tmp_path)
    assert inputs.prepare(restart=True).target == run


# 5. One process per run.
def test_a_second_process_on_a_run_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = run_folder.RunDir(tmp_path, NAME)
        run.lock_path.write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename}))
        with pytest.raises(errors.RunLockedError, match=f"in use by process {holder.pid}"):
            fit_tiny_run(tmp_path)
        assert run.state() is None and not run.path.exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_dead_process_is_cleaned(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = run_folder.RunDir(tmp_path, NAME)
    run.lock_path.write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    fit_tiny_run(tmp_path)
    assert run.state() == run_folder.COMPLETE and not run.lock_path.exists()


# 6. A resume with other parameters or another model is refused, naming the differences.
def test_resuming_with_other_parameters_is_refused(tmp_path):
    interrupted_run(tmp_path, recipe={"learning_rate": 0.05}, seed=0)
    with pytest.raises(errors.RunError, match=r"other parameters \(learning_rate: 0.05 -> 0.1; "
                                                r"seed: 0 -> 1\).*--restart"):
        fit_tiny_run(tmp_path, epochs=5, recipe={"learning_rate": 0.1}, seed=1)


def test_a_run_resumes_whatever_its_speed_settings(tmp_path):
    """The record keeps the compiled model's speed settings (jit_compile False), the notebook
    states its parameters (None: the backend's default): a resume is not refused for them."""
    speed = {"batch_size": 16, "jit_compile": None, "steps_per_execution": 1}
    interrupted_run(tmp_path, recipe=speed)
    fit_tiny_run(tmp_path, epochs=5, recipe={**speed, "steps_per_execution": 2})
    assert record.read(tmp_path / NAME).complete


def test_resuming_with_another_model_is_refused(tmp_path):
    interrupted_run(tmp_path)
    other = tiny_model(size=8)
    other = keras.Sequential([keras.Input((8, 8), dtype="uint8"), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")], name="other")
    other.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(errors.RunError, match="while training model 'tiny'.*this model is "
                                                "'other'"):
        fit_tiny_run(tmp_path, epochs=5, model=other)


def test_runner_refuses_to_resume_with_other_parameters(notebook, tmp_path):
    run = interrupted_run(tmp_path, seed=0)
    with pytest.raises(errors.RunError, match=r"after epoch 2 .*\(seed: 0 -> 3\)"):
        notebook_runner.check_inputs(notebook, {"epochs": 5, "seed": 3}, logs_dir=tmp_path).prepare()
    assert run.backup_epoch() == 2  # nothing was touched


# 7. The executed notebook of a complete run is never replaced by a failing run.
@pytest.mark.notebook
def test_a_failing_replacement_keeps_the_complete_runs_notebook(notebook, tmp_path):
    notebook_runner.run_notebook(notebook, logs_dir=tmp_path, log_output=False)
    before = snapshot(tmp_path / NAME)
    with pytest.raises(notebook_runner.RunFailedError, match="failed in cell 4: AssertionError: asked"):
        notebook_runner.run_notebook(notebook, {"fail": True, "epochs": 3}, logs_dir=tmp_path,
                            overwrite=True, log_output=False)
    assert snapshot(tmp_path / NAME) == before
    staged = run_folder.RunDir(tmp_path, NAME).staging()
    assert staged.state() == run_folder.FAILED and staged.notebooks()
    notebook_runner.run_notebook(notebook, {"epochs": 3}, logs_dir=tmp_path, overwrite=True,
                        log_output=False)
    assert record.read(tmp_path / NAME).training.epochs_run == 3
    assert sorted(os.listdir(tmp_path)) == [f".{NAME}.kernel.log", NAME]  # no staging, no lock


# 8. Inputs are checked before a kernel starts, and leave nothing behind.
@pytest.mark.parametrize("name, value, words", [
    ("epochs", 0, "epochs must be at least 1"), ("epochs", -1, "epochs must be at least 1"),
    ("seed", -5, "seed must be between 0"), ("run_name", "", "Invalid run name: ''"),
    ("run_name", "x" * 300, "Invalid run name: 'xxx.*300 characters"),
])
def test_out_of_range_parameters_are_refused_before_a_kernel(notebook, tmp_path, name, value,
                                                             words):
    with pytest.raises(parameters.NotebookParameterError, match=words):
        notebook_runner.check_inputs(notebook, {name: value}, logs_dir=tmp_path / "logs").prepare()
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("name, value", [("epochs", 0), ("batch_size", 0)])
def test_a_logged_run_refuses_out_of_range_recipes_before_any_file(tmp_path, name, value):
    with pytest.raises(errors.RunError, match=f"{name} must be at least 1"):
        training_log.LoggedRun(NAME, tiny_split(), {name: value}, tmp_path)
    assert not (tmp_path / NAME).exists() and not list(tmp_path.iterdir())


# 9. NaN stops the run and is visible everywhere.
class PoisonAt(keras.callbacks.Callback):
    """Makes the weights NaN during a given epoch (0-based): the loss diverges."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.current = epoch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 0:
            for weight in self.model.trainable_weights:
                weight.assign(keras.ops.full(weight.shape, float("nan")))


def test_nan_stops_the_run_and_is_recorded_as_failed(tmp_path):
    with pytest.raises(training_log.TrainingDivergedError, match="loss nan in epoch 2"):
        fit_tiny_run(tmp_path, epochs=5, callbacks=[PoisonAt(epoch=1)])
    run = run_folder.RunDir(tmp_path, NAME)

    def refuse(constant):
        raise ValueError(f"bare {constant} in summary.json")

    json.loads(run.summary_path.read_text(), parse_constant=refuse)  # strict JSON
    failed = run.record()
    assert failed.status == "failed" and failed.failure == "nan"
    assert failed.training.epochs_run == 2
    assert "results.final_val_loss" in (failed.non_finite or []) or (
        failed.results.final_val_loss is None)
    assert "loss: nan" in run.train_log_path.read_text().splitlines()[3]
    assert run.backup_epoch() == 1  # the checkpoint holds the last finite epoch
    assert "failed: nan" in results.terminal_table(tmp_path)
    assert NAME not in report.details_page(logs_folder.load(tmp_path), {})


# 10. Every failure is one line naming what and what to do.
def test_cli_one_line_for_a_logs_dir_that_is_a_file(notebook, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    error = one_line_error(capsys, ["run", str(notebook), "--logs-dir", str(tmp_path / "file")])
    assert "is a file; pass --logs-dir with a folder" in error


def test_cli_one_line_for_a_read_only_logs_dir(notebook, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    error = one_line_error(capsys, ["run", str(notebook), "--logs-dir", str(tmp_path)])
    assert "is not writable" in error


def test_cli_one_line_for_malformed_yaml(notebook, tmp_path, capsys):
    (tmp_path / "p.yaml").write_text("epochs: [1,\nseed: 2\n")
    error = one_line_error(capsys, ["run", str(notebook), "-f", str(tmp_path / "p.yaml")])
    assert "not valid YAML" in error and "line" in error


def test_yaml_scientific_notation_is_a_number(tmp_path):
    path = context_notebook(tmp_path / "nb.ipynb")
    source = nbformat.read(str(path), as_version=4)
    source.cells[0].source += "\nlearning_rate = 0.1  # step"
    nbformat.write(source, str(path))
    checked = parameters.check_parameters(path, {"learning_rate": "1e-3"})
    assert checked == {"learning_rate": 0.001}


def test_cli_one_line_for_json_that_is_not_a_notebook(tmp_path, capsys):
    (tmp_path / "x.ipynb").write_text('{"hello": 1}')
    error = one_line_error(capsys, ["run", str(tmp_path / "x.ipynb")])
    assert "is not a Jupyter notebook" in error


def test_cli_one_line_for_a_damaged_checkpoint(notebook, tmp_path, capsys):
    run = interrupted_run(tmp_path)
    (run.backup_path / run_files.BACKUP_WEIGHTS_FILE).unlink()
    error = one_line_error(capsys, ["run", str(notebook), "--logs-dir", str(tmp_path)])
    assert f"{run.backup_path} lacks latest.weights.h5" in error and "--restart" in error


def test_cli_one_line_for_a_full_disk_and_the_complete_run_survives(notebook, tmp_path, capsys,
                                                                     monkeypatch):
    import papermill

    fit_tiny_run(tmp_path)
    before = snapshot(tmp_path / NAME)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x"))

    monkeypatch.setattr(papermill, "execute_notebook", disk_full)
    error = one_line_error(capsys, ["run", str(notebook), "--logs-dir", str(tmp_path),
                                    "--overwrite"], code=1)
    assert "No space left on device" in error and "Nothing complete was replaced" in error
    assert snapshot(tmp_path / NAME) == before


def test_cli_one_line_for_a_run_in_use(notebook, tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = run_folder.RunDir(tmp_path, NAME)
        run.lock_path.write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename}))
        error = one_line_error(capsys, ["run", str(notebook), "--logs-dir", str(tmp_path)])
        assert f"in use by process {holder.pid}" in error
    finally:
        holder.kill()
        holder.wait()


def training_cell_replaced(path, source):
    """The context notebook at `path`, its training cell replaced by `source`."""
    notebook = nbformat.read(str(context_notebook(path)), as_version=4)
    notebook.cells[2].source = source
    nbformat.write(notebook, str(path))
    return path


@pytest.mark.notebook
def test_a_dead_kernel_is_one_line_and_the_run_stays_resumable(tmp_path, capsys):
    path = training_cell_replaced(tmp_path / "dies.ipynb",
                                  "import os\nos._exit(1)  # like the kernel killed for memory")
    error = one_line_error(capsys, ["run", str(path), "--logs-dir", str(tmp_path / "logs")],
                           code=1)
    assert "kernel died" in error and "run the same command again to resume" in error
    assert (tmp_path / "logs" / NAME / "dies.ipynb").is_file()  # kept for reading


@pytest.mark.notebook
def test_a_cell_past_the_timeout_is_one_line_naming_the_option(tmp_path, capsys):
    """Not papermill's page-long message with the cell's source, ending 'fix the cause'."""
    path = training_cell_replaced(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)")
    error = one_line_error(capsys, ["run", str(path), "--logs-dir", str(tmp_path / "logs"),
                                    "--timeout", "2"], code=1)
    assert "a cell ran past --timeout 2 s (a longer limit: --timeout SECONDS)" in error
    assert "run the same command again to resume" in error and "preview" not in error


def test_loading_the_model_of_a_run_that_is_not_complete_says_what_to_do(tmp_path):
    with pytest.raises(errors.RunError, match="No complete run 'tiny-run' .*no run.*Train it"):
        run_folder.RunDir(tmp_path, NAME).complete_model_path()
    interrupted_run(tmp_path)
    with pytest.raises(errors.RunError, match=r"\(interrupted after epoch 2 of 5\)"):
        run_folder.RunDir(tmp_path, NAME).complete_model_path()


def test_an_unfinished_run_estimates_its_time_left_from_its_latest_segment(tmp_path):
    run = run_folder.RunDir(tmp_path, NAME)
    run.path.mkdir()
    run.write_record(record.RunRecord(NAME, training=record.Training(
        epochs_run=4, epochs_requested=10), segments=[{"first_epoch": 1}, {"first_epoch": 3}]))
    run.history_path.write_text("epoch,val_accuracy,epoch_seconds\n1,0.1,100\n2,0.2,100\n"
                                "3,0.3,10\n4,0.4,12\n")
    def loaded():
        return logs_folder.load(tmp_path).runs[0]

    assert results.seconds_left(loaded()) == 6 * 11  # the busy first segment (100 s) is left out
    assert "interrupted after epoch 4 of 10, about 1 min left" in results.terminal_table(tmp_path)
    run.write_record(run.record().replace(status="complete", training={"epochs_run": 10}))
    assert results.seconds_left(loaded()) is None
