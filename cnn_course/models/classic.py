"""The classic architectures as d2l (Dive into Deep Learning, chapters 7-8) builds them, which
the lecture follows: Fashion-MNIST in (28x28 uint8, 10 classes), resized inside the model
where d2l resizes its data (AlexNet, VGG and NiN to 224; GoogLeNet, ResNet and DenseNet to 96).

`image_shape` and `num_classes` let the same builders take ImageNet's 224x224x3 and 1000
classes, which is what the lecture's cost tables count (`cnn_course.complexity`).

Where Keras and d2l (PyTorch) differ: PyTorch pads max-pools (3, stride 2, padding 1) with
-inf on both sides; Keras' 'same' pads one pixel on the right and bottom. Sizes and parameter
counts are equal; after a ReLU the values are too, only the window alignment moves.
"""

from __future__ import annotations

import keras
from keras import layers

from cnn_course.models.blocks import (dense_block, inception_block, residual_block,
                                      transition_block)
from cnn_course.models.inputs import raw_image_input

FASHION_MNIST = (28, 28)


def _input(image_shape: tuple[int, ...], resize_to: int | None):
    """uint8 input, rescaled; resized (bilinear, as d2l's transforms.Resize) when its size
    differs from `resize_to`."""
    inputs, x = raw_image_input(image_shape)
    if resize_to is not None and tuple(image_shape[:2]) != (resize_to, resize_to):
        x = layers.Resizing(resize_to, resize_to, interpolation="bilinear", name="resize")(x)
    return inputs, x


def _classifier(x, num_classes: int):
    return layers.Dense(num_classes, activation="softmax", dtype="float32",
                           name="predictions")(x)  # float32 class scores under mixed precision


def lenet(image_shape: tuple[int, ...] = FASHION_MNIST, num_classes: int = 10,
          batch_norm: bool = False, batch_norm_momentum: float = 0.9) -> keras.Model:
    """LeNet-5 as d2l writes it (61,706 parameters on 28x28): conv 6 5x5 pad 2 → sigmoid →
    avg-pool 2 → conv 16 5x5 → sigmoid → avg-pool 2 → dense 120 → 84 (sigmoid) → 10.

    `batch_norm` puts BatchNormalization after each conv and hidden dense, before the sigmoid
    (d2l's BN-LeNet, which also drops the first conv's padding; it is kept here so that BN is
    the only difference between the two).

    `batch_norm_momentum` 0.9 is PyTorch's default (momentum=0.1 there), which d2l's BN-LeNet
    uses; Keras' 0.99 lets the inference statistics lag behind weights that SGD at 0.9 moves
    fast. Measured on a validation split held out from the training set (the last 5,000 of
    60,000 images, seed 0, d2l's recipe: `python scripts/probe_bn_momentum.py 0.99 0.9`):
    validation accuracy after 10 epochs 81.16% with 0.99 (its best 85.44%, epoch 6, then
    falling while training accuracy rose to 90.9%), 86.58% with 0.9.
    """
    inputs, x = raw_image_input(image_shape)
    name = "lenet_bn" if batch_norm else "lenet"

    def stage(x, layer, label):
        x = layer(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"{label}_bn")(x)
        return layers.Activation("sigmoid", name=f"{label}_sigmoid")(x)

    x = stage(x, layers.Conv2D(6, 5, padding="same", name="conv1"), "conv1")
    x = layers.AveragePooling2D(2, strides=2, name="pool1")(x)
    x = stage(x, layers.Conv2D(16, 5, name="conv2"), "conv2")
    x = layers.AveragePooling2D(2, strides=2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = stage(x, layers.Dense(120, name="dense1"), "dense1")
    x = stage(x, layers.Dense(84, name="dense2"), "dense2")
    return keras.Model(inputs, _classifier(x, num_classes), name=name)


def lenet_bn(**kwargs) -> keras.Model:
    """LeNet with batch normalization (d2l 8.5); 62,610 parameters, 452 non-trainable."""
    return lenet(batch_norm=True, **kwargs)


def alexnet(image_shape: tuple[int, ...] = FASHION_MNIST, num_classes: int = 10,
            dropout: float = 0.5) -> keras.Model:
    """AlexNet as d2l writes it: conv 96 11x11 stride 4 pad 1 → max-pool 3/2 → conv 256 5x5
    pad 2 → max-pool → conv 384, 384, 256 3x3 pad 1 → max-pool → dense 4096, dropout, ×2 → 10.
    On 224x224x1, 46,764,746 parameters; ImageNet's 224x224x3 and 1000 classes: 50,844,008."""
    inputs, x = _input(image_shape, 224)
    x = layers.ZeroPadding2D(1, name="conv1_pad")(x)
    x = layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = layers.Conv2D(256, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    for index, filters in enumerate((384, 384, 256), start=3):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{index}")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    for index in (1, 2):
        x = layers.Dense(4096, activation="relu", name=f"dense{index}")(x)
        x = layers.Dropout(dropout, name=f"dense{index}_dropout")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name="alexnet")


VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg11(image_shape: tuple[int, ...] = FASHION_MNIST, num_classes: int = 10, width: int = 1,
          dropout: float = 0.5) -> keras.Model:
    """VGG-11: five blocks of 3x3 convs (pad 1) + 2x2 max-pool, (convs, channels) =
    ((1,64), (1,128), (2,256), (2,512), (2,512)), then dense 4096, dropout, ×2 → 10.

    `width` divides every conv's channels (d2l trains at width=4 on Fashion-MNIST); the dense
    layers keep 4096 units, as d2l's. Parameters: 128,806,154 at width 1, 43,093,322 at 4.
    """
    if width < 1 or 64 % width:
        raise ValueError(f"width must divide 64 (1, 2, 4, ...); received width={width}")
    inputs, x = _input(image_shape, 224)
    for block, (convs, channels) in enumerate(VGG11, start=1):
        for index in range(1, convs + 1):
            x = layers.Conv2D(channels // width, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{index}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for index in (1, 2):
        x = layers.Dense(4096, activation="relu", name=f"dense{index}")(x)
        x = layers.Dropout(dropout, name=f"dense{index}_dropout")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name="vgg11")


def _nin_block(x, filters: int, kernel: int, strides: int, padding: str, name: str):
    """A conv followed by two 1x1 convs: a small MLP slid over every position."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, activation="relu",
                      name=f"{name}_conv")(x)
    x = layers.Conv2D(filters, 1, activation="relu", name=f"{name}_mlp1")(x)
    return layers.Conv2D(filters, 1, activation="relu", name=f"{name}_mlp2")(x)


def nin(image_shape: tuple[int, ...] = FASHION_MNIST, num_classes: int = 10,
        dropout: float = 0.5) -> keras.Model:
    """Network in Network: NiN blocks (96 11x11/4, 256 5x5, 384 3x3) with max-pools 3/2, then
    a NiN block with one channel per class and global average pooling: no dense layer at all.
    1,992,166 parameters on 224x224x1."""
    inputs, x = _input(image_shape, 224)
    x = _nin_block(x, 96, 11, 4, "valid", "nin1")
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = _nin_block(x, 256, 5, 1, "same", "nin2")
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    x = _nin_block(x, 384, 3, 1, "same", "nin3")
    x = layers.MaxPooling2D(3, strides=2, name="pool3")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = _nin_block(x, num_classes, 3, 1, "same", "nin4")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    # float32 class scores under mixed precision
    outputs = layers.Activation("softmax", dtype="float32", name="softmax")(x)
    return keras.Model(inputs, outputs, name="nin")


def _stem(x, batch_norm: bool):
    """GoogLeNet / ResNet / DenseNet's first block: conv 64 7x7/2 (→ BN) → ReLU → max-pool 3/2."""
    x = layers.Conv2D(64, 7, strides=2, padding="same", name="stem_conv")(x)
    if batch_norm:
        x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    return layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)


