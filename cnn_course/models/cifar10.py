"""CIFAR-10 networks: the course's base network (a faithful Keras 3 port) and the student's
depthwise-separable-only network."""

from __future__ import annotations

import keras
from keras import layers

from cnn_course.models.fast_layers import FastDropout, FusedBatchNormalization
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
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32",
                           name="predictions")(x)  # float32 class scores under mixed precision
    return keras.Model(inputs, outputs, name="cifar10_base_net")


def _separable_block(x, filters: int, name: str, strides: int = 1, dilation: int = 1):
    """SeparableConv2D 3x3 (no bias: BatchNorm follows) → BatchNorm → ReLU."""
    x = layers.SeparableConv2D(filters, 3, strides=strides, dilation_rate=dilation,
                               padding="same", use_bias=False, name=f"{name}_sepconv")(x)
    x = FusedBatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def cifar10_separable_net(
    widths: tuple[int, int, int] = (32, 96, 152),
    depths: tuple[int, int, int] = (1, 3, 3),
    stem: int = 24,
    dropout: float = 0.1,
    num_classes: int = 10,
    augmentation: keras.layers.Layer | None = None,
    residual: bool = False,
) -> keras.Model:
    """The assignment's student network: depthwise separable convolutions only.

    `residual` adds each same-width block's input to its output (ResNet's identity shortcut,
    no parameters): a holdout candidate of logs/selection.yaml's second question.

    No Conv2D anywhere (the 1x1 projection is `SeparableConv2D(k, 1)`), BatchNorm after every
    conv, dropout between stages, fewer than 100,000 parameters, global average pooling.
    Three stages at 32, 16 and 8 pixels, downsampling with stride-2 separable convs; the last
    conv is dilated (d=2) so the receptive field before pooling (43) exceeds the 32x32 image.
    Little work at full resolution: depthwise convs are slow on CPU, and this shape (93,885
    parameters) measured 257-262 ms/step at batch 128 on the 2-core machines, against 396-512
    for (64, 96, 128) with depths (3, 3, 2) (`scripts/benchmark_steps.py`).
    """
    inputs, x = raw_image_input((32, 32, 3), augmentation=augmentation)
    x = _separable_block(x, stem, "stem")
    if len(widths) != len(depths) or min(depths) < 1:
        raise ValueError(
            f"widths and depths need one entry per stage, each depth >= 1; received "
            f"widths={widths}, depths={depths}"
        )
    for stage, (filters, depth) in enumerate(zip(widths, depths), start=1):
        for index in range(1, depth + 1):
            last = stage == len(widths) and index == depth
            block = _separable_block(x, filters, f"stage{stage}_{index}",
                                     strides=2 if stage > 1 and index == 1 else 1,
                                     dilation=2 if last else 1)
            same_shape = residual and index > 1  # a stage's first block changes the shape
            x = layers.Add(name=f"stage{stage}_{index}_add")([x, block]) if same_shape else block
        if dropout:
            x = FastDropout(dropout, name=f"stage{stage}_dropout")(x)
    x = layers.SeparableConv2D(num_classes, 1, name="classifier")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    # float32 class scores under mixed precision
    outputs = layers.Activation("softmax", dtype="float32", name="softmax")(x)
    return keras.Model(inputs, outputs, name="cifar10_separable_net")


def lecture_cifar10_net(num_classes: int = 10) -> keras.Model:
    """The lecture's Keras CIFAR-10 model: 2,626,634 parameters, 768 of them non-trainable.

    Reconstructed from the lecture's summary, in the family of Keras' `cifar10_cnn` example,
    widened to 64 and 128 filters, with BatchNormalization after every conv: conv 64 'same' →
    conv 64 'valid' → max-pool 2 → dropout 0.25 → conv 128 'same' → conv 128 'valid' →
    max-pool 2 → dropout 0.25 → dense 512 → dropout 0.5 → dense 10. The 384 BN channels hold
    768 moving statistics (the non-trainable parameters). A parameter count cannot tell where
    BN sits relative to the ReLU; it is placed before it (conv → BN → ReLU) here.
    """
    inputs, x = raw_image_input((32, 32, 3))
    for block, filters in enumerate((64, 128), start=1):
        for index, padding in enumerate(("same", "valid"), start=1):
            x = layers.Conv2D(filters, (3, 3), padding=padding, name=f"block{block}_conv{index}")(x)
            x = layers.BatchNormalization(name=f"block{block}_bn{index}")(x)
            x = layers.ReLU(name=f"block{block}_relu{index}")(x)
        x = layers.MaxPooling2D((2, 2), name=f"block{block}_pool")(x)
        x = layers.Dropout(0.25, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.5, name="fc1_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32",
                           name="predictions")(x)  # float32 class scores under mixed precision
    return keras.Model(inputs, outputs, name="lecture_cifar10_net")
