"""cnn_course: the CNN lectures and assignments as tested Keras 3 code.

Importing the package does nothing beyond defining it (no environment changes, no TensorFlow
import). The map, one folder (or module) per area, lower areas never importing higher ones:

- `concepts/`: the lectures' concepts (arithmetic, convolution types, normalization, backprop...)
- `models/`: model builders and training recipes (`models.build(name)`)
- `receptive_field/`: the receptive-field and cost engine for any Keras model
- `complexity`: per-layer weights, biases and MACs, and the lecture's cost tables recomputed
- `runs/`: the run machinery (run folders, `fit_logged`, the notebook runner, report, verify)
- `data`, `plots`: datasets as `keras.datasets` returns them; the course's figures
- `cli`: the `cnn-course` command
"""

from cnn_course import project_metadata

__version__ = project_metadata.version()  # one owner: pyproject.toml

__all__ = ["__version__"]