GOOGLENET_STAGES = (
    ((64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64)),
    ((192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64),
     (128, (128, 256), (24, 64), 64), (112, (144, 288), (32, 64), 64),
     (256, (160, 320), (32, 128), 128)),
    ((256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128)),
)


def googlenet(image_shape: tuple[int, ...] = FASHION_MNIST, num_classes: int = 10) -> keras.Model:
    """GoogLeNet (d2l 8.4): stem, conv 64 1x1 → conv 192 3x3 → max-pool, then 2, 5 and 2
    Inception blocks (max-pool 3/2 between stages), global average pooling, dense 10.
    5,977,530 parameters on 96x96x1."""
    inputs, x = _input(image_shape, 96)
    x = _stem(x, batch_norm=False)
    x = layers.Conv2D(64, 1, activation="relu", name="b2_conv1")(x)
    x = layers.Conv2D(192, 3, padding="same", activation="relu", name="b2_conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="b2_pool")(x)
    for stage, blocks in enumerate(GOOGLENET_STAGES, start=3):
        for index, channels in enumerate(blocks, start=1):
            x = inception_block(x, *channels, name=f"inception{stage}_{index}")
        if stage < 5:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"b{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name="googlenet")


def resnet18(image_shape: tuple[int, ...] = FASHION_MNIST, num_classes: int = 10) -> keras.Model:
    """ResNet-18 (d2l 8.6): stem with BN, four stages of two residual blocks (64, 128, 256,
    512 channels; each later stage halves the size through a strided 1x1 projection), global
    average pooling, dense 10. 11,186,186 parameters on 96x96x1 (7,808 non-trainable)."""
    inputs, x = _input(image_shape, 96)
    x = _stem(x, batch_norm=True)
    for stage, filters in enumerate((64, 128, 256, 512), start=1):
        for index in (1, 2):
            first = index == 1 and stage > 1
            x = residual_block(x, filters, f"stage{stage}_block{index}",
                               strides=2 if first else 1, projection=first)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name="resnet18")


def densenet(image_shape: tuple[int, ...] = FASHION_MNIST, num_classes: int = 10,
             growth_rate: int = 32, block_convs: tuple[int, ...] = (4, 4, 4, 4)) -> keras.Model:
    """DenseNet (d2l 8.7): stem with BN, dense blocks of `block_convs` convs each adding
    `growth_rate` channels, transitions halving channels and size between them, BN → ReLU →
    global average pooling → dense 10. 764,834 parameters on 96x96x1 (6,608 non-trainable)."""
    inputs, x = _input(image_shape, 96)
    x = _stem(x, batch_norm=True)
    for block, convs in enumerate(block_convs, start=1):
        x = dense_block(x, convs, growth_rate, f"dense{block}")
        if block < len(block_convs):
            x = transition_block(x, x.shape[-1] // 2, f"transition{block}")
    x = layers.BatchNormalization(name="final_bn")(x)
    x = layers.ReLU(name="final_relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _classifier(x, num_classes), name="densenet")
