"""The geometry of each Keras layer kind, and `register_geometry` for custom layers.

A geometry function receives the layer and a `LayerContext` (the geometries and shapes of the
node's inputs and outputs) and returns the output `Geometry`; it may set `context.padding`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras

from cnn_course.receptive_field import geometry
from cnn_course.receptive_field.geometry import AxisMap


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
_REGISTRY: dict[type, GeometryFn] = {}
_REGISTRY_BY_NAME: dict[str, GeometryFn] = {}


def register_geometry(layer_class: type | str, fn: GeometryFn) -> None:
    """Declares the receptive-field geometry of a layer class (subclasses inherit it).

    `fn(layer, context)` returns the output `Geometry`; the helpers `conv_like`,
    `pointwise` and `global_extent` in this module cover most custom layers, e.g.
    `register_geometry(MyConv, conv_like(kernel_size="kernel_size", strides="strides"))`.
    A string registers by class name (for classes defined inside other libraries).
    """
    if isinstance(layer_class, str):
        _REGISTRY_BY_NAME[layer_class] = fn
    elif isinstance(layer_class, type):
        _REGISTRY[layer_class] = fn
    else:
        raise TypeError(
            f"register_geometry expects a layer class or class name; received {layer_class!r}"
        )


def lookup(layer) -> GeometryFn:
    """The geometry function for `layer`, searching its class hierarchy."""
    for cls in type(layer).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
        if cls.__name__ in _REGISTRY_BY_NAME and cls.__module__.startswith(("keras", "tf_keras")):
            return _REGISTRY_BY_NAME[cls.__name__]
    if type(layer).__name__ in _REGISTRY_BY_NAME:
        return _REGISTRY_BY_NAME[type(layer).__name__]
    raise ValueError(
        f"Layer {layer.name!r} of class {type(layer).__name__} has no receptive-field geometry. "
        f"Declare it with `cnn_course.receptive_field.register_geometry("
        f"{type(layer).__name__}, fn)`, e.g. `fn = receptive_field.pointwise` for a layer that "
        f"acts on each position separately, or `receptive_field.conv_like()` for a conv."
    )


def _tuple(value, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    return tuple(int(item) for item in value)


def pointwise(layer, context: LayerContext) -> Geometry:
    """Acts on each position separately: BatchNorm, activations, dropout, Dense, 1x1 maps."""
    return context.inputs[0]


def conv_like(
    kernel_size: str = "kernel_size",
    strides: str | None = "strides",
    dilation_rate: str | None = "dilation_rate",
    padding: str | None = "padding",
) -> GeometryFn:
    """A sliding window read from the layer's attributes; an attribute named None (or missing
    on the layer) means stride 1, no dilation, 'valid'. The rank is the kernel size's length."""

    def fn(layer, context: LayerContext) -> Geometry:
        kernel = getattr(layer, kernel_size)
        rank = len(kernel) if not isinstance(kernel, int) else len(context.input_shapes[0]) - 2
        kernels = _tuple(kernel, rank)
        stride = _tuple(strides and getattr(layer, strides, None) or 1, rank)
        dilation = _tuple(dilation_rate and getattr(layer, dilation_rate, None) or 1, rank)
        mode = padding and getattr(layer, padding, None) or "valid"
        mode = mode.lower() if isinstance(mode, str) else mode
        out_sizes = context.output_sizes(layer, rank)
        axes, pads = [], []
        for axis, k, s, d, size in zip(context.input_axes(layer, rank), kernels, stride,
                                       dilation, out_sizes):
            new_axis, pad = geometry.sliding_window(axis, k, s, d, mode, size)
            axes.append(new_axis)
            pads.append(pad)
        context.padding = tuple(pads)
        return Geometry(tuple(axes))

    return fn


def _pooling(layer, context: LayerContext) -> Geometry:
    return conv_like(kernel_size="pool_size", dilation_rate=None)(layer, context)


