"""Normalises committed notebooks: python3 kernelspec, minimal metadata, `parameters` tag kept,
an "Open in Colab" badge atop the first cell and the install cell as the first code cell (both
from pyproject.toml's repository URL). The notebooks' upkeep, so it lives here, not in the package.

    python scripts/normalize_notebooks.py notebooks/*.ipynb            # metadata only
    python scripts/normalize_notebooks.py --clear-outputs notebooks/X.ipynb
    python scripts/normalize_notebooks.py --execute notebooks/X.ipynb     # store fresh outputs

Outputs are kept unless asked (nbval compares the committed outputs of checked cells); a cell
keeping outputs keeps its execution count (nbval refuses outputs without one).
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def execute(path: str) -> None:
    """Runs the notebook in its folder with its default parameters and saves the outputs.
    Runs it makes go to a temporary logs folder, never into the repository's logs/."""
    import os
    import tempfile

    import subprocess

    from nbclient import NotebookClient

    from cnn_course.runs.notebook_runner import QUIET_KERNEL_ARGUMENTS

    notebook = nbformat.read(path, as_version=4)
    os.environ["CNN_COURSE_LOGS_DIR"] = tempfile.mkdtemp(prefix="cnn-course-refresh-")
    NotebookClient(notebook, timeout=1800, kernel_name="python3",
                   extra_arguments=QUIET_KERNEL_ARGUMENTS,
                   resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}
                   ).execute(stderr=subprocess.DEVNULL)  # TensorFlow's C++ start-up lines
    nbformat.write(notebook, path)


def repository_url() -> str:
    """The repository's address, from pyproject.toml's `[project.urls] Repository`."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    url = tomllib.loads(pyproject.read_text("utf-8"))["project"].get("urls", {}).get("Repository")
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


def add_colab_cells(notebook, name: str) -> None:
    """The badge as the first line of the first (markdown) cell; the install cell first among
    the code cells. Both are rewritten, so they follow the repository URL."""
    first = notebook.cells[0]
    lines = [line for line in first.source.splitlines() if "colab-badge.svg" not in line]
    while lines and not lines[0].strip():
        lines.pop(0)
    first.source = "\n".join([colab_badge(name), "", *lines])
    install = install_cell_source()
    code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    if code and notebook.cells[code[0]].source.startswith(install.splitlines()[0]):
        notebook.cells[code[0]].source = install
    else:
        notebook.cells.insert(code[0] if code else 1, nbformat.v4.new_code_cell(install))


def normalize(path: str, clear_outputs: bool) -> None:
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    )
    add_colab_cells(notebook, os.path.basename(path))
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        cell.metadata = nbformat.from_dict({"tags": tags} if tags else {})
        cell.pop("id", None)
        if cell.cell_type == "code":
            if clear_outputs or not cell.outputs:
                cell.outputs = []
                cell.execution_count = None
    notebook.nbformat, notebook.nbformat_minor = 4, 4
    nbformat.write(notebook, path)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    clear = "--clear-outputs" in arguments
    run = "--execute" in arguments
    for notebook_path in (argument for argument in arguments if not argument.startswith("--")):
        if run:
            execute(notebook_path)
        normalize(notebook_path, clear)
        print(f"normalised {notebook_path}")
