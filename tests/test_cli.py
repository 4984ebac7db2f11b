"""The `cnn-course` command as a newcomer meets it: listing, version, results,
verify, copying the notebooks, exit codes, and a typo answered without loading TensorFlow."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import cnn_course
from cnn_course import cli
from cnn_course import notebooks
from cnn_course.runs import record
from tests.helpers import fit_tiny_run
from tests.test_report import write_run

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"cnn-course {cnn_course.__version__}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert cnn_course.__version__ == pyproject["project"]["version"]


def test_list_shows_every_notebook_with_types_defaults_and_comments(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for path in notebooks.paths():
        assert path.stem in out
    assert "    epochs: int = 20  # passes over the training set" in out
    assert "    dropout: float | None = None  # None: the variant's default dropout rate" in out


def test_every_parameter_whose_default_is_none_declares_its_types():

    for path in notebooks.paths():
        for spec in notebooks.parameter_specs(path).values():
            assert spec.types is not None, f"{path.name}: annotate {spec.name} (e.g. \"Optional[float]\")"


def test_a_none_default_parameter_is_type_checked(capsys):
    code = cli.main(["run", "01_mnist", "-p", "dropout", "abc"])
    assert code == 2
    assert "expects a value of type float | None" in capsys.readouterr().err


def test_a_course_notebook_is_found_by_its_short_name():
    assert notebooks.resolve("quickstart").name == "00_quickstart.ipynb"
    assert notebooks.resolve("01_mnist").name == "01_mnist.ipynb"
    with pytest.raises(FileNotFoundError, match="No notebook 'nope'.*cnn-course list"):
        notebooks.resolve("nope")


def test_results_prints_every_run_and_writes_nothing(tmp_path, capsys):
    write_run(tmp_path, "mnist_net")
    fit_tiny_run(tmp_path, epochs=1)
    before = sorted(path.name for path in tmp_path.rglob("*"))
    assert cli.main(["results", "--logs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mnist_net" in out and "tiny-run" in out and "99.42%" in out
    assert sorted(path.name for path in tmp_path.rglob("*")) == before


def test_results_names_a_garbled_summary_and_still_lists_every_other_run(tmp_path, capsys):
    write_run(tmp_path, "mnist_net")
    write_run(tmp_path, "merge_conflict")
    (tmp_path / "merge_conflict" / "summary.json").write_text('{"run_name": <<<<<<< HEAD\n')
    assert cli.main(["results", "--logs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mnist_net" in out and "99.42%" in out
    assert "merge_conflict" in out and "unreadable summary.json" in out
    assert f"{tmp_path / 'merge_conflict' / 'summary.json'} cannot be read" in out
    assert "git checkout --" in out


def test_results_lists_an_interrupted_run_whose_history_is_damaged(tmp_path, capsys):
    write_run(tmp_path, "mnist_net")
    summary = json.loads((tmp_path / "mnist_net" / "summary.json").read_text())
    (tmp_path / "stopped").mkdir()
    (tmp_path / "stopped" / "summary.json").write_text(json.dumps(
        {**summary, "run_name": "stopped", "status": "running"}))
    (tmp_path / "stopped" / "history.csv").write_text("epoch,loss,epoch_seconds\n1,<<<<<<<,3\n")
    assert cli.main(["results", "--logs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "stopped" in out and "interrupted after epoch" in out and "mnist_net" in out


@pytest.mark.parametrize("error, words", [
    (OSError(28, "No space left on device", "/logs/run/summary.json"),
     "No space left on device (/logs/run/summary.json). Nothing complete was replaced; free "
     "the space or fix the folder, then run the same command again."),
    (OSError("Connection refused"),
     "Connection refused. Nothing complete was replaced; fix the cause, then run the same "
     "command again.")])
def test_a_system_error_is_one_line_whose_advice_fits_it(tmp_path, capsys, monkeypatch,
                                                        error, words):
    from cnn_course.study import results

    def fails(logs_dir):
        raise error

    monkeypatch.setattr(results, "terminal_table", fails)
    assert cli.main(["results", "--logs-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"cnn-course results: error: {words}\n"


def test_verify_names_each_run_it_skips_and_why(tmp_path, capsys):
    write_run(tmp_path, "full_run", dataset="cifar10")
    summary = json.loads((tmp_path / "full_run" / "summary.json").read_text())
    (tmp_path / "interrupted").mkdir()
    (tmp_path / "interrupted" / "summary.json").write_text(json.dumps(
        {**summary, "run_name": "interrupted", "status": "running"}))
    write_run(tmp_path, "logs_only", dataset="cifar10")
    (tmp_path / "full_run" / "model.keras").write_bytes(b"not a zip")  # damaged
    code = cli.main(["verify", "full_run", "interrupted", "logs_only", "--logs-dir",
                     str(tmp_path)])
    out = capsys.readouterr().out
    assert "skip interrupted: interrupted after epoch 20 of 20" in out
    assert "skip logs_only: complete, but it keeps its logs only (no model.keras)" in out
    assert "FAIL full_run: cannot re-evaluate it" in out and code == 1


def test_verify_names_a_garbled_summary_as_a_failure_asked_or_not(tmp_path, capsys):
    write_run(tmp_path, "mnist_net")
    write_run(tmp_path, "merge_conflict")
    (tmp_path / "merge_conflict" / "summary.json").write_text('{"run_name": <<<<<<< HEAD\n')
    for names in ([], ["merge_conflict"]):
        assert cli.main(["verify", *names, "--logs-dir", str(tmp_path)]) == 1
        out = capsys.readouterr().out
        assert f"FAIL merge_conflict: {tmp_path / 'merge_conflict' / 'summary.json'} cannot " \
               f"be read" in out


def test_verify_prints_each_run_as_it_is_verified(tmp_path, capsys, monkeypatch):
    from cnn_course.study import verify

    for name in ("first", "second"):
        write_run(tmp_path, name)
    printed_before = []

    def verify_or_skip(run):
        printed_before.append(capsys.readouterr().out)
        return f"ok   {run.name}"

    monkeypatch.setattr(verify, "verify_or_skip", verify_or_skip)
    assert cli.main(["verify", "--logs-dir", str(tmp_path)]) == 0
    assert printed_before == ["", "ok   first\n"]


@pytest.mark.parametrize("command", ["results", "verify"])
def test_a_logs_folder_that_is_a_file_is_bad_input(tmp_path, capsys, command):
    (tmp_path / "logs").write_text("")
    assert cli.main([command, "--logs-dir", str(tmp_path / "logs")]) == 2
    assert "logs is a file; pass --logs-dir with a folder" in capsys.readouterr().err


def test_verify_with_nothing_to_verify_says_so(tmp_path, capsys):
    assert cli.main(["verify", "--logs-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"No complete run in {tmp_path}/ to verify.\n"


def test_verify_an_unknown_run_is_bad_input(tmp_path, capsys):
    write_run(tmp_path, "mnist_net")
    assert cli.main(["verify", "no-such-run", "--logs-dir", str(tmp_path)]) == 2
    assert "No run named 'no-such-run'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["verify", "mnist_net"], ["verify"], ["results"]])
def test_a_logs_folder_that_does_not_exist_is_bad_input_saying_how_to_point_to_one(
        tmp_path, capsys, command):
    """A mistyped --logs-dir: not "No runs in ...", which reads as a folder without runs."""
    assert cli.main([*command, "--logs-dir", str(tmp_path / "absent")]) == 2
    error = capsys.readouterr().err
    assert f"The logs folder {tmp_path / 'absent'} does not exist" in error
    assert "--logs-dir" in error


@pytest.mark.parametrize("command", [["grade", "SUBMISSION", "--assignment", "mnist", "-o"],
                                     ["submit", "SUBMISSION", "-o"]])
def test_an_output_nowhere_to_write_is_refused_before_any_work(tmp_path, capsys, command):
    write_run(tmp_path, "mnist_net")
    arguments = [str(tmp_path / "mnist_net") if part == "SUBMISSION" else part
                 for part in command]
    assert cli.main([*arguments, str(tmp_path / "absent" / "out")]) == 2
    assert f"the folder {tmp_path / 'absent'} does not exist" in capsys.readouterr().err
    assert cli.main([*arguments, str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mnist_net"]


def test_a_missing_parameters_file_is_named(tmp_path, capsys):
    assert cli.main(["run", "quickstart", "-f", str(tmp_path / "absent.yaml")]) == 2
    assert f"The parameters file {tmp_path / 'absent.yaml'} does not exist" in \
        capsys.readouterr().err


@pytest.mark.parametrize("option", [["sweep", "quickstart", "--workers", "0"],
                                    ["run", "quickstart", "--timeout", "-3"]])
def test_a_count_below_one_is_bad_input(capsys, option):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(option)
    assert exit_info.value.code == 2 and "at least 1" in capsys.readouterr().err


def test_notebooks_are_copied_and_never_clobbered(tmp_path, capsys):
    assert cli.main(["notebooks", str(tmp_path / "nb")]) == 0
    copied = sorted(path.name for path in (tmp_path / "nb").iterdir())
    assert copied == [path.name for path in notebooks.paths()]
    assert cli.main(["notebooks", str(tmp_path / "nb")]) == 2
    assert "already holds" in capsys.readouterr().err
    assert cli.main(["notebooks", str(tmp_path / "nb"), "--force"]) == 0


def test_a_typo_is_answered_without_importing_tensorflow():
    code = ("import sys\nfrom cnn_course import cli\n"
            "status = cli.main(['run', 'quickstart', '-p', 'epoch', '3'])\n"
            "assert status == 2, status\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") == 1 and "Unknown parameter ['epoch']" in result.stderr


def test_make_alone_prints_the_targets():
    result = subprocess.run(["make", "-s", "-C", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0 and "make run" in result.stdout and "make test" in result.stdout


def test_readme_is_short_outside_its_collapsed_blocks():
    depth = outside = 0
    for line in (ROOT / "README.md").read_text().splitlines():
        depth += line.count("<details")
        outside += depth == 0
        depth -= line.count("</details>")
    assert outside < 200, f"{outside} lines outside <details> blocks; collapse or cut"
    assert len((ROOT / "README.md").read_bytes()) < 25_000, "README.md over 25 kB: move details to docs/"


def test_readme_shows_the_notebook_table_in_its_first_screen():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert "| notebook | what it does | committed runs |" in lines[:30]


def test_every_relative_link_of_the_readme_and_docs_resolves():
    import re

    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


@pytest.mark.notebook
def test_the_wheel_carries_the_notebooks_and_runs_the_quick_start(tmp_path):
    """Built with `pip wheel`, installed into a fresh venv (its dependencies borrowed from this
    environment through a .pth file: CI has no network for a second install), used outside
    the repository."""
    import sysconfig

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(ROOT)], check=True)
    wheel = next((tmp_path / "dist").glob("cnn_course-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()

    environment = {name: value for name, value in os.environ.items()
                   if name != "CNN_COURSE_LOGS_DIR"}  # the tests' own logs folder

    def cnn_course(*arguments):
        return subprocess.run([str(venv / "bin" / "cnn-course"), *arguments], cwd=work,
                              env=environment, capture_output=True, text=True, timeout=600)

    where = subprocess.run([str(python), "-c", "import cnn_course; print(cnn_course.__file__)"],
                           cwd=work, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where
    listed = cnn_course("list")
    assert listed.returncode == 0 and "00_quickstart" in listed.stdout
    assert cnn_course("notebooks").returncode == 0
    copied = sorted(path.name for path in (work / "notebooks").glob("*.ipynb"))
    assert copied == [path.name for path in notebooks.paths()]
    ran = cnn_course("run", "notebooks/00_quickstart.ipynb", "-p", "epochs", "1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    written = record.read(work / "logs" / "quickstart")
    assert written.complete and written.training.epochs_run == 1
    assert "run folder:" in ran.stdout and "absl" not in ran.stdout + ran.stderr


@pytest.mark.parametrize("command", [["results"], ["verify"]])
def test_every_command_finds_the_logs_folder_by_the_runners_rule(command, tmp_path, monkeypatch,
                                                                 capsys):
    """$CNN_COURSE_LOGS_DIR, else the project's logs/ from any folder inside the project."""
    monkeypatch.setenv("CNN_COURSE_LOGS_DIR", str(tmp_path / "elsewhere"))
    write_run(tmp_path / "elsewhere", "only-here")
    cli.main(command)
    captured = capsys.readouterr()
    assert "only-here" in captured.out + captured.err or "elsewhere" in captured.out + captured.err
    monkeypatch.delenv("CNN_COURSE_LOGS_DIR")
    monkeypatch.chdir(ROOT / "notebooks")
    assert cli.main(["results"]) == 0
    assert "cifar10_base" in capsys.readouterr().out  # the project's logs/, not notebooks/logs


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_parameter_given_twice_is_refused_before_anything_runs(tmp_path, capsys, command):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "quickstart", "-p", "seed", "0", "-p", "seed", "1",
                  "--logs-dir", str(tmp_path / "logs")])
    assert exited.value.code == cli.EXIT_BAD_INPUT
    assert "-p seed is given twice; give each parameter once (a sweep's values as one list: " \
           "-p seed V1,V2)" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()
    parsed = cli.build_parser().parse_args([command, "quickstart", "-p", "seed", "0", "-p",
                                            "epochs", "2"])
    assert parsed.parameter == [["seed", "0"], ["epochs", "2"]]


def test_a_garbled_summary_met_by_run_is_named_as_the_run_file_not_the_parameters_file(
        tmp_path, capsys):
    write_run(tmp_path, "quickstart")
    (tmp_path / "quickstart" / "summary.json").write_text('{"run_name": <<<<<<< HEAD\n')
    assert cli.main(["run", "quickstart", "--logs-dir", str(tmp_path)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"{tmp_path / 'quickstart' / 'summary.json'} cannot be read" in err
    assert "YAML" not in err