def _transposed(layer, context: LayerContext) -> Geometry:
    rank = len(layer.kernel_size)
    out_sizes = context.output_sizes(layer, rank)
    stride = _tuple(layer.strides, rank)
    dilation = _tuple(layer.dilation_rate, rank)
    axes, pads = [], []
    for axis, k, s, d, size in zip(context.input_axes(layer, rank), layer.kernel_size, stride,
                                   dilation, out_sizes):
        new_axis, pad = geometry.transposed_window(axis, k, s, d, layer.padding, size)
        axes.append(new_axis)
        pads.append(pad)
        if new_axis.has_empty:
            context.notes.append("empty RF at some outputs (kernel < stride)")
        elif not new_axis.uniform:
            context.notes.append("non-uniform RF")
    context.padding = tuple(pads)
    return Geometry(tuple(axes))


def _padding_or_cropping(sign: int, attribute: str) -> GeometryFn:
    def fn(layer, context: LayerContext) -> Geometry:
        value = getattr(layer, attribute)
        rank = len(context.output_shapes[0]) - 2
        if isinstance(value, int):
            value = ((value, value),) * rank
        elif rank == 1 and len(value) == 2 and isinstance(value[0], int):
            value = (tuple(value),)
        amounts = [(sign * left, sign * right) for left, right in value]
        out_sizes = context.output_sizes(layer, rank)
        axes = []
        for axis, pads, size in zip(context.input_axes(layer, rank), amounts, out_sizes):
            new_axis, _ = geometry.sliding_window(axis, 1, 1, 1, pads, size)
            axes.append(new_axis)
        context.padding = tuple(amounts)
        return Geometry(tuple(axes))

    return fn


def _center_crop(layer, context: LayerContext) -> Geometry:
    rank = 2
    in_sizes = context.spatial_sizes(context.input_shapes[0], rank,
                                     getattr(layer, "data_format", None))
    out_sizes = context.output_sizes(layer, rank)
    axes, amounts = [], []
    for axis, n_in, n_out in zip(context.input_axes(layer, rank), in_sizes, out_sizes):
        if n_in is None or n_out is None or n_out > n_in:
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}): receptive fields need a known "
                f"crop smaller than the input; input {n_in}, output {n_out}."
            )
        left = (n_in - n_out) // 2
        pads = (-left, -(n_in - n_out - left))
        new_axis, _ = geometry.sliding_window(axis, 1, 1, 1, pads, n_out)
        axes.append(new_axis)
        amounts.append(pads)
    context.padding = tuple(amounts)
    return Geometry(tuple(axes))


def _upsampling(layer, context: LayerContext) -> Geometry:
    rank = len(context.output_shapes[0]) - 2
    factors = _tuple(layer.size, rank)
    interpolation = getattr(layer, "interpolation", "nearest")
    axes = tuple(
        geometry.upsample(axis, factor, interpolation)
        for axis, factor in zip(context.input_axes(layer, rank), factors)
    )
    return Geometry(axes)


def global_extent(layer, context: LayerContext) -> Geometry:
    """Every output sees the whole input: global pooling, Flatten (then Dense)."""
    source = context.inputs[0]
    if source.is_global:
        return source
    rank = len(context.input_shapes[0]) - 2
    axes = context.input_axes(layer, rank)
    return Geometry(tuple(geometry.whole_extent(axis) for axis in axes), is_global=True)


def _reshape(layer, context: LayerContext) -> Geometry:
    source = context.inputs[0]
    in_shape, out_shape = context.input_shapes[0], context.output_shapes[0]
    if source.axes is None or all(
        axis.period == 1 and axis.extents == ((0, 0),) for axis in source.axes
    ):
        return Geometry(None)  # nothing mixed yet: a new layout of raw pixels
    if len(out_shape) <= 2:
        return global_extent(layer, context)
    raise ValueError(
        f"Layer {layer.name!r} (Reshape {in_shape} -> {out_shape}) rearranges positions after "
        f"spatial layers; its receptive-field geometry is not defined. Register one with "
        f"register_geometry if the model needs it."
    )


