import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_course import plots  # noqa: E402


def test_training_curves_accepts_rows_and_columns():
    rows = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
            {"epoch": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7}]
    assert len(plots.training_curves(rows).axes) == 2
    columns = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}
    assert len(plots.training_curves(columns).axes) == 2


def test_grids_have_one_panel_per_image_or_filter():
    figure = plots.image_grid(np.zeros((5, 8, 8), np.uint8), ["a"] * 5, columns=4)
    assert len(figure.axes) == 8
    assert len(plots.kernel_grid(np.random.rand(3, 3, 1, 6), columns=3).axes) == 6


def test_an_image_grid_with_a_title_missing_says_so():
    with pytest.raises(ValueError, match="got 4 images but 1 titles"):
        plots.image_grid(np.zeros((4, 28, 28), np.uint8), ["a"])
