"""Builds the wheel with the course notebooks inside the package (`cnn_course/course_notebooks/`),
so `pip install cnn-course` users get them (`cnn-course notebooks DIR` copies them out). The
repository keeps one copy, in notebooks/; everything else is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).parent / "notebooks"


class BuildPyWithNotebooks(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "cnn_course" / "course_notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
            shutil.copy2(notebook, target / notebook.name)


setup(cmdclass={"build_py": BuildPyWithNotebooks})