def merge(layer, context: LayerContext) -> Geometry:
    """Element-wise or channel merges: union of the inputs' fields, aligned or not."""
    spatial = [geometry_ for geometry_ in context.inputs if geometry_.axes is not None]
    if not spatial:
        return context.inputs[0]
    if any(geometry_.is_global for geometry_ in spatial):
        spatial = [geometry_ for geometry_ in spatial if geometry_.is_global] or spatial
    rank = len(spatial[0].axes)
    axes, aligned_all = [], True
    for index in range(rank):
        merged, aligned = geometry.union([geometry_.axes[index] for geometry_ in spatial])
        axes.append(merged)
        aligned_all = aligned_all and aligned
    context.aligned = aligned_all
    if not aligned_all:
        context.notes.append("misaligned merge")
    return Geometry(tuple(axes), is_global=spatial[0].is_global)


def _register_defaults() -> None:
    layers = keras.layers
    conv = conv_like()
    for cls in (layers.Conv1D, layers.Conv2D, layers.Conv3D, layers.DepthwiseConv1D,
                layers.DepthwiseConv2D, layers.SeparableConv1D, layers.SeparableConv2D):
        register_geometry(cls, conv)
    for cls in (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose):
        register_geometry(cls, _transposed)
    for cls in (layers.MaxPooling1D, layers.MaxPooling2D, layers.MaxPooling3D,
                layers.AveragePooling1D, layers.AveragePooling2D, layers.AveragePooling3D):
        register_geometry(cls, _pooling)
    for cls in (layers.ZeroPadding1D, layers.ZeroPadding2D, layers.ZeroPadding3D):
        register_geometry(cls, _padding_or_cropping(+1, "padding"))
    for cls in (layers.Cropping1D, layers.Cropping2D, layers.Cropping3D):
        register_geometry(cls, _padding_or_cropping(-1, "cropping"))
    for cls in (layers.UpSampling1D, layers.UpSampling2D, layers.UpSampling3D):
        register_geometry(cls, _upsampling)
    for cls in (layers.GlobalAveragePooling1D, layers.GlobalAveragePooling2D,
                layers.GlobalAveragePooling3D, layers.GlobalMaxPooling1D,
                layers.GlobalMaxPooling2D, layers.GlobalMaxPooling3D, layers.Flatten):
        register_geometry(cls, global_extent)
    for cls in (layers.Add, layers.Subtract, layers.Multiply, layers.Average, layers.Maximum,
                layers.Minimum, layers.Concatenate):
        register_geometry(cls, merge)
    register_geometry(layers.Reshape, _reshape)
    register_geometry(layers.CenterCrop, _center_crop)
    register_geometry(layers.RandomCrop, _center_crop)  # inference: a centred crop
    pointwise_names = (
        "InputLayer", "Dense", "EinsumDense", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU",
        "Softmax", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
        "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization",
        "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
        "Normalization", "Rescaling", "Identity", "RandomFlip", "RandomRotation",
        "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "Masking",
    )
    # Augmentation layers are the identity at inference, which is the network RFs describe
    # (blur or elastic transforms mix positions only while training).
    augmentation_names = (
        "RandomErasing", "RandomColorJitter", "RandomGrayscale", "RandomHue", "RandomSaturation",
        "RandomSharpness", "RandomPosterization", "RandomInvert", "RandomShear",
        "RandomPerspective", "RandomElasticTransform", "RandomGaussianBlur",
        "RandomColorDegeneration", "AugMix", "RandAugment", "CutMix", "MixUp", "Solarization",
        "AutoContrast", "Equalization",
    )
    for name in (*pointwise_names, *augmentation_names):
        cls = getattr(layers, name, None)
        if cls is not None:
            register_geometry(cls, pointwise)
    # keras.ops called on KerasTensors (x + y, ops.relu(x), ...) and applications' own layers.
    for name in ("Add", "Subtract", "Multiply", "Maximum", "Minimum", "Divide", "TrueDivide",
                 "CustomScaleLayer"):
        register_geometry(name, merge)
    for name in ("Relu", "Relu6", "Sigmoid", "Tanh", "Silu", "Gelu", "Softmax", "Cast",
                 "Negative", "Abs", "Square", "Sqrt", "Exp", "Log", "HardSigmoid", "HardSilu",
                 "LeakyRelu", "Elu", "Selu", "Softplus", "Clip"):
        register_geometry(name, pointwise)


_register_defaults()
