"""cnn_course: the CNN lectures and assignments as tested Keras 3 code.

Importing the package quietens TensorFlow's C++ logging (those lines land in notebook outputs
as stderr and break regression checks) unless the user already chose a level.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"

__all__ = ["__version__"]
