"""Convolution types the lectures teach that Keras 3 does not ship (backend-agnostic,
serializable, each carrying its receptive-field rule, `receptive_field_rule`, and its cost,
`count_macs`, which `cnn_course.receptive_field` asks for).

- `LocallyConnected2D`: a convolution whose weights are not shared across positions
  (Keras 3 removed its own).
- `DeformableConv2D`: each kernel tap samples at a learned offset (bilinear interpolation),
  Dai et al. 2017; the offsets come from a zero-initialised conv, so it starts as a plain conv.
- `CoordConv2D`: a conv that also sees two coordinate channels (Liu et al. 2018).
- `LocalResponseNormalization`: AlexNet's cross-channel normalisation.
- `SpatiallySeparableConv2D`: a k x 1 conv then a 1 x k conv (the Sobel trick).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from cnn_course.concepts.arithmetic import as_pair, conv_macs, conv_output_size

PACKAGE = "cnn_course"


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocallyConnected2D(layers.Layer):
    """Like Conv2D('valid'), but every output position has its own kernel.

    Parameters: out_h·out_w·kh·kw·C·filters (+ out_h·out_w·filters biases): translation
    invariance is what weight sharing buys; this layer gives it up (face recognition used it).
    """

    receptive_field_rule = "window"  # a kernel_size/strides/padding window, no dilation

    def __init__(self, filters: int, kernel_size, strides=1, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = "valid"
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _output_hw(self, height, width):
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        return conv_output_size(height, kh, sh), conv_output_size(width, kw, sw)

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        if height is None or width is None:
            raise ValueError(
                f"{type(self).__name__} needs a known input height and width (its weights "
                f"differ per position); received input_shape={input_shape}"
            )
        out_h, out_w = self._output_hw(height, width)
        patch = self.kernel_size[0] * self.kernel_size[1] * channels
        self.kernel = self.add_weight(shape=(out_h * out_w, patch, self.filters),
                                      initializer=self.kernel_initializer, name="kernel")
        self.bias = (self.add_weight(shape=(out_h, out_w, self.filters), initializer="zeros",
                                     name="bias") if self.use_bias else None)

    def call(self, inputs):
        patches = ops.image.extract_patches(inputs, self.kernel_size, strides=self.strides,
                                            padding="valid")
        batch = ops.shape(patches)[0]
        out_h, out_w = patches.shape[1], patches.shape[2]
        flat = ops.reshape(patches, (batch, out_h * out_w, -1))
        outputs = ops.einsum("blp,lpf->blf", flat, self.kernel)
        outputs = ops.reshape(outputs, (batch, out_h, out_w, self.filters))
        return outputs + self.bias if self.use_bias else outputs

    def compute_output_shape(self, input_shape):
        out_h, out_w = self._output_hw(input_shape[1], input_shape[2])
        return input_shape[0], out_h, out_w, self.filters

    def count_macs(self, input_shape, output_shape) -> int:
        """As many as the equivalent 'valid' Conv2D: only the weights differ per position."""
        return conv_macs(output_shape[1:3], self.kernel_size, input_shape[-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DeformableConv2D(layers.Layer):
    """A 'same', stride-1 conv whose kh·kw taps sample at learned fractional offsets.

    An offset conv (3x3, zero-initialised) predicts (dy, dx) per tap and position; values are
    read by bilinear interpolation (zero outside the image), so gradients reach the offsets.
    At initialisation it equals a plain conv. Its RF is reported as the nominal kernel's: the
    offsets can move taps anywhere, so the true RF is data dependent.
    """

    receptive_field_rule = "window"  # a kernel_size/strides/padding window, no dilation

    def __init__(self, filters: int, kernel_size=3, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = (1, 1)
        self.padding = "same"
        self.use_bias = use_bias
        taps = self.kernel_size[0] * self.kernel_size[1]
        self.offset_conv = layers.Conv2D(2 * taps, 3, padding="same", kernel_initializer="zeros",
                                         name="offsets")

    def build(self, input_shape):
        channels = input_shape[-1]
        taps = self.kernel_size[0] * self.kernel_size[1]
        self.offset_conv.build(input_shape)
        self.kernel = self.add_weight(shape=(taps, channels, self.filters),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = (self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
                     if self.use_bias else None)

    def call(self, inputs):
        kh, kw = self.kernel_size
        taps = kh * kw
        batch = ops.shape(inputs)[0]
        height, width, channels = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        offsets = ops.reshape(self.offset_conv(inputs), (batch, height, width, taps, 2))
        rows = ops.reshape(ops.arange(height, dtype="float32"), (1, height, 1, 1))
        cols = ops.reshape(ops.arange(width, dtype="float32"), (1, 1, width, 1))
        tap_rows = ops.reshape(ops.repeat(ops.arange(kh, dtype="float32") - (kh - 1) // 2, kw),
                               (1, 1, 1, taps))
        tap_cols = ops.reshape(ops.tile(ops.arange(kw, dtype="float32") - (kw - 1) // 2, kh),
                               (1, 1, 1, taps))
        y = rows + tap_rows + ops.cast(offsets[..., 0], "float32")
        x = cols + tap_cols + ops.cast(offsets[..., 1], "float32")
        flat = ops.reshape(inputs, (batch, height * width, channels))
        y0, x0 = ops.floor(y), ops.floor(x)
        sampled = 0.0
        for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
            corner_y, corner_x = y0 + dy, x0 + dx
            weight = (1 - ops.abs(y - corner_y)) * (1 - ops.abs(x - corner_x))
            inside = ((corner_y >= 0) & (corner_y <= height - 1) & (corner_x >= 0)
                      & (corner_x <= width - 1))
            index = ops.cast(ops.clip(corner_y, 0, height - 1) * width
                             + ops.clip(corner_x, 0, width - 1), "int32")
            index = ops.reshape(index, (batch, height * width * taps, 1))
            values = ops.take_along_axis(flat, ops.broadcast_to(
                index, (batch, height * width * taps, channels)), axis=1)
            values = ops.reshape(values, (batch, height, width, taps, channels))
            weight = ops.where(inside, weight, 0.0)
            sampled = sampled + values * ops.cast(weight[..., None], values.dtype)
        outputs = ops.einsum("bhwtc,tcf->bhwf", sampled, self.kernel)
        return outputs + self.bias if self.use_bias else outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.filters)

    def count_macs(self, input_shape, output_shape) -> int:
        """The offset conv (3x3, C → 2·taps), four bilinear weights per sampled value, and the
        kernel over the sampled taps."""
        height, width, channels = input_shape[1:]
        taps = self.kernel_size[0] * self.kernel_size[1]
        offsets = height * width * 9 * channels * 2 * taps
        sampling = height * width * taps * channels * 4
        return offsets + sampling + height * width * taps * channels * self.filters

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CoordConv2D(layers.Layer):
    """Conv2D over the input plus two channels holding each pixel's row and column in
    [-1, 1]: the conv can then learn position-dependent outputs, which a plain conv's
    translation equivariance forbids (the "CoordConv solution")."""

    receptive_field_rule = "window"  # a kernel_size/strides/padding window, no dilation

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "same",
                 activation=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = padding
        self.dilation_rate = (1, 1)
        self.activation = keras.activations.get(activation)
        self.conv = layers.Conv2D(filters, self.kernel_size, strides=self.strides,
                                  padding=padding, activation=activation, name="conv")

    def build(self, input_shape):
        self.conv.build((*input_shape[:-1], input_shape[-1] + 2))

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        height, width = inputs.shape[1], inputs.shape[2]
        rows = ops.linspace(-1.0, 1.0, height)
        cols = ops.linspace(-1.0, 1.0, width)
        grid_rows = ops.broadcast_to(ops.reshape(rows, (1, height, 1, 1)),
                                     (batch, height, width, 1))
        grid_cols = ops.broadcast_to(ops.reshape(cols, (1, 1, width, 1)),
                                     (batch, height, width, 1))
        coords = ops.cast(ops.concatenate([grid_rows, grid_cols], axis=-1), inputs.dtype)
        return self.conv(ops.concatenate([inputs, coords], axis=-1))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape((*input_shape[:-1], input_shape[-1] + 2))

    def count_macs(self, input_shape, output_shape) -> int:
        """A Conv2D over C + 2 channels (the two coordinate channels cost like any other)."""
        return conv_macs(output_shape[1:3], self.kernel_size, input_shape[-1] + 2, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding,
                "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalResponseNormalization(layers.Layer):
    """b_c = a_c / (k + α Σ_{j in the `depth` channels around c} a_j²)^β (AlexNet defaults)."""

    receptive_field_rule = "pointwise"  # mixes channels, never positions

    def __init__(self, depth: int = 5, k: float = 2.0, alpha: float = 1e-4,
                 beta: float = 0.75, **kwargs):
        super().__init__(**kwargs)
        if depth < 1 or depth % 2 == 0:
            raise ValueError(f"depth must be a positive odd number; received depth={depth}")
        self.depth, self.k, self.alpha, self.beta = depth, k, alpha, beta

    def call(self, inputs):
        half = self.depth // 2
        channels = inputs.shape[-1]
        squared = ops.pad(ops.square(inputs), [[0, 0]] * (len(inputs.shape) - 1) + [[half, half]])
        sums = sum(squared[..., offset:offset + channels] for offset in range(self.depth))
        return inputs / ops.power(self.k + self.alpha * sums, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "k": self.k,
                "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpatiallySeparableConv2D(layers.Layer):
    """A k x 1 conv that keeps the C input channels, then a 1 x k conv to `filters`.

    Weights: k·C² + k·C·filters instead of k²·C·filters for a k x k conv (16 → 32 channels,
    k = 3: 2,304 vs 4,608); per channel, a k x k rank-1 kernel costs 2k multiplications instead
    of k² (how a Sobel filter is computed).
    """

    receptive_field_rule = "window"  # a kernel_size/strides/padding window, no dilation

    def __init__(self, filters: int, kernel_size: int, strides: int = 1,
                 padding: str = "valid", use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(kernel_size, int):
            raise ValueError(
                f"kernel_size must be one int k (the layer is k x 1 then 1 x k); received "
                f"kernel_size={kernel_size}"
            )
        self.filters, self.padding, self.use_bias = filters, padding, use_bias
        self.kernel_size = (kernel_size, kernel_size)
        self.strides = (strides, strides)
        self.vertical = None  # k x 1, C → C: built when C is known
        self.horizontal = layers.Conv2D(filters, (1, kernel_size), strides=(1, strides),
                                        padding=padding, use_bias=use_bias, name="horizontal")

    def build(self, input_shape):
        kernel = self.kernel_size[0]
        self.vertical = layers.Conv2D(input_shape[-1], (kernel, 1), strides=(self.strides[0], 1),
                                      padding=self.padding, use_bias=False, name="vertical")
        self.vertical.build(input_shape)
        self.horizontal.build(self.vertical.compute_output_shape(input_shape))

    def call(self, inputs):
        return self.horizontal(self.vertical(inputs))

    def compute_output_shape(self, input_shape):
        kernel, stride = self.kernel_size[0], self.strides[0]
        height, width = (None if size is None else conv_output_size(size, kernel, stride,
                                                                     self.padding)
                         for size in input_shape[1:3])
        return input_shape[0], height, width, self.filters

    def count_macs(self, input_shape, output_shape) -> int:
        """k·C per output of the k x 1 conv (at the output height, the input width), then k·C
        per output of the 1 x k conv."""
        kernel, channels = self.kernel_size[0], input_shape[-1]
        vertical = conv_macs((output_shape[1], input_shape[2]), (kernel, 1), channels, channels)
        return vertical + conv_macs(output_shape[1:3], (1, kernel), channels, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size[0], "strides": self.strides[0],
                "padding": self.padding, "use_bias": self.use_bias}
