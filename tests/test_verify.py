import subprocess

import keras
import pytest

from cnn_course import cli, data, models
from cnn_course.models import training
from cnn_course.runs import environment, errors, model_history, run_folder, training_log, verify


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


def git(repository, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(repository), "-c", "user.name=t",
                           "-c", "user.email=t@t", *arguments],
                          capture_output=True, check=True, text=True).stdout


def test_a_model_kept_only_in_git_history_is_verified_from_there_unchanged(tmp_path, capsys):
    logs_dir = tmp_path / "logs"
    logged_quickstart_run(logs_dir, "in-history")
    model_path = logs_dir / "in-history" / "model.keras"
    original = model_path.read_bytes()
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "logs")
    git(tmp_path, "commit", "-qm", "a run")
    git(tmp_path, "rm", "-q", "logs/in-history/model.keras")
    git(tmp_path, "commit", "-qm", "its model kept in history only")

    assert cli.main(["verify", "--logs-dir", str(logs_dir)]) == 0
    assert "ok   in-history: logged" in capsys.readouterr().out.replace("\n", " ")
    run = run_folder.RunDir(logs_dir, "in-history")
    with pytest.raises(errors.RunError, match="kept in git history") as raised:
        run.complete_model_path()
    restore = model_history.committed_model(run.model_path).restore_command
    assert restore in str(raised.value)
    subprocess.run(restore, shell=True, check=True)
    assert model_path.read_bytes() == original and not git(tmp_path, "diff", "--cached")


def test_a_model_missing_from_tree_and_history_fails_verify_saying_why(tmp_path, capsys):
    logs_dir = tmp_path / "logs"
    logged_quickstart_run(logs_dir, "lost")
    (logs_dir / "lost" / "model.keras").unlink()
    assert cli.main(["verify", "--logs-dir", str(logs_dir)]) == cli.EXIT_FAILED
    assert "FAIL lost: cannot re-evaluate it: Run 'lost' has no model.keras" in \
        capsys.readouterr().out
