import subprocess

import pytest

from cnn_course.runs import environment


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
