"""The package's layout is the course's map, and stays so: each area imports only areas below
it (models < concepts < plots < receptive_field < complexity < runs < study < assignments < cli), and `data`, which every area
may use, imports none of them."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnn_course"
AREAS = ["models", "concepts", "plots", "receptive_field", "complexity", "runs", "study",
         "assignments", "cli"]  # low to high
SHARED = ["data", "project_metadata", "lesson", "tables", "environment", "notebooks"]


def area_of(module: str) -> str | None:
    """'cnn_course.study.results' -> 'study'; None for the package itself and __main__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in AREAS + SHARED else None


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "cnn_course"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("cnn_course")}
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_imports_an_area_above_its_own(path):
    module = "cnn_course." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    own = area_of(module)
    if own is None:
        return
    for imported in imported_modules(path):
        other = area_of(imported)
        if other is None or other == own:
            continue
        if own in SHARED:
            assert other in SHARED, f"{module} (shared) imports {imported}"
        elif other not in SHARED:
            assert AREAS.index(other) < AREAS.index(own), f"{module} imports {imported} (above)"


def test_the_receptive_field_registry_imports_neither_concepts_nor_models():
    """The course's own layers carry their rules; the registry is mechanism only."""
    imported = imported_modules(PACKAGE / "receptive_field" / "registry.py")
    assert not {module for module in imported
                if area_of(module) in ("concepts", "models")}, imported


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_each_module_stays_one_readable_file_of_at_most_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400, "split it by concept, or make it shorter"
