"""Figures for receptive fields: growth along a stack, a unit's RF box on an image, ERF maps."""

from __future__ import annotations

from collections.abc import Mapping

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnn_course.receptive_field.annotate import annotate
from cnn_course.receptive_field.effective import EffectiveReceptiveField


def rf_growth_figure(stacks: Mapping[str, keras.Model]) -> Figure:
    """RF (first axis) after each layer with weights, one line per model."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for label, model in stacks.items():
        rows = [row for row in annotate(model) if row.params and row.rf]
        axis.plot(range(1, len(rows) + 1), [row.rf[0] for row in rows], marker="o", label=label)
    axis.set_xlabel("layer (with weights)")
    axis.set_ylabel("receptive field (pixels)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    return figure


def rf_box_figure(image: np.ndarray, model: keras.Model, layers: list[str],
                  unit: tuple[int, int] | None = None) -> Figure:
    """The receptive field of one unit (default: the centre unit) of each layer, drawn on the
    image as a box; dashed where the field extends past the image into padding."""
    rows = {row.layer: row for row in annotate(model)}
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.imshow(image.squeeze(), cmap="gray" if image.ndim == 2 else None)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(layers)))
    height, width = image.shape[:2]
    for name, colour in zip(layers, colours):
        row = rows[name]
        position = unit or tuple(size // 2 for size in row.output_size)
        (top, bottom), (left, right) = row.extent(position)
        outside = top < 0 or left < 0 or bottom >= height or right >= width
        axis.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1,
                                 fill=False, linewidth=2, edgecolor=colour,
                                 linestyle="--" if outside else "-",
                                 label=f"{name}: RF {row.rf[0]}"))
    axis.set_xlim(-0.5 - width * 0.2, width * 1.2 - 0.5)
    axis.set_ylim(height * 1.2 - 0.5, -0.5 - height * 0.2)
    axis.legend(loc="upper left", fontsize=7, bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure


def erf_figure(fields: Mapping[str, EffectiveReceptiveField]) -> Figure:
    """ERF heatmaps side by side, each titled with its 95%-mass square and theoretical RF."""
    figure, axes = plt.subplots(1, len(fields), figsize=(4 * len(fields), 4), squeeze=False)
    for axis, (label, field) in zip(axes[0], fields.items()):
        axis.imshow(field.map, cmap="magma")
        axis.set_title(f"{label}\n95% in {field.side_95}px square, RF {field.theoretical_rf}",
                       fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    return figure
