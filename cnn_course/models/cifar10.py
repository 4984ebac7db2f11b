"""CIFAR-10 networks: the course's base network (a faithful Keras 3 port) and the student's
depthwise-separable-only network."""

from __future__ import annotations

import keras
from keras import layers

from cnn_course.models.inputs import raw_image_input


def cifar10_base_net(num_classes: int = 10) -> keras.Model:
    """The course notebook's network, ported from Keras 1 (1,172,410 parameters).

    Keras 1's `Convolution2D(48, 3, 3)` is a 3x3 kernel with stride 1; in Keras 3 the third
    positional argument would be the stride, so kernel sizes are written as tuples here.
    Each block: conv 'same' + ReLU, conv 'valid' + ReLU, max-pool 2, dropout 0.25.
    """
    inputs, x = raw_image_input((32, 32, 3))
    for block, filters in enumerate((48, 96, 192), start=1):
        x = layers.Conv2D(filters, (3, 3), padding="same", activation="relu",
                          name=f"block{block}_conv1")(x)
        x = layers.Conv2D(filters, (3, 3), activation="relu", name=f"block{block}_conv2")(x)
        x = layers.MaxPooling2D((2, 2), name=f"block{block}_pool")(x)
        x = layers.Dropout(0.25, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.5, name="fc1_dropout")(x)
    x = layers.Dense(256, activation="relu", name="fc2")(x)
    x = layers.Dropout(0.5, name="fc2_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="cifar10_base_net")


def _separable_block(x, filters: int, name: str, strides: int = 1, dilation: int = 1):
    """SeparableConv2D 3x3 (no bias: BatchNorm follows) → BatchNorm → ReLU."""
    x = layers.SeparableConv2D(filters, 3, strides=strides, dilation_rate=dilation,
                               padding="same", use_bias=False, name=f"{name}_sepconv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def cifar10_separable_net(
    widths: tuple[int, int, int] = (64, 96, 128),
    stem: int = 32,
    dropout: float = 0.1,
    num_classes: int = 10,
    augmentation: keras.layers.Layer | None = None,
) -> keras.Model:
    """The assignment's student network: depthwise separable convolutions only.

    No Conv2D anywhere (the 1x1 projection is `SeparableConv2D(k, 1)`), BatchNorm after every
    conv, dropout between stages, fewer than 100,000 parameters, global average pooling.
    Three stages at 32, 16 and 8 pixels, downsampling with stride-2 separable convs; the last
    conv is dilated (d=2) so the receptive field before pooling (39) exceeds the 32x32 image.
    """
    inputs, x = raw_image_input((32, 32, 3), augmentation=augmentation)
    x = _separable_block(x, stem, "stem")
    for stage, filters in enumerate(widths, start=1):
        strides = 1 if stage == 1 else 2
        x = _separable_block(x, filters, f"stage{stage}_1", strides=strides)
        x = _separable_block(x, filters, f"stage{stage}_2",
                             dilation=2 if stage == len(widths) else 1)
        if stage < len(widths):
            x = _separable_block(x, filters, f"stage{stage}_3")
        if dropout:
            x = layers.Dropout(dropout, name=f"stage{stage}_dropout")(x)
    x = layers.SeparableConv2D(num_classes, 1, name="classifier")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Activation("softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name="cifar10_separable_net")
