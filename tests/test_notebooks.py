"""Every notebook in notebooks/: one literal `parameters` cell, and a papermill smoke run with
CI parameters (embedded sample, 2 epochs) that writes a complete run folder."""

import tomllib
from pathlib import Path

import nbformat
import pytest

from cnn_course import notebooks
from cnn_course.runs import notebook_runner, record, run_files
from scripts import normalize_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CI_PARAMETERS = {"sample": True, "epochs": 2}


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_has_one_literal_parameters_cell(notebook):
    defaults = notebooks.parameter_defaults(notebook)
    assert defaults
    if "run_name" in defaults:
        assert {"sample", "seed", "logs_dir"} <= set(defaults)


# Also executed under JAX (`make test`: -m "notebook and backend"): the quick start (a logged run
# end to end) and the backward passes (autodiff per backend). The fast layers' fallback under
# JAX is tested in tests/test_fast_layers.py.
ON_EVERY_BACKEND = ("00_quickstart", "08_backprop_conv_pool")


# Each notebook is executed once under TensorFlow: nbval (`make test`) executes the lessons that
# keep checked outputs, so they are not smoke-run here; the runs that nbval's lessons train are
# checked after it, in the logs folder it wrote into (tests/after_nbval.py).
NBVAL_LESSONS = {path.stem for path in NOTEBOOKS if "NBVAL_CHECK_OUTPUT" in path.read_text()}
NBVAL_TRAINING = [path for path in NOTEBOOKS if path.stem in NBVAL_LESSONS
                  and "run_name" in notebooks.parameter_defaults(path)]


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", [
    pytest.param(path, marks=pytest.mark.backend) if path.stem in ON_EVERY_BACKEND else path
    for path in NOTEBOOKS if path.stem not in NBVAL_LESSONS or path.stem in ON_EVERY_BACKEND],
    ids=lambda path: path.stem)
def test_notebook_runs_with_ci_parameters(notebook, tmp_path):
    defaults = notebooks.parameter_defaults(notebook)
    ci_parameters = {name: value for name, value in CI_PARAMETERS.items() if name in defaults}
    if "logs_dir" in defaults and "run_name" not in defaults:  # it reads the committed runs
        for run in (ROOT / "logs").iterdir():
            if (run / "summary.json").is_file():
                (tmp_path / run.name).symlink_to(run)
    output = notebook_runner.run_notebook(notebook, ci_parameters, logs_dir=tmp_path,
                                          timeout_s=900, log_output=False)
    assert output.is_file()
    if "run_name" not in defaults:
        return
    run_dir = tmp_path / defaults["run_name"]
    assert output.parent == run_dir
    written = assert_a_complete_sample_run(run_dir, CI_PARAMETERS["epochs"], defaults["seed"])
    assert written.notebook == notebook.name


def assert_a_complete_sample_run(run_dir, epochs: int, seed: int) -> record.RunRecord:
    """Every run file is there, and the record says complete, on the sample, with `epochs`
    and `seed`, and evaluated (also asked by tests/after_nbval.py of nbval's runs)."""
    for name in run_files.RUN_FILES:
        assert (run_dir / name).is_file(), name
    written = record.read(run_dir)
    assert written.complete
    assert written.training.epochs_run == epochs
    assert written.data.sample is True and written.seed == seed
    assert written.results.evaluation is not None
    return written


# The lessons: the concept notebooks (04-09) and the two that teach and train (10, 11).
CONCEPT_NOTEBOOKS = [path for path in NOTEBOOKS if "04" <= path.stem[:2] <= "11"]


@pytest.mark.parametrize("notebook", CONCEPT_NOTEBOOKS, ids=lambda path: path.stem)
def test_concept_notebook_shows_its_code_and_ends_with_a_summary_and_exercises(notebook):
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    assert any(cell.cell_type == "code" and "show(" in cell.source for cell in cells)
    assert cells[-2].source.startswith("## Summary") and cells[-1].source.startswith(
        "## Exercises")
    assert 2 <= cells[-1].source.count("\n") <= 3  # two or three exercises


def test_every_notebook_has_the_colab_badge_and_install_cell_of_the_repository():
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    for path in notebooks.paths():
        notebook = nbformat.read(str(path), as_version=4)
        assert notebook.cells[0].source.splitlines()[0] == normalize_notebooks.colab_badge(path.name, url)
        first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert first_code.source == normalize_notebooks.install_cell_source(url), path.name
    readme = (ROOT / "README.md").read_text()
    for path in notebooks.paths():
        assert normalize_notebooks.colab_url(path.name, url) in readme, path.name
