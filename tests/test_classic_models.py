"""The classic architectures (d2l), the lecture's CIFAR-10 model and the All-CNN C-models:
every parameter count is pinned, and derived here from the layer specs by hand-written
formulas, so a builder that drifts from d2l / the paper / the lecture fails."""

import keras
import numpy as np
import pytest

from cnn_course import data, models
from cnn_course.models import all_cnn, blocks

pytestmark = pytest.mark.keras_version  # also run on the oldest Keras


def conv(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def dense(n_in, n_out):
    return n_in * n_out + n_out


def bn(channels):
    return 4 * channels


def inception(c_in, c1, c2, c3, c4):
    return (conv(1, c_in, c1) + conv(1, c_in, c2[0]) + conv(3, c2[0], c2[1])
            + conv(1, c_in, c3[0]) + conv(5, c3[0], c3[1]) + conv(1, c_in, c4))


def googlenet_params():
    total = conv(7, 1, 64) + conv(1, 64, 64) + conv(3, 64, 192)
    channels = 192
    for stage in models.classic.GOOGLENET_STAGES:
        for c1, c2, c3, c4 in stage:
            total += inception(channels, c1, c2, c3, c4)
            channels = c1 + c2[1] + c3[1] + c4
    return total + dense(channels, 10)


def resnet18_params():
    total = conv(7, 1, 64) + bn(64)
    channels = 64
    for filters in (64, 128, 256, 512):
        for index in (1, 2):
            projection = index == 1 and filters != 64
            total += conv(3, channels, filters) + conv(3, filters, filters) + 2 * bn(filters)
            total += conv(1, channels, filters) if projection else 0
            channels = filters
    return total + dense(512, 10)


def densenet_params():
    total, channels = conv(7, 1, 64) + bn(64), 64
    for block in range(4):
        for _ in range(4):
            total += bn(channels) + conv(3, channels, 32)
            channels += 32
        if block < 3:
            total += bn(channels) + conv(1, channels, channels // 2)
            channels //= 2
    return total + bn(channels) + dense(channels, 10)


def vgg11_params(width):
    total, channels = 0, 1
    for convs, filters in models.classic.VGG11:
        for _ in range(convs):
            total += conv(3, channels, filters // width)
            channels = filters // width
    return total + dense(7 * 7 * channels, 4096) + dense(4096, 4096) + dense(4096, 10)


def nin_params():
    total, channels = 0, 1
    for filters, kernel in ((96, 11), (256, 5), (384, 3), (10, 3)):
        total += conv(kernel, channels, filters) + 2 * conv(1, filters, filters)
        channels = filters
    return total


def model_c_params(extra_convs):
    return (conv(3, 3, 96) + conv(3, 96, 96) + conv(3, 96, 192) + 2 * conv(3, 192, 192)
            + conv(1, 192, 192) + conv(1, 192, 10)
            + extra_convs * (conv(3, 96, 96) + conv(3, 192, 192)))


PINNED = {
    # name: (kwargs, parameters, derived from the specs, non-trainable)
    "lenet": ({}, 61_706, conv(5, 1, 6) + conv(5, 6, 16) + dense(400, 120) + dense(120, 84)
              + dense(84, 10), 0),
    "lenet_bn": ({}, 62_610, 61_706 + bn(6) + bn(16) + bn(120) + bn(84), 452),
    "alexnet": ({}, 46_764_746, conv(11, 1, 96) + conv(5, 96, 256) + conv(3, 256, 384)
                + conv(3, 384, 384) + conv(3, 384, 256) + dense(6400, 4096)
                + dense(4096, 4096) + dense(4096, 10), 0),
    "vgg11": ({}, 128_806_154, vgg11_params(1), 0),
    "nin": ({}, 1_992_166, nin_params(), 0),
    "googlenet": ({}, 5_977_530, googlenet_params(), 0),
    "resnet18": ({}, 11_186_186, resnet18_params(), 7_808),
    "densenet": ({}, 764_834, densenet_params(), 6_608),
    "lecture_cifar10_net": ({}, 2_626_634, conv(3, 3, 64) + conv(3, 64, 64) + conv(3, 64, 128)
                            + conv(3, 128, 128) + bn(384) + dense(6 * 6 * 128, 512)
                            + dense(512, 10), 768),
    "model_c": ({}, 954_730, model_c_params(0), 0),
    "strided_cnn_c": ({}, 954_730, model_c_params(0), 0),
    "convpool_cnn_c": ({}, 1_369_738, model_c_params(1), 0),
    "all_cnn_c": ({}, 1_369_738, model_c_params(1), 0),
}


def non_trainable(model):
    return sum(int(np.prod(weight.shape)) for weight in model.non_trainable_weights)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_builder_parameter_count_matches_its_specification(name):
    kwargs, pinned, derived, frozen = PINNED[name]
    model = models.build(name, **kwargs)
    assert derived == pinned
    assert model.count_params() == pinned
    assert non_trainable(model) == frozen
    keras.backend.clear_session()


def test_vgg11_width_divides_the_conv_channels_as_d2l_trains_it():
    assert models.build("vgg11", width=4).count_params() == vgg11_params(4) == 43_093_322


def test_vgg11_rejects_a_width_that_does_not_divide_64():
    with pytest.raises(ValueError, match="width must divide 64"):
        models.build("vgg11", width=3)


@pytest.mark.parametrize("name, size", [("lenet", 28), ("alexnet", 224), ("nin", 224),
                                        ("googlenet", 96), ("densenet", 96)])
def test_fashion_mnist_models_take_raw_images_and_resize_where_d2l_does(name, size):
    model = models.build(name)
    assert models.dataset_of(name) == "fashion_mnist"
    assert model.inputs[0].dtype == "uint8" and tuple(model.inputs[0].shape) == (None, 28, 28)
    resize = [layer for layer in model.layers if isinstance(layer, keras.layers.Resizing)]
    assert (resize[0].output.shape[1] if resize else 28) == size
    probabilities = keras.ops.convert_to_numpy(
        model(np.zeros((2, 28, 28), "uint8"), training=False))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_alexnet_on_imagenet_has_the_first_conv_output_of_54_pixels():
    model = models.build("alexnet", image_shape=(224, 224, 3), num_classes=1000)
    assert model.get_layer("conv1").output.shape[1:] == (54, 54, 96)
    assert model.get_layer("pool5").output.shape[1:] == (5, 5, 256)


@pytest.mark.parametrize("variant", all_cnn.ALL_CNN_VARIANTS)
def test_all_cnn_models_average_over_six_by_six(variant):
    model = models.build(variant)
    assert model.get_layer("conv3_3").output.shape[1:] == (6, 6, 10)
    pools = any(isinstance(layer, keras.layers.MaxPooling2D) for layer in model.layers)
    assert pools == (variant in ("model_c", "convpool_cnn_c"))


def test_all_cnn_rejects_an_unknown_variant():
    with pytest.raises(ValueError, match="Unknown All-CNN variant: 'all_cnn_d'"):
        all_cnn.all_cnn("all_cnn_d")


def test_se_block_rescales_channels_with_a_bottleneck():
    inputs = keras.Input((8, 8, 32))
    model = keras.Model(inputs, blocks.se_block(inputs, ratio=4))
    assert model.count_params() == dense(32, 8) + dense(8, 32)
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 32)).astype("float32")
    y = keras.ops.convert_to_numpy(model(x))
    scale = y / x  # one weight in (0, 1) per channel, the same at every position
    np.testing.assert_allclose(scale, np.broadcast_to(scale[:, :1, :1, :], scale.shape),
                               rtol=1e-4)
    assert np.all((scale > 0) & (scale < 1))


def test_se_block_refuses_fewer_channels_than_its_ratio():
    with pytest.raises(ValueError, match="at least `ratio` channels"):
        blocks.se_block(keras.Input((8, 8, 8)), ratio=16)


def test_channel_shuffle_interleaves_the_groups():
    x = np.arange(6, dtype="float32").reshape(1, 1, 1, 6)  # groups (0 1 2) (3 4 5)
    shuffled = keras.ops.convert_to_numpy(blocks.ChannelShuffle(2)(x))
    np.testing.assert_array_equal(shuffled.ravel(), [0, 3, 1, 4, 2, 5])


def test_channel_shuffle_refuses_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match="divisible by groups"):
        blocks.ChannelShuffle(4)(np.zeros((1, 2, 2, 6), "float32"))


