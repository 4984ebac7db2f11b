"""The course notebooks: where they are (the checkout's `notebooks/`, or the copy a wheel
ships inside the package), their titles, and copying them out for a pip user."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from cnn_course import project_metadata

# A wheel carries the notebooks here (see setup.py); a checkout keeps them in ../notebooks.
PACKAGE_FOLDER = Path(__file__).resolve().parent  # cnn_course/
PACKAGED_FOLDER = PACKAGE_FOLDER / "course_notebooks"
CHECKOUT_FOLDER = PACKAGE_FOLDER.parent / "notebooks"


def folder() -> Path:
    """The folder holding the course notebooks: the checkout's, else the packaged copy."""
    for candidate in (CHECKOUT_FOLDER, PACKAGED_FOLDER):
        if any(candidate.glob("*.ipynb")):
            return candidate
    raise FileNotFoundError(
        f"The course notebooks are in neither {CHECKOUT_FOLDER} nor {PACKAGED_FOLDER}; "
        f"reinstall the package (pip install cnn-course) or clone the repository.")


def paths() -> list[Path]:
    """Every course notebook, in course order (their names start with a number)."""
    return sorted(folder().glob("*.ipynb"))


def title(path: str | os.PathLike) -> str:
    """The first heading of the notebook's first markdown cell."""
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return Path(path).stem


def resolve(name: str | os.PathLike) -> Path:
    """A notebook file, or a course notebook named by file name, stem, or stem without its
    number (`quickstart` for `00_quickstart.ipynb`)."""
    path = Path(name)
    if path.is_file():
        return path
    wanted = path.name.removesuffix(".ipynb")
    for notebook in paths():
        if wanted in (notebook.stem, notebook.stem.split("_", 1)[-1]):
            return notebook
    names = ", ".join(notebook.stem for notebook in paths())
    raise FileNotFoundError(f"No notebook {str(name)!r}: not a file, nor a course notebook "
                            f"({names}). `cnn-course list` shows them.")


def copy_to(directory: str | os.PathLike, force: bool = False) -> list[Path]:
    """Copies every course notebook into `directory`; refuses to replace files unless `force`."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"{directory} is a file; give a folder for the notebooks.")
    sources = paths()
    clashes = [source.name for source in sources if (directory / source.name).exists()]
    if clashes and not force:
        raise FileExistsError(f"{directory} already holds {', '.join(clashes)}; pass --force "
                              f"to replace them, or choose another folder.")
    directory.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(source, directory / source.name)) for source in sources]


def repository_url() -> str:
    """The repository's address, from pyproject.toml's `[project.urls] Repository`."""
    url = project_metadata.urls().get("Repository")
    if url:
        return url
    raise LookupError("pyproject.toml has no [project.urls] Repository entry.")


def colab_url(notebook_name: str, repository: str | None = None) -> str:
    """The address that opens a course notebook of the repository's main branch in Colab."""
    repository = (repository or repository_url()).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repository}/blob/main/notebooks/{notebook_name}"


def colab_badge(notebook_name: str, repository: str | None = None) -> str:
    """The Markdown "Open in Colab" badge of a course notebook."""
    return (f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook_name, repository)})")


def install_cell_source(repository: str | None = None) -> str:
    """Every notebook's first code cell: installs this package (and nothing else, so Colab's
    TensorFlow and Keras are kept) when it is not importable, as in a fresh Colab runtime."""
    return (
        "# Colab or a fresh Jupyter: install this course's package if it is missing (only it:\n"
        "# Colab's own TensorFlow and Keras are kept). Does nothing where it is installed.\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        "if importlib.util.find_spec(\"cnn_course\") is None:\n"
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\",\n"
        f"                    \"cnn-course @ git+{repository or repository_url()}\"], check=True)"
    )
