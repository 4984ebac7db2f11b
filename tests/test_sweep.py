"""Sweeps (`cnn-course sweep`): a grid of points, each an ordinary logged run, on Dask: a local
cluster, and a real scheduler with workers started in other folders, writing into the client's
logs folder, one of them killed mid-run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from cnn_course.runs import logs_folder, record
from cnn_course import notebooks
from cnn_course.study import sweep
from cnn_course.study import results, seeds

CLI = [sys.executable, "-m", "cnn_course"]
# The engine does not depend on the backend (each run is its own process): real sweeps run in
# the TensorFlow stage of `make test` only, which keeps the suite within its time.
tensorflow_stage_only = pytest.mark.skipif(os.environ.get("KERAS_BACKEND") == "jax",
                                           reason="real sweeps run in the TensorFlow stage")
QUICKSTART = notebooks.resolve("quickstart")


def test_integer_ranges_and_value_lists_are_read_like_run_parameters():
    assert sweep.parse_values("0..4") == [0, 1, 2, 3, 4]
    assert sweep.parse_values("0.0005,0.005") == [0.0005, 0.005]
    assert sweep.parse_values("holdout") == ["holdout"]
    assert sweep.parse_values("True,False") == [True, False]


@pytest.mark.parametrize("text", ["4..0", "1,,2"])
def test_empty_ranges_and_empty_entries_are_refused(text):
    with pytest.raises(ValueError):
        sweep.parse_values(text)


def test_points_are_named_after_what_they_set_seed_last():
    points = sweep.expand({"seed": [0, 1], "validation": ["holdout"],
                           "weight_decay": [0.0005, 0.005]}, "cifar10_separable")
    assert [point.run_name for point in points] == [
        "cifar10_separable-holdout-wd0.0005-seed0", "cifar10_separable-holdout-wd0.005-seed0",
        "cifar10_separable-holdout-wd0.0005-seed1", "cifar10_separable-holdout-wd0.005-seed1"]


def test_a_parameter_without_values_is_refused_not_a_sweep_of_no_runs():
    """`epochs: []` in a grid file made 'sweep: 0 runs' and exit 0."""
    with pytest.raises(ValueError, match="epochs has no values"):
        sweep.expand({"seed": [0, 1], "epochs": []}, "quickstart")


def test_points_that_would_share_a_name_are_refused():
    with pytest.raises(ValueError, match="share the run name"):
        sweep.expand({"seed": [1, 1]}, "quickstart")


def test_a_bad_point_is_refused_before_anything_runs(tmp_path):
    result = subprocess.run([*CLI, "sweep", "quickstart", "-p", "epochs", "1,0",
                             "--logs-dir", str(tmp_path / "new")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Point quickstart-epochs0" in result.stderr and "epochs must be at least 1" in \
        result.stderr
    assert list(tmp_path.iterdir()) == []  # not even the logs folder was made


@pytest.mark.parametrize("name, values", [("run_name", "a,b"), ("logs_dir", "elsewhere")])
def test_where_runs_go_is_not_swept(name, values):
    points = sweep.expand({name: sweep.parse_values(values)}, "quickstart")
    with pytest.raises(ValueError, match=f"-p {name} cannot be swept"):
        sweep.check_points(QUICKSTART, points)


def test_a_scheduler_that_is_not_there_is_bad_input_and_nothing_runs(tmp_path, capsys):
    from cnn_course import cli

    assert cli.main(["sweep", "quickstart", "-p", "seed", "0..1", "--scheduler", "nonsense",
                     "--logs-dir", str(tmp_path)]) == 2
    assert "--scheduler nonsense: no Dask scheduler answers there" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_gpu_runs_on_a_machine_without_one_say_they_train_on_the_cpu(tmp_path, monkeypatch):
    import distributed

    class Stop(Exception):
        pass

    def no_cluster(**_):
        raise Stop

    monkeypatch.setattr(sweep, "gpu_count", lambda: 0)
    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    said = []
    with pytest.raises(Stop):
        sweep.run_sweep(QUICKSTART, [sweep.Point("quickstart-seed0", {"seed": 0})],
                        logs_dir=tmp_path, gpu=True, say=said.append)
    assert said == ["note: --gpu, but nvidia-smi lists no GPU here: the runs train on the CPU"]


def test_seed_groups_put_together_runs_that_differ_only_by_seed(tmp_path):
    def summary(seed, weight_decay, accuracy):
        return {"status": "complete", "notebook": "n.ipynb", "model_name": "m",
                "dataset": "cifar10", "seed": seed, "final_val_accuracy": accuracy,
                "best_val_accuracy": accuracy + 0.01, "epochs_requested": 50,
                "parameters": {"seed": seed, "weight_decay": weight_decay, "run_name": "x"}}
    for wd in (0.1, 0.2):
        for seed in (0, 1, 2):
            (tmp_path / f"r-wd{wd}-seed{seed}").mkdir()
            (tmp_path / f"r-wd{wd}-seed{seed}" / "summary.json").write_text(
                json.dumps(summary(seed, wd, 0.8 + seed / 100)))
    groups = seeds.seed_groups(logs_folder.load(tmp_path).complete)
    assert [(group.label, len(group.members)) for group in groups] == [("r-wd0.1", 3),
                                                                        ("r-wd0.2", 3)]
    assert "81.00% ± 0.82" in results.seed_groups_text(groups)


# --- real sweeps (each point a notebook kernel) ---

def sweep_command(logs, *extra):
    return [*CLI, "sweep", "quickstart", "-p", "seed", "0..2", "-p", "epochs", "2",
            "--logs-dir", str(logs), *extra]


@pytest.mark.notebook
@tensorflow_stage_only
def test_local_sweep_of_three_seeds_on_two_workers(tmp_path):
    result = subprocess.run(sweep_command(tmp_path, "--workers", "2"), capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    names = [f"quickstart-epochs2-seed{seed}" for seed in range(3)]
    for name in names:
        assert record.read(tmp_path / name).status == "complete"
    assert "3/3 complete" in result.stdout
    assert "quickstart-epochs2  test (sample)  3" in result.stdout
    again = subprocess.run(sweep_command(tmp_path, "--workers", "2"), capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0 and again.stdout.count("skip  quickstart-epochs2-seed") == 3


@pytest.mark.notebook
@tensorflow_stage_only
def test_a_point_whose_run_fails_leaves_a_failed_run_and_the_others_complete(tmp_path):
    # A conv layer of 0 filters passes the parameter checks, and Keras refuses it when the
    # notebook builds the network: that point's notebook raises.
    result = subprocess.run([*CLI, "sweep", "quickstart", "-p", "filters", "16,0",
                             "-p", "epochs", "2", "--workers", "2", "--logs-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    assert record.read(tmp_path / "quickstart-filters16-epochs2").status == "complete"
    failed = record.read(tmp_path / "quickstart-filters0-epochs2")
    assert failed.status == "failed" and "cell" in failed.error
    assert "1/2 failed" in result.stdout or "2/2 failed" in result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    """A real `dask scheduler` and two `dask worker`s, each in a folder of its own."""
    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                   "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
                                  cwd=tmp_path, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)]
    time.sleep(3)
    workers = []
    for name in ("w1", "w2"):
        folder = tmp_path / name
        folder.mkdir()
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                   "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                   "--name", name],
                                  cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(worker)
        workers.append(worker)
    time.sleep(4)
    yield address, workers
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


@pytest.mark.notebook
@tensorflow_stage_only
def test_a_clusters_workers_write_into_the_clients_logs_folder(tmp_path, cluster):
    address, _ = cluster
    logs = tmp_path / "client-logs"
    result = subprocess.run(sweep_command(logs, "--scheduler", address), capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for seed in range(3):
        run = logs / f"quickstart-epochs2-seed{seed}"
        assert record.read(run).status == "complete"
        assert (run / "model.keras").is_file() and not (run / "backup").exists()
    for name in ("w1", "w2"):  # nothing was written where the workers were started
        assert not list((tmp_path / name).rglob("summary.json"))
    assert not list(logs.glob(".sweep-*"))  # the folder's marker is gone


def test_a_worker_that_does_not_see_the_logs_folder_is_refused_before_it_trains(tmp_path):
    outcome = sweep.run_point("00_quickstart.ipynb", sweep.Point("quickstart-seed0", {}),
                              str(tmp_path / "elsewhere"), overwrite=False,
                              marker=".sweep-0123")
    assert outcome["state"] == "not started"
    assert "does not see the logs folder" in outcome["error"] and "mount it" in outcome["error"]
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.notebook
@tensorflow_stage_only
def test_a_worker_killed_mid_run_does_not_lose_its_run(tmp_path, cluster):
    address, workers = cluster
    logs = tmp_path / "client-logs"
    command = [*CLI, "sweep", "quickstart", "-p", "seed", "0..1", "-p", "epochs", "12",
               "--scheduler", address, "--logs-dir", str(logs)]
    sweep_process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
    seen = ""
    deadline = time.time() + 120
    while seen.count("start ") < 2 and time.time() < deadline:
        seen += sweep_process.stdout.readline()
    time.sleep(8)  # both kernels are training now
    os.kill(workers[0].pid, signal.SIGKILL)
    out, err = sweep_process.communicate(timeout=600)
    out = seen + out
    assert sweep_process.returncode == 0, out[-2000:] + err[-2000:]
    assert "retry quickstart-epochs12-seed" in out
    for seed in range(2):
        assert record.read(logs / f"quickstart-epochs12-seed{seed}").status == \
            "complete"
