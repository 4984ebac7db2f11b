"""The package's version and requirements, with one owner: pyproject.toml.

Read from the pyproject.toml beside the imported package when there is one (a checkout, installed
or not: `PYTHONPATH=<checkout>` on a machine where nothing can be installed), else from the
installed metadata (a wheel). Either way the numbers come from the same file.
"""

from __future__ import annotations

import functools
import importlib.metadata
import tomllib
from pathlib import Path

DISTRIBUTION = "cnn-course"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@functools.cache
def _project_table() -> dict | None:
    """pyproject.toml's [project] table when it belongs to this package, else None."""
    if not PYPROJECT.is_file():
        return None
    project = tomllib.loads(PYPROJECT.read_text("utf-8")).get("project", {})
    return project if project.get("name") == DISTRIBUTION else None


def version() -> str:
    """The package's version."""
    project = _project_table()
    if project is not None:
        return str(project["version"])
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def requirements() -> list[str]:
    """The package's runtime requirements (`keras>=3.5`, ...)."""
    project = _project_table()
    if project is not None:
        return list(project.get("dependencies", []))
    try:
        return list(importlib.metadata.requires(DISTRIBUTION) or [])
    except importlib.metadata.PackageNotFoundError:
        raise LookupError(
            f"{DISTRIBUTION} is neither installed nor run from a checkout holding its "
            f"pyproject.toml ({PYPROJECT}); install it (`pip install -e .`) or put the checkout "
            f"on PYTHONPATH."
        ) from None

