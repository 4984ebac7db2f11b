"""cnn_course: the CNN lectures and assignments as tested Keras 3 code.

Importing the package does nothing beyond defining it (no environment changes, no TensorFlow
import). The map: the lectures' concepts (`arithmetic`, `backprop`, `normalization`,
`activations`, `layers`, `toys`, `evaluation`), the models (`models`, `recipes`, `schedules`,
`training`), the receptive-field engine (`receptive_field`), data and plots (`data`, `plots`),
and the run machinery (`runfiles`, `runlog`, `runner`, `report`, `verify`, `environment`,
`notebooks`, `cli`).
"""

import importlib.metadata

try:  # the version has one owner: pyproject.toml, read back from the installed metadata
    __version__ = importlib.metadata.version("cnn-course")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout on sys.path
    __version__ = "unknown (not installed: pip install -e .)"

__all__ = ["__version__"]
