import keras

from cnn_course import cli, data, models
from cnn_course.models import training
from cnn_course.runs import environment, training_log, verify


def test_verify_reproduces_a_runs_logged_accuracy(tmp_path, capsys):
    environment.set_seed(0)
    (x_train, y_train), (x_test, y_test) = data.load("mnist", sample=True)
    model = models.quickstart_net(filters=4)
    training.compile_classifier(model, keras.optimizers.Adam(0.01))
    training_log.fit_logged(model, x_train, y_train, validation_data=(x_test, y_test),
                      run_name="verify-me", epochs=1, batch_size=64, dataset="mnist",
                      sample=True, logs_dir=tmp_path, verbose=0)
    result = verify.verify_run(tmp_path / "verify-me")
    assert result.reproduced and result.examples == 200
    assert cli.main(["verify", "--logs-dir", str(tmp_path)]) == 0
    assert "ok   verify-me: logged" in capsys.readouterr().out
