"""What the course knows about each layer class: its receptive-field geometry and its cost
(multiply-accumulates), in one registry keyed by class (subclasses inherit; never by name).

A geometry function receives the layer and a `LayerContext` (the geometries and shapes of the
node's inputs and outputs) and returns the output `Geometry`; it may set `context.padding`.
A MACs function receives the layer, its input shape and its output shape (batch first) and
returns the multiply-accumulates of one call. `registered(cls)` shows a class's rule and
`unregister(cls)` removes it.

This module is the mechanism; Keras' layers' rules live in `keras_rules`. A layer class may
also carry its own rules, which the registry asks for when no registered class is nearer in
its hierarchy: `receptive_field_rule = "pointwise"` or `"window"` (a rule named in
`named_rule`), and a `count_macs(input_shape, output_shape)` method. The course's own layers
(`concepts.convolution_layers`, `models.blocks`) do so, so this module imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras

from cnn_course.receptive_field.geometry import AxisMap

# The attribute by which a layer class names its geometry rule (see `named_rule`).
RULE_ATTRIBUTE = "receptive_field_rule"


@dataclass(frozen=True)
class Geometry:
    """The receptive-field geometry of a tensor: one `AxisMap` per spatial axis.

    `axes` is None for a tensor no spatial layer has touched yet (an input): it is the identity
    for whatever spatial rank the first spatial layer reads. `is_global` marks tensors whose
    single unit sees the whole input (after global pooling or Flatten).
    """

    axes: tuple[AxisMap, ...] | None
    is_global: bool = False

    def spatial(self, sizes: Sequence[int | None]) -> tuple[AxisMap, ...]:
        """The axes for a layer that reads `len(sizes)` spatial axes of those sizes."""
        if self.axes is None:
            return tuple(AxisMap.identity(size) for size in sizes)
        if len(self.axes) != len(sizes):
            raise ValueError(
                f"A layer reads {len(sizes)} spatial axes, but its input has "
                f"{len(self.axes)} (sizes {[axis.size for axis in self.axes]})."
            )
        # Keras' static shapes are authoritative for sizes.
        return tuple(
            axis if size is None or axis.size == size else _resized(axis, size)
            for axis, size in zip(self.axes, sizes)
        )


def _resized(axis: AxisMap, size: int) -> AxisMap:
    return AxisMap(axis.period, axis.shift, axis.extents, size, axis.offset_known)


@dataclass
class LayerContext:
    """What a geometry function can read about one call of a layer, and `padding` to set."""

    inputs: list[Geometry]
    input_shapes: list[tuple]
    output_shapes: list[tuple]
    padding: tuple | None = None
    aligned: bool = True
    notes: list[str] = field(default_factory=list)

    def spatial_sizes(self, shape: tuple, rank: int, data_format: str | None) -> list:
        """The `rank` spatial sizes of a (batch, ...) shape in the given data format."""
        if data_format == "channels_first":
            return list(shape[2:2 + rank])
        return list(shape[1:1 + rank])

    def input_axes(self, layer: keras.layers.Layer, rank: int) -> tuple[AxisMap, ...]:
        data_format = getattr(layer, "data_format", None)
        sizes = self.spatial_sizes(self.input_shapes[0], rank, data_format)
        return self.inputs[0].spatial(sizes)

    def output_sizes(self, layer: keras.layers.Layer, rank: int) -> list:
        data_format = getattr(layer, "data_format", None)
        return self.spatial_sizes(self.output_shapes[0], rank, data_format)


GeometryFn = Callable[[keras.layers.Layer, LayerContext], Geometry]
MacsFn = Callable[[keras.layers.Layer, tuple, tuple], int]


@dataclass
class LayerRule:
    """What is registered for one layer class: its geometry and its MACs (either may be None:
    the nearest base class that has one supplies it)."""

    geometry: GeometryFn | None = None
    macs: MacsFn | None = None


_RULES: dict[type, LayerRule] = {}


def _check_class(layer_class, what: str) -> None:
    if not isinstance(layer_class, type):
        raise TypeError(
            f"{what} expects a layer class (rules are keyed by class, so a user's layer that "
            f"shares a Keras layer's name is never mistaken for it); received {layer_class!r}."
        )


def register_geometry(layer_class: type, fn: GeometryFn) -> None:
    """Declares the receptive-field geometry of a layer class (subclasses inherit it).

    `fn(layer, context)` returns the output `Geometry`; the helpers `conv_like`,
    `pointwise` and `global_extent` in this module cover most custom layers, e.g.
    `register_geometry(MyConv, conv_like(kernel_size="kernel_size", strides="strides"))`.
    """
    _check_class(layer_class, "register_geometry")
    _RULES.setdefault(layer_class, LayerRule()).geometry = fn


def register_macs(layer_class: type, fn: MacsFn) -> None:
    """Declares how many multiply-accumulates one call of a layer class costs:
    `fn(layer, input_shape, output_shape)`. Unregistered layers count 0 (norms, activations)."""
    _check_class(layer_class, "register_macs")
    _RULES.setdefault(layer_class, LayerRule()).macs = fn


def registered(layer_class: type) -> LayerRule | None:
    """The rule registered for exactly this class (not inherited), or None."""
    return _RULES.get(layer_class)


def unregister(layer_class: type) -> None:
    """Removes the rule of exactly this class (its subclasses then fall back to its bases)."""
    _RULES.pop(layer_class, None)


_NAMED: dict[str, GeometryFn] = {}


def named_rule(name: str, fn: GeometryFn | None = None) -> GeometryFn:
    """Names a geometry rule that layer classes may carry as `receptive_field_rule = name`
    (with `fn`), or returns the rule of that name."""
    if fn is not None:
        _NAMED[name] = fn
    if name not in _NAMED:
        raise ValueError(f"No receptive-field rule named {name!r}; named rules: "
                         f"{sorted(_NAMED)}.")
    return _NAMED[name]


def _nearest(layer, attribute: str):
    """The nearest rule in `layer`'s class hierarchy: a registered one, or the one the class
    carries itself (`receptive_field_rule`, a `count_macs` method)."""
    for cls in type(layer).__mro__:
        rule = _RULES.get(cls)
        if rule is not None and getattr(rule, attribute) is not None:
            return getattr(rule, attribute)
        if attribute == "geometry" and RULE_ATTRIBUTE in vars(cls):
            return named_rule(vars(cls)[RULE_ATTRIBUTE])
        if attribute == "macs" and "count_macs" in vars(cls):
            return vars(cls)["count_macs"]
    return None


def lookup(layer) -> GeometryFn:
    """The geometry function for `layer`, searching its class hierarchy."""
    fn = _nearest(layer, "geometry")
    if fn is None:
        raise ValueError(
            f"Layer {layer.name!r} of class {type(layer).__name__} has no receptive-field "
            f"geometry. Declare it with `cnn_course.receptive_field.register_geometry("
            f"{type(layer).__name__}, fn)`, e.g. `fn = receptive_field.pointwise` for a layer "
            f"that acts on each position separately, or `receptive_field.conv_like()` for a conv; "
            f"or give the class `receptive_field_rule = \"pointwise\"`."
        )
    return fn


def count_macs(layer, input_shape: tuple, output_shape: tuple) -> int | None:
    """Multiply-accumulates of one call of `layer` (0 when no MACs rule applies; None when a
    size is unknown, as on `keras.Input((None, None, 3))`: the cost depends on it)."""
    fn = _nearest(layer, "macs")
    if fn is None:
        return 0
    if any(size is None for size in (*input_shape[1:], *output_shape[1:])):
        return None
    return int(fn(layer, tuple(input_shape), tuple(output_shape)))