@pytest.mark.parametrize("strides, filters, expected_channels", [(1, 24, 24), (2, 48, 48)])
def test_shufflenet_unit_uses_grouped_pointwise_convs(strides, filters, expected_channels):
    inputs = keras.Input((8, 8, 24))
    model = keras.Model(inputs, blocks.shufflenet_unit(inputs, filters, groups=3,
                                                       strides=strides))
    assert model.output.shape[1:] == (8 // strides, 8 // strides, expected_channels)
    grouped = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
               and layer.groups == 3]
    assert len(grouped) == 2
    bottleneck, out = filters // 4, filters if strides == 1 else filters - 24
    # grouped 1x1 convs hold 1/groups of a full conv's weights
    assert grouped[0].count_params() == 24 * bottleneck // 3
    assert grouped[1].count_params() == bottleneck * out // 3


def test_shufflenet_unit_round_trips_through_keras_saving(tmp_path):
    inputs = keras.Input((8, 8, 24))
    model = keras.Model(inputs, blocks.shufflenet_unit(inputs, 24, groups=3))
    path = tmp_path / "unit.keras"
    model.save(path)
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 24)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.saving.load_model(path)(x)),
                               keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_every_registered_model_has_a_layer_table_ending_in_a_global_view(name):
    from cnn_course import receptive_field

    rows = receptive_field.annotate(models.build(name))
    assert rows[-1].is_global
    assert sum(row.params for row in rows) == models.build(name).count_params()
    keras.backend.clear_session()


# Not backend-marked: building all eighteen models takes about 130 s under JAX, and an input
# shape does not depend on the backend.
def test_every_model_names_the_dataset_it_is_built_for():
    for name in models.MODELS:
        model = models.build(name)
        shape = data.spec(models.dataset_of(name)).image_shape
        assert tuple(model.inputs[0].shape[1:]) == shape, name


def test_shufflenet_unit_has_a_receptive_field_through_its_channel_shuffle():
    from cnn_course import receptive_field

    inputs = keras.Input((8, 8, 24))
    model = keras.Model(inputs, blocks.shufflenet_unit(inputs, 24, groups=3))
    shuffle = [row for row in receptive_field.annotate(model) if row.kind == "ChannelShuffle"]
    assert shuffle[0].rf == (1, 1)  # it moves channels, never positions
    assert receptive_field.annotate(model)[-1].rf == (3, 3)
