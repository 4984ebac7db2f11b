import subprocess

import pytest

from cnn_course import environment

pytestmark = pytest.mark.keras_version  # also run on the oldest Keras


@pytest.fixture
def repository(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "test@example.com")
    git("config", "user.name", "test")
    (tmp_path / "cnn_course").mkdir()
    (tmp_path / "cnn_course" / "model.py").write_text("width = 32\n")
    (tmp_path / "notes.txt").write_text("draft\n")
    git("add", ".")
    git("commit", "-qm", "start")
    return tmp_path


def test_uncommitted_changes_is_empty_on_a_clean_checkout(repository):
    assert environment.uncommitted_changes(repository) == []
    assert len(environment.git_commit(repository)) == 40


def test_uncommitted_changes_lists_edited_code_from_any_subfolder(repository):
    (repository / "cnn_course" / "model.py").write_text("width = 64\n")
    assert environment.uncommitted_changes(repository / "cnn_course") == ["cnn_course/model.py"]


def test_uncommitted_changes_ignores_files_outside_the_code_paths(repository):
    (repository / "notes.txt").write_text("edited\n")
    (repository / "cnn_course" / "new_untracked.py").write_text("")
    assert environment.uncommitted_changes(repository) == []


def test_uncommitted_changes_is_none_outside_git(tmp_path):
    assert environment.uncommitted_changes(tmp_path) is None


def test_the_keras_floor_is_pyprojects():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    floor = next(item for item in pyproject["project"]["dependencies"] if item.startswith("keras"))
    assert floor == "keras>=" + ".".join(map(str, environment.minimum_keras()))
    environment.check_keras_version()  # the Keras under test is inside the range


# A kernel's first cell (setup), then the checkout goes away, then a later cell imports a module.
LATER_IMPORT = """
import shutil, sys
from cnn_course import environment
environment.setup(0, verbose=False)
shutil.rmtree(sys.argv[1])
from cnn_course.assignments import grading
print("imported", grading.__file__)
"""


@pytest.mark.parametrize("logged", [True, False])
def test_a_logged_run_keeps_the_package_it_started_with_when_the_checkout_goes(tmp_path, logged):
    import sys

    from cnn_course.runs.notebook_runner import KERNEL_ARGUMENTS
    from tests.test_bare_checkout import bare_checkout, bare_environment

    checkout = bare_checkout(tmp_path)
    env = bare_environment(tmp_path, checkout)
    # What `cnn-course run` has its kernel execute before the notebook's first cell.
    kernel_start = KERNEL_ARGUMENTS[0].split("=", 1)[1] if logged else ""
    result = subprocess.run([sys.executable, "-c", kernel_start + LATER_IMPORT,
                             str(checkout / "cnn_course")],
                            env=env, capture_output=True, text=True, cwd=tmp_path)
    started_with = f"imported {checkout / 'cnn_course'}"
    if logged:  # every module was imported at the kernel's start: the later import needs no file
        assert started_with in result.stdout, result.stderr[-2000:]
    else:  # a notebook outside a logged run imports lazily, as Python does: the module is gone
        # (or, beside an editable install, another copy of the package is found)
        assert started_with not in result.stdout


def test_a_committed_run_kept_says_where_your_own_runs_go(repository):
    from cnn_course.runs import errors, record, run_folder

    for name in ("committed", "yours"):
        record.write(repository / "logs" / name, record.RunRecord(name, status="complete"))
    subprocess.run(["git", "add", "logs/committed"], cwd=repository, check=True)
    subprocess.run(["git", "commit", "-qm", "a run"], cwd=repository, check=True)
    assert environment.committed(repository / "logs" / "committed" / "summary.json")
    assert not environment.committed(repository / "logs" / "yours" / "summary.json")
    for name, hint in (("committed", True), ("yours", False)):
        with pytest.raises(errors.RunError, match="it is kept") as refused:
            run_folder.RunDir(repository / "logs", name).training_target()
        assert ("one of this repository's committed runs" in str(refused.value)) == hint
        assert ("--logs-dir runs" in str(refused.value)) == hint
