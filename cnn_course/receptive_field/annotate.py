"""`annotate(model)`: one row per layer call with output size, jump, RF, start and padding.

Walks the Keras graph as Keras executes it (`keras_graph.nodes_in_order`), carrying a
`Geometry` per tensor; nested models are expanded in place, their rows named `outer/inner`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction

import keras

from cnn_course.receptive_field import keras_graph, registry
from cnn_course.receptive_field.geometry import AxisMap
from cnn_course.receptive_field.registry import Geometry, LayerContext, lookup


def _plain(value: Fraction | None):
    """int when whole, float when exactly representable (dyadic), else the Fraction."""
    if value is None:
        return None
    if value.denominator == 1:
        return int(value)
    if value.denominator & (value.denominator - 1) == 0:
        return float(value)
    return value


@dataclass(frozen=True)
class LayerRow:
    """The geometry of one layer call. Per-axis fields are tuples, (h, w) for 2-D models."""

    layer: str
    kind: str
    output_shape: tuple
    params: int
    macs: int | None  # None: a size is unknown (the cost depends on it)
    output_size: tuple
    jump: tuple
    rf: tuple
    start: tuple
    padding: tuple | None
    aligned: bool
    uniform: bool
    empty_rf: bool
    effective_padding: tuple
    inputs: tuple[str, ...]
    notes: tuple[str, ...]
    is_global: bool = False
    rf_pattern: tuple = ()  # per axis: the RF of output positions 0 .. period-1 (None = empty)
    axis_maps: tuple = ()  # per axis: the exact AxisMap (which input pixels each output sees)

    def extent(self, position: tuple[int, ...]) -> tuple:
        """Per axis, the (first, last) input pixel that output `position` sees (None: none).
        Coordinates may fall outside the image where padding was applied."""
        if len(position) != len(self.axis_maps):
            raise ValueError(
                f"Layer {self.layer!r} has {len(self.axis_maps)} spatial axes; received "
                f"position={position}"
            )
        if self.is_global:
            return tuple(axis.extent(0) for axis in self.axis_maps)
        return tuple(axis.extent(index) for axis, index in zip(self.axis_maps, position))


def _row(name, layer, context: LayerContext, result: Geometry, output_shape, inputs) -> LayerRow:
    if result.axes is None:  # raw pixels, nothing mixed yet: identity over the spatial axes
        spatial = tuple(output_shape[1:-1]) if len(output_shape) >= 3 else ()
        result = Geometry(tuple(AxisMap.identity(size) for size in spatial))
    axes = result.axes
    starts = tuple(None if axis.start is None else _plain(axis.start) for axis in axes)
    effective = tuple(
        None if axis.start is None or axis.extents[0] is None else -axis.extents[0][0]
        for axis in axes
    )
    return LayerRow(
        layer=name,
        kind=type(layer).__name__,
        output_shape=tuple(output_shape),
        params=_params(layer),
        macs=_macs_of_call(layer, context),
        output_size=tuple(axis.size for axis in axes),
        jump=tuple(None if result.is_global else _plain(axis.jump) for axis in axes),
        rf=tuple(axis.rf for axis in axes),
        start=starts,
        padding=context.padding,
        aligned=context.aligned,
        uniform=all(axis.uniform for axis in axes),
        empty_rf=any(axis.has_empty for axis in axes),
        effective_padding=effective,
        inputs=tuple(inputs),
        notes=tuple(dict.fromkeys(context.notes)),
        is_global=result.is_global,
        rf_pattern=tuple(axis.rf_sizes for axis in axes),
        axis_maps=tuple(axes),
    )


def _params(layer) -> int:
    if isinstance(layer, keras.layers.Layer):
        return int(sum(math.prod(weight.shape) for weight in layer.weights))
    return 0


def _macs_of_call(layer, context: LayerContext) -> int | None:
    """`registry.count_macs` for this call's first input and output shapes."""
    if not context.output_shapes or not context.input_shapes:
        return 0
    return registry.count_macs(layer, context.input_shapes[0], context.output_shapes[0])


def _walk(model: keras.Model, input_geometries: list[Geometry], prefix: str,
          rows: list[LayerRow]) -> list[Geometry]:
    graph = keras_graph.functional_graph(model)
    geometries: dict[int, Geometry] = {}
    producers: dict[int, str] = {}
    for tensor, geometry_ in zip(graph.inputs, input_geometries):
        geometries[id(tensor)] = geometry_
    for node in keras_graph.nodes_in_order(graph):
        operation = node.operation
        if operation is None:
            continue
        if node.is_input:
            name = prefix + operation.name
            for tensor in node.output_tensors:
                if id(tensor) not in geometries:
                    geometries[id(tensor)] = Geometry(None)
                producers[id(tensor)] = name
            if not prefix:
                context = LayerContext([Geometry(None)], [], [tuple(t.shape) for t in
                                                              node.output_tensors])
                rows.append(_row(name, operation, context, Geometry(None),
                                 node.output_tensors[0].shape, ()))
            continue
        inputs = [geometries[id(tensor)] for tensor in node.input_tensors]
        parents = tuple(producers.get(id(tensor), "?") for tensor in node.input_tensors)
        if isinstance(operation, keras.Model):
            outputs = _walk(operation, inputs, f"{prefix}{operation.name}/", rows)
            for tensor, geometry_ in zip(node.output_tensors, outputs):
                geometries[id(tensor)] = geometry_
                producers[id(tensor)] = rows[-1].layer if rows else operation.name
            continue
        context = LayerContext(
            inputs=inputs,
            input_shapes=[tuple(tensor.shape) for tensor in node.input_tensors],
            output_shapes=[tuple(tensor.shape) for tensor in node.output_tensors],
        )
        result = lookup(operation)(operation, context)
        name = prefix + operation.name
        rows.append(_row(name, operation, context, result, node.output_tensors[0].shape,
                         parents))
        if not context.aligned:
            warnings.warn(
                f"Layer {name!r} merges inputs with different jumps or centres "
                f"(jumps {[_axis_jumps(g) for g in inputs]}, starts "
                f"{[_axis_starts(g) for g in inputs]}): its receptive field is reported as "
                f"the union, and units of the inputs are not aligned.",
                stacklevel=3,
            )
        for tensor in node.output_tensors:
            geometries[id(tensor)] = result
            producers[id(tensor)] = name
    return [geometries[id(tensor)] for tensor in graph.outputs]


def _axis_jumps(geometry_: Geometry):
    return None if geometry_.axes is None else tuple(_plain(a.jump) for a in geometry_.axes)


def _axis_starts(geometry_: Geometry):
    return None if geometry_.axes is None else tuple(_plain(a.start) if a.start is not None
                                                     else None for a in geometry_.axes)


def annotate(model: keras.Model) -> list[LayerRow]:
    """One `LayerRow` per layer call of `model`, in topological order, nested models expanded.

    Raises:
        ValueError: for a layer whose geometry is unknown (naming it and how to register it),
            an unbuilt Sequential model or a subclassed model.
    """
    rows: list[LayerRow] = []
    graph = keras_graph.functional_graph(model)
    _walk(model, [Geometry(None) for _ in graph.inputs], "", rows)
    return rows
