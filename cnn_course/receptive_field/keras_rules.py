"""Keras' layers' receptive-field geometry and cost, registered with `registry` when the
package loads: convolutions (plain, depthwise, separable, transposed), pooling, padding and
cropping, resizing, merges, pointwise layers and augmentation (the identity at inference), and
the operations `keras.ops` leaves in a graph. `conv_like`, `pointwise`, `global_extent` and
`merge` are the helpers a user's own layer can be registered with."""

from __future__ import annotations

import math

import keras

from cnn_course.concepts.arithmetic import conv_macs
from cnn_course.receptive_field import geometry, keras_graph
from cnn_course.receptive_field.registry import (
    Geometry,
    GeometryFn,
    LayerContext,
    named_rule,
    register_geometry,
    register_macs,
)


def _channels_last(layer, shape: tuple) -> tuple[tuple, int]:
    """(spatial sizes, channels) of a batch-first shape in the layer's data format."""
    if getattr(layer, "data_format", None) == "channels_first":
        return tuple(shape[2:]), shape[1]
    return tuple(shape[1:-1]), shape[-1]


def _conv_macs(layer, input_shape, output_shape) -> int:
    (out_sizes, c_out), (_, c_in) = (_channels_last(layer, output_shape),
                                     _channels_last(layer, input_shape))
    return conv_macs(out_sizes, layer.kernel_size, c_in, c_out,
                     groups=getattr(layer, "groups", 1) or 1)


def _depthwise_macs(layer, input_shape, output_shape) -> int:
    out_sizes, _ = _channels_last(layer, output_shape)
    _, c_in = _channels_last(layer, input_shape)
    return conv_macs(out_sizes, layer.kernel_size, c_in, c_in * layer.depth_multiplier,
                     groups=c_in)


def _separable_macs(layer, input_shape, output_shape) -> int:
    """A depthwise conv, then a 1x1 conv over its C·depth_multiplier channels."""
    (out_sizes, c_out), (_, c_in) = (_channels_last(layer, output_shape),
                                     _channels_last(layer, input_shape))
    middle = c_in * layer.depth_multiplier
    pointwise_kernel = (1,) * len(out_sizes)
    return (_depthwise_macs(layer, input_shape, output_shape)
            + conv_macs(out_sizes, pointwise_kernel, middle, c_out))


def _transposed_macs(layer, input_shape, output_shape) -> int:
    """Each input position scatters a k-window into the output: a conv over the input grid."""
    (in_sizes, c_in), (_, c_out) = (_channels_last(layer, input_shape),
                                    _channels_last(layer, output_shape))
    return conv_macs(in_sizes, layer.kernel_size, c_in, c_out)


def _dense_macs(layer, input_shape, output_shape) -> int:
    """A 1x1 conv over every position of the leading axes (Dense acts on the last axis)."""
    positions = (math.prod(output_shape[1:-1]),)
    return conv_macs(positions, (1,), input_shape[-1], output_shape[-1])


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


def _resizing(layer, context: LayerContext) -> Geometry:
    """`keras.layers.Resizing` to a fixed size: a rational upsampling (or downsampling)."""
    if getattr(layer, "crop_to_aspect_ratio", False) or getattr(layer, "pad_to_aspect_ratio",
                                                                  False):
        raise ValueError(
            f"Layer {layer.name!r} (Resizing): receptive fields of crop_to_aspect_ratio or "
            f"pad_to_aspect_ratio are not supported; resize without them, or register a "
            f"geometry with register_geometry(Resizing, fn)."
        )
    data_format = getattr(layer, "data_format", None)
    in_sizes = context.spatial_sizes(context.input_shapes[0], 2, data_format)
    out_sizes = context.output_sizes(layer, 2)
    if None in in_sizes:
        raise ValueError(
            f"Layer {layer.name!r} (Resizing): receptive fields need a known input size; "
            f"received input shape {context.input_shapes[0]}."
        )
    return Geometry(tuple(
        geometry.resize(axis, size_out, size_in, layer.interpolation)
        for axis, size_in, size_out in zip(context.input_axes(layer, 2), in_sizes, out_sizes)
    ))


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
    for classes, macs in (((layers.Conv1D, layers.Conv2D, layers.Conv3D), _conv_macs),
                          ((layers.DepthwiseConv1D, layers.DepthwiseConv2D), _depthwise_macs),
                          ((layers.SeparableConv1D, layers.SeparableConv2D), _separable_macs)):
        for cls in classes:
            register_geometry(cls, conv)
            register_macs(cls, macs)
    for cls in (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose):
        register_geometry(cls, _transposed)
        register_macs(cls, _transposed_macs)
    register_macs(layers.Dense, _dense_macs)
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
    # The rules a layer class may name itself (`receptive_field_rule`): the course's own layers.
    named_rule("pointwise", pointwise)
    named_rule("window", conv_like(dilation_rate=None))
    register_geometry(layers.Reshape, _reshape)
    register_geometry(layers.Resizing, _resizing)
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
    # keras.ops called on KerasTensors (x + y, ops.relu(x), ...) and applications' own layers:
    # their classes live in Keras' private modules, which keras_graph alone reads.
    for cls in keras_graph.operation_classes(
            ("Add", "Subtract", "Multiply", "Maximum", "Minimum", "Divide", "TrueDivide",
             "CustomScaleLayer")):
        register_geometry(cls, merge)
    for cls in keras_graph.operation_classes(
            ("Relu", "Relu6", "Sigmoid", "Tanh", "Silu", "Gelu", "Softmax", "Cast", "Negative",
             "Abs", "Square", "Sqrt", "Exp", "Log", "HardSigmoid", "HardSilu", "LeakyRelu",
             "Elu", "Selu", "Softplus", "Clip")):
        register_geometry(cls, pointwise)


_register_defaults()
