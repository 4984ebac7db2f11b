"""The course notebooks: where they are (the checkout's `notebooks/`, or the copy a wheel
ships inside the package), their titles, copying them out for a pip user, and a notebook's
parameters: its `parameters`-tagged cell as papermill reads it (`papermill.inspect_notebook`),
with the checks papermill lacks (one tagged cell, literal defaults, the annotation's type)."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import shutil
from pathlib import Path


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


# Types a parameter annotation may name: a plain type, or `"Optional[type]"` (quoted, so the
# cell runs as it is, and papermill reads it) for a parameter whose default is None.
ANNOTATION_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list,
                    "dict": dict}


class NotebookError(ValueError):
    """The file is not a notebook the runner can execute."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One parameter of a notebook's cell: `name[: "annotation"] = default  # comment`."""

    name: str
    default: object
    types: tuple[type, ...] | None  # None: any type (a None default without annotation)
    comment: str = ""

    @property
    def type_name(self) -> str:
        if self.types is None:
            return "any"
        return " | ".join("None" if kind is type(None) else kind.__name__ for kind in self.types)


def read(notebook_path: str | os.PathLike):
    """The notebook at `notebook_path` (an `nbformat.NotebookNode`); `NotebookError` (one
    line) when it is not one."""
    import nbformat

    path = Path(notebook_path)
    if not path.is_file():
        raise NotebookError(f"Notebook not found: {path}")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises JSON, schema and key errors
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise NotebookError(f"{path} is not a Jupyter notebook ({type(error).__name__}"
                            f"{': ' + reason if reason else ''}).") from None


def parameter_specs(notebook_path: str | os.PathLike) -> dict[str, Parameter]:
    """Name → `Parameter` of the notebook's one parameters cell, as papermill reads it; each
    default must be a literal, and an annotation a type or `"Optional[type]"`."""
    import papermill

    tagged = [cell for cell in read(notebook_path).cells
              if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise NotebookError(
            f"Notebook {notebook_path} has {len(tagged)} cells tagged 'parameters'; expected "
            f"exactly 1 (papermill injects the new values after it).")
    inspected = papermill.inspect_notebook(str(notebook_path))
    unread = [name for name in _assigned_names(tagged[0].source) if name not in inspected]
    if unread:
        raise NotebookError(
            f"Notebook {notebook_path}: papermill cannot read parameter(s) {unread} of the "
            f"parameters cell; write each as `name = literal  # comment`, or annotated "
            f"`name: \"Optional[float]\" = None`.")
    specs: dict[str, Parameter] = {}
    for name, found in inspected.items():
        try:
            default = ast.literal_eval(found["default"])
        except (ValueError, SyntaxError):
            raise NotebookError(
                f"Notebook {notebook_path}: parameter {name!r} must be a literal; found "
                f"{found['default']!r}. Derive values in the next cell.") from None
        specs[name] = Parameter(name, default, _types(found["inferred_type_name"], default, name,
                                                      notebook_path), found.get("help") or "")
    return specs


def _assigned_names(source: str) -> list[str]:
    """The names the cell assigns at its top level (what papermill should have read)."""
    try:
        body = ast.parse(source).body
    except SyntaxError as error:
        raise NotebookError(f"The parameters cell is not Python: {error}.") from None
    targets = [target for statement in body for target in (
        statement.targets if isinstance(statement, ast.Assign)
        else [statement.target] if isinstance(statement, ast.AnnAssign) else [])]
    return [target.id for target in targets if isinstance(target, ast.Name)]


def parameter_defaults(notebook_path: str | os.PathLike) -> dict[str, object]:
    """Name → default value of the notebook's parameters cell."""
    return {name: spec.default for name, spec in parameter_specs(notebook_path).items()}


def _types(annotation: str, default: object, name: str, notebook_path) -> tuple | None:
    """The types a parameter takes: its annotation's, else its default's (None: any)."""
    if annotation == "None":  # papermill's word for "not annotated"
        return None if default is None else (type(default),)
    optional = re.fullmatch(r"Optional\[(\w+)\]", annotation)
    kind = optional.group(1) if optional else annotation
    if kind not in ANNOTATION_TYPES:
        raise NotebookError(
            f"Notebook {notebook_path}: parameter {name!r} is annotated {annotation!r}; use one "
            f"of {', '.join(ANNOTATION_TYPES)}, or \"Optional[...]\" of one (quoted).")
    return (ANNOTATION_TYPES[kind], *((type(None),) if optional else ()))
