"""cnn_course: the CNN lectures and assignments as tested Keras 3 code.

Importing the package does nothing beyond defining it (no environment changes, no TensorFlow
import). Its map, one folder (or module) per area with lower areas never importing higher ones,
is written once: README.md, "The package" (`tests/test_layout.py` checks the layering).
"""

from cnn_course import project_metadata

__version__ = project_metadata.version()  # one owner: pyproject.toml

__all__ = ["__version__"]
