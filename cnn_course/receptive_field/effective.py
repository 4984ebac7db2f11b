"""The effective receptive field (Luo et al., 2016): where a unit actually looks.

The gradient of the centre unit of a layer with respect to the input, averaged in absolute
value over images (or random inputs), shows how the theoretical receptive field is used: a
Gaussian-like bump much smaller than the theoretical RF, which widens as the network trains.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import keras
import numpy as np

from cnn_course.concepts.autodiff import input_gradient
from cnn_course.receptive_field import keras_graph
from cnn_course.receptive_field.annotate import annotate


@dataclass(frozen=True)
class EffectiveReceptiveField:
    """The ERF of the centre unit of one layer.

    Attributes:
        map: |gradient| averaged over inputs and input channels, normalised to sum 1, (H, W).
        unit: the centre unit's position in the layer's output.
        std: per-axis standard deviation of the map, in pixels.
        side_50, side_95: side of the smallest square centred on the unit's RF centre that
            holds 50% / 95% of the mass.
        theoretical_rf: the layer's theoretical RF (largest axis).
        ratio_50, ratio_95: side_50 / theoretical_rf and side_95 / theoretical_rf.
    """

    map: np.ndarray
    unit: tuple[int, ...]
    std: tuple[float, ...]
    side_50: int
    side_95: int
    theoretical_rf: int
    ratio_50: float
    ratio_95: float


def _centred_side(mass: np.ndarray, centre: tuple[float, float], share: float) -> int:
    """Smallest side of a square centred on `centre` holding `share` of the total mass."""
    total = mass.sum()
    height, width = mass.shape
    for side in range(1, 2 * max(height, width) + 2):
        top = math.floor(centre[0] - (side - 1) / 2 + 1e-9)
        left = math.floor(centre[1] - (side - 1) / 2 + 1e-9)
        window = mass[max(top, 0):max(top + side, 0), max(left, 0):max(left + side, 0)]
        if window.sum() >= share * total - 1e-12:
            return side
    return 2 * max(height, width) + 1  # pragma: no cover - the whole image holds all mass


def effective_receptive_field(
    model: keras.Model,
    layer: str,
    inputs: np.ndarray | None = None,
    n: int = 16,
    seed: int = 0,
) -> EffectiveReceptiveField:
    """The ERF of the centre unit of `layer` (a 2-D spatial layer of `model`).

    Args:
        inputs: images as the model takes them (uint8 images are fine: the gradient is taken
            with respect to their float values); None draws `n` random images.
        n: how many random images when `inputs` is None.
    """
    rows = {row.layer: row for row in annotate(model)}
    if layer not in rows:
        raise ValueError(f"Model {model.name!r} has no layer {layer!r}; layers: {list(rows)}")
    row = rows[layer]
    if len(row.output_size) != 2 or row.is_global:
        raise ValueError(
            f"Layer {layer!r} has output shape {row.output_shape}; the ERF needs a layer with "
            f"two spatial axes (before global pooling or Flatten)."
        )
    input_shape = tuple(model.inputs[0].shape[1:])
    if inputs is None:
        rng = np.random.default_rng(seed)
        inputs = rng.uniform(0, 255, (n, *input_shape))
    inputs = np.asarray(inputs, dtype="float32")
    sub_model = keras.Model(model.inputs, model.get_layer(layer).output)
    unit = tuple(size // 2 for size in row.output_size)

    def centre_unit(x):
        # Run the graph on float inputs directly (the model's own call would cast to uint8).
        output = keras_graph.run_graph(sub_model, [x])
        return keras.ops.sum(output[:, unit[0], unit[1], :], axis=-1)

    gradient = np.abs(input_gradient(centre_unit, inputs)).mean(axis=0)
    if gradient.ndim == 3:
        gradient = gradient.mean(axis=-1)
    total = gradient.sum()
    erf_map = gradient / total if total > 0 else gradient
    std = []
    for axis in (0, 1):
        marginal = erf_map.sum(axis=1 - axis)
        positions = np.arange(marginal.size)
        mean = (marginal * positions).sum()
        std.append(float(np.sqrt((marginal * (positions - mean) ** 2).sum())))
    extent = row.extent(unit)
    centre = tuple((lo + hi) / 2 for lo, hi in extent)
    theoretical = max(size for size in row.rf if size is not None)
    image_sides = erf_map.shape
    if any(size > side for size, side in zip(row.rf, image_sides)):
        warnings.warn(
            f"The theoretical RF of layer {layer!r} ({row.rf}) exceeds the input "
            f"({image_sides}): the ERF is cut by the image border.",
            stacklevel=2,
        )
    side_50 = _centred_side(erf_map, centre, 0.5)
    side_95 = _centred_side(erf_map, centre, 0.95)
    return EffectiveReceptiveField(
        map=erf_map, unit=unit, std=tuple(std), side_50=side_50, side_95=side_95,
        theoretical_rf=theoretical, ratio_50=side_50 / theoretical,
        ratio_95=side_95 / theoretical,
    )
