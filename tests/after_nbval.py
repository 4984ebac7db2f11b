"""Run by `make test` right after nbval, on the logs folder nbval's kernels wrote into
($CNN_COURSE_LOGS_DIR): each lesson nbval executes that trains a logged run (notebooks 10 and
11) wrote a complete one with its defaults, so it needs no second, smoke run
(tests/test_notebooks.py). Not collected with the other tests: it needs nbval's runs.

    CNN_COURSE_LOGS_DIR=<nbval's logs folder> python -m pytest tests/after_nbval.py
"""

import os
from pathlib import Path

import pytest

from cnn_course import notebooks
from tests.test_notebooks import NBVAL_TRAINING, assert_a_complete_sample_run


def test_nbval_executes_lessons_that_train():
    assert NBVAL_TRAINING  # else this file checks nothing


@pytest.mark.parametrize("notebook", NBVAL_TRAINING, ids=lambda path: path.stem)
def test_each_lesson_nbval_executes_wrote_a_complete_run(notebook):
    defaults = notebooks.parameter_defaults(notebook)
    run_dir = Path(os.environ["CNN_COURSE_LOGS_DIR"]) / defaults["run_name"]
    # (no notebook name in the record: nbval runs the kernel, not `cnn-course run`)
    assert_a_complete_sample_run(run_dir, defaults["epochs"], defaults["seed"])
