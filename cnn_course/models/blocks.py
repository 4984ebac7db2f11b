"""The building blocks of the classic architectures (d2l's chapter 8), as functions that
extend a functional graph, plus the two layers they need: Inception, the residual block,
the dense block and its transition, squeeze-and-excitation, and the ShuffleNet unit."""

from __future__ import annotations

import keras
from keras import layers, ops


def inception_block(x, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int, name: str):
    """GoogLeNet's Inception block: four parallel paths concatenated on channels.

    1x1 (c1) | 1x1 (c2[0]) → 3x3 (c2[1]) | 1x1 (c3[0]) → 5x5 (c3[1]) | 3x3 max-pool → 1x1 (c4).
    The 1x1 reductions before the 3x3 and 5x5 convs are where its savings come from.
    """
    def conv(tensor, filters, kernel, suffix):
        return layers.Conv2D(filters, kernel, padding="same", activation="relu",
                             name=f"{name}_{suffix}")(tensor)

    path1 = conv(x, c1, 1, "1x1")
    path2 = conv(conv(x, c2[0], 1, "3x3_reduce"), c2[1], 3, "3x3")
    path3 = conv(conv(x, c3[0], 1, "5x5_reduce"), c3[1], 5, "5x5")
    pooled = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    path4 = conv(pooled, c4, 1, "pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([path1, path2, path3, path4])


def residual_block(x, filters: int, name: str, strides: int = 1, projection: bool = False):
    """ResNet's basic block: conv 3x3 → BN → ReLU → conv 3x3 → BN, plus the input (through a
    strided 1x1 conv when the shape changes), then ReLU. Convs keep their biases, as d2l's."""
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if projection:
        x = layers.Conv2D(filters, 1, strides=strides, name=f"{name}_projection")(x)
    return layers.ReLU(name=f"{name}_relu2")(layers.Add(name=f"{name}_add")([x, y]))


def dense_block(x, convs: int, growth_rate: int, name: str):
    """DenseNet's dense block: each BN → ReLU → conv 3x3 (growth_rate channels) sees the
    concatenation of every earlier output, so channels grow by `growth_rate` per conv."""
    for index in range(1, convs + 1):
        y = layers.BatchNormalization(name=f"{name}_{index}_bn")(x)
        y = layers.ReLU(name=f"{name}_{index}_relu")(y)
        y = layers.Conv2D(growth_rate, 3, padding="same", name=f"{name}_{index}_conv")(y)
        x = layers.Concatenate(name=f"{name}_{index}_concat")([x, y])
    return x


def transition_block(x, filters: int, name: str):
    """Between dense blocks: BN → ReLU → 1x1 conv (fewer channels) → 2x2 average pool."""
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    x = layers.Conv2D(filters, 1, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def se_block(x, ratio: int = 16, name: str = "se"):
    """Squeeze-and-excitation (Hu et al. 2018): global average pooling squeezes each channel to
    one number, a bottleneck MLP (C → C/ratio → C, sigmoid) turns them into channel weights,
    and the input is rescaled channel by channel. 2C²/ratio + C + C/ratio parameters."""
    channels = x.shape[-1]
    if channels is None or channels < ratio:
        raise ValueError(
            f"se_block needs at least `ratio` channels to squeeze; received {channels} "
            f"channels with ratio={ratio}. Use a smaller ratio."
        )
    squeezed = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_squeeze")(x)
    hidden = layers.Dense(channels // ratio, activation="relu", name=f"{name}_reduce")(squeezed)
    weights = layers.Dense(channels, activation="sigmoid", name=f"{name}_expand")(hidden)
    return layers.Multiply(name=f"{name}_scale")([x, weights])


@keras.saving.register_keras_serializable(package="cnn_course")
class ChannelShuffle(layers.Layer):
    """ShuffleNet's channel shuffle: (groups, C/groups) channels → transposed → flattened, so
    the next grouped conv's every group sees channels from every group before it."""

    receptive_field_rule = "pointwise"  # moves channels, never positions

    def __init__(self, groups: int, **kwargs):
        super().__init__(**kwargs)
        if groups < 1:
            raise ValueError(f"groups must be >= 1; received groups={groups}")
        self.groups = groups

    def build(self, input_shape):
        if input_shape[-1] is None or input_shape[-1] % self.groups:
            raise ValueError(
                f"ChannelShuffle needs channels divisible by groups; received "
                f"{input_shape[-1]} channels and groups={self.groups}."
            )

    def call(self, inputs):
        height, width, channels = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        x = ops.reshape(inputs, (-1, height, width, self.groups, channels // self.groups))
        x = ops.transpose(x, (0, 1, 2, 4, 3))
        return ops.reshape(x, (-1, height, width, channels))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


def shufflenet_unit(x, filters: int, groups: int = 3, strides: int = 1,
                    bottleneck_ratio: float = 0.25, name: str = "shuffle"):
    """ShuffleNet's unit (Zhang et al. 2018): grouped 1x1 conv → BN → ReLU → channel shuffle →
    3x3 depthwise conv (stride) → BN → grouped 1x1 conv → BN, added to the input (stride 1)
    or concatenated with its 3x3 average pool (stride 2, so the unit outputs `filters`)."""
    channels = x.shape[-1]
    out = filters if strides == 1 else filters - channels
    if strides == 1 and filters != channels:
        raise ValueError(
            f"A stride-1 ShuffleNet unit adds its input, so filters must equal the input "
            f"channels; received filters={filters}, input channels {channels}."
        )
    bottleneck = int(filters * bottleneck_ratio)
    if bottleneck % groups or out % groups or out < groups:
        raise ValueError(
            f"Grouped 1x1 convs need channels divisible by groups={groups}; received a "
            f"bottleneck of {bottleneck} and {out} output channels. Choose filters accordingly."
        )
    y = layers.Conv2D(bottleneck, 1, groups=groups if channels % groups == 0 else 1,
                      use_bias=False, name=f"{name}_group_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = ChannelShuffle(groups, name=f"{name}_shuffle")(y)
    y = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False,
                               name=f"{name}_depthwise")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Conv2D(out, 1, groups=groups, use_bias=False, name=f"{name}_group_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn3")(y)
    if strides == 1:
        merged = layers.Add(name=f"{name}_add")([x, y])
    else:
        shortcut = layers.AveragePooling2D(3, strides=strides, padding="same",
                                           name=f"{name}_shortcut_pool")(x)
        merged = layers.Concatenate(name=f"{name}_concat")([shortcut, y])
    return layers.ReLU(name=f"{name}_relu_out")(merged)
