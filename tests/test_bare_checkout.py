"""The package runs from a bare checkout (`PYTHONPATH=<checkout>`, nothing installed), as on a
GPU machine without network: its version and Keras floor come from pyproject.toml beside it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_course import project_metadata

pytestmark = pytest.mark.keras_version  # also run on the oldest Keras

ROOT = Path(__file__).resolve().parents[1]

# Makes the installed distribution invisible, as on a machine where nothing was installed.
NO_METADATA = '''
import importlib.metadata as metadata
_real = {name: getattr(metadata, name) for name in ("version", "requires", "metadata")}
def _hide(name):
    def lookup(distribution, *args, **kwargs):
        if str(distribution).replace("_", "-").lower() == "cnn-course":
            raise metadata.PackageNotFoundError(distribution)
        return _real[name](distribution, *args, **kwargs)
    return lookup
for _name in _real:
    setattr(metadata, _name, _hide(_name))
'''


def bare_checkout(tmp_path: Path, version: str | None = None) -> Path:
    """A copy of the package, notebooks and pyproject.toml, with `version` written in."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "cnn_course", checkout / "cnn_course",
                    ignore=shutil.ignore_patterns("__pycache__", "course_notebooks"))
    shutil.copytree(ROOT / "notebooks", checkout / "notebooks")
    pyproject = (ROOT / "pyproject.toml").read_text()
    if version is not None:
        pyproject = pyproject.replace(f'version = "{project_metadata.version()}"',
                                      f'version = "{version}"', 1)
    (checkout / "pyproject.toml").write_text(pyproject)
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "sitecustomize.py").write_text(NO_METADATA)
    return checkout


def bare_environment(tmp_path: Path, checkout: Path) -> dict:
    return {**os.environ, "PYTHONPATH": f"{tmp_path / 'hide'}{os.pathsep}{checkout}"}


def test_version_and_keras_floor_come_from_the_pyproject_beside_the_package(tmp_path):
    checkout = bare_checkout(tmp_path, version="9.8.7")
    code = ("import cnn_course, importlib.metadata as m; from cnn_course import environment; "
            "print(cnn_course.__file__); print(cnn_course.__version__); "
            "print(environment.minimum_keras())")
    output = subprocess.run([sys.executable, "-c", code], env=bare_environment(tmp_path, checkout),
                            capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    lines = output.split()
    assert lines[0].startswith(str(checkout))
    assert lines[1] == "9.8.7"
    assert lines[2].startswith("(3,")


def test_hidden_metadata_really_hides_the_installed_package(tmp_path):
    checkout = bare_checkout(tmp_path)
    code = "import importlib.metadata as m; m.version('cnn-course')"
    result = subprocess.run([sys.executable, "-c", code], env=bare_environment(tmp_path, checkout),
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0 and "PackageNotFoundError" in result.stderr


@pytest.mark.notebook
def test_quickstart_runs_from_a_bare_checkout(tmp_path):
    checkout = bare_checkout(tmp_path)
    logs = tmp_path / "logs"
    result = subprocess.run(
        [sys.executable, "-m", "cnn_course", "run", "quickstart", "-p", "epochs", "1",
         "--logs-dir", str(logs)],
        env=bare_environment(tmp_path, checkout), capture_output=True, text=True, cwd=tmp_path,
        timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (logs / "quickstart" / "model.keras").is_file()
