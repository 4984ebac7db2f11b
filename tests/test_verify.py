import keras
import pytest

from cnn_course import cli, data, models
from cnn_course.models import training
from cnn_course import environment
from cnn_course.runs import errors, run_folder, training_log
from cnn_course.study import verify


def test_verify_reproduces_a_runs_logged_accuracy(tmp_path, capsys):
    logged_quickstart_run(tmp_path, "verify-me")
    result = verify.verify_run(tmp_path / "verify-me")
    assert result.reproduced and result.examples == 200
    assert cli.main(["verify", "--logs-dir", str(tmp_path)]) == 0
    assert "ok   verify-me: logged" in capsys.readouterr().out


def logged_quickstart_run(logs_dir, name: str) -> None:
    environment.set_seed(0)
    split = data.split("mnist", sample=True)
    (x_train, y_train), (x_test, y_test) = split
    model = models.quickstart_net(filters=4)
    training.compile_classifier(model, keras.optimizers.Adam(0.01))
    run = training_log.LoggedRun(name, split, {"batch_size": 64}, logs_dir)
    model.fit(x_train, y_train, batch_size=64, epochs=1, validation_data=(x_test, y_test),
              callbacks=[run], verbose=0)


def test_a_run_that_keeps_its_logs_only_is_skipped_saying_so(tmp_path, capsys):
    logs_dir = tmp_path / "logs"
    logged_quickstart_run(logs_dir, "logs-only")
    (logs_dir / "logs-only" / "model.keras").unlink()
    assert cli.main(["verify", "--logs-dir", str(logs_dir)]) == 0
    assert "skip logs-only: complete, but it keeps its logs only (no model.keras)" in \
        capsys.readouterr().out
    with pytest.raises(errors.RunError, match="is not in .*Train it again"):
        run_folder.RunDir(logs_dir, "logs-only").complete_model_path()


def test_a_model_holding_code_fails_verify_and_its_code_never_runs(tmp_path, capsys):
    logged_quickstart_run(tmp_path, "holds-code")
    marker = tmp_path / "executed"
    where = str(marker)
    inputs = keras.Input((28, 28), dtype="uint8")
    outputs = keras.layers.Lambda(lambda t: (open(where, "w").close(), t)[1])(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "holds-code" / "model.keras")
    marker.unlink(missing_ok=True)
    assert cli.main(["verify", "--logs-dir", str(tmp_path)]) == 1
    assert "FAIL holds-code: cannot re-evaluate it: model.keras holds code (a Lambda layer); " \
           "refused in safe mode, never run" in capsys.readouterr().out
    assert not marker.exists()


def test_a_model_that_does_not_take_its_records_images_fails_in_words(tmp_path, capsys):
    from cnn_course import assignments
    from cnn_course.runs import record

    logged_quickstart_run(tmp_path, "mismatched")
    folder = tmp_path / "mismatched"
    record.write(folder, record.read(folder).replace(data={"dataset": "cifar10"}))
    assert cli.main(["verify", "--logs-dir", str(tmp_path)]) == 1
    words = ("cannot re-evaluate it: model.keras takes images of shape (28, 28), not those of "
             "cifar10 (32, 32, 3), which its summary.json names")
    assert f"FAIL mismatched: {words}" in capsys.readouterr().out
    outcome = {o.rule_id: o for o in assignments.check_run(folder, "cifar10")}
    assert outcome["student.reproduces"].status == "fail"
    assert outcome["student.reproduces"].evidence.startswith(words)
