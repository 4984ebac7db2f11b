"""cnn_course: the CNN lectures and assignments as tested Keras 3 code.

Importing the package quietens TensorFlow's C++ logging (those lines land in notebook outputs
as stderr and break regression checks) unless the user already chose a level.
"""

import importlib.metadata
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:  # the version has one owner: pyproject.toml, read back from the installed metadata
    __version__ = importlib.metadata.version("cnn-course")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout on sys.path
    __version__ = "unknown (not installed: pip install -e .)"

__all__ = ["__version__"]
