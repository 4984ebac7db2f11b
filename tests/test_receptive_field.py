"""The receptive-field engine against the worked cases of the course and the issue."""

import keras
import pytest
from keras import layers

from cnn_course import models
from cnn_course import receptive_field as rf

pytestmark = pytest.mark.keras_version  # also run on the oldest Keras


def chain(input_shape, *stack):
    return models.sequential(input_shape, *stack)


def by_name(model):
    return {row.layer: row for row in rf.annotate(model)}


def last(model):
    return rf.annotate(model)[-1]


def test_course_example_10_conv_conv_pool_conv():
    model = chain((10, 10, 1), layers.Conv2D(1, 3), layers.Conv2D(1, 3),
                  layers.MaxPooling2D(2), layers.Conv2D(1, 3))
    rows = rf.annotate(model)[1:]
    assert [row.output_size[0] for row in rows] == [8, 6, 3, 1]
    assert [row.rf[0] for row in rows] == [3, 5, 6, 10]


def test_course_400_network_rf_grows_by_two_then_pool():
    model = chain((400, 400, 1), *[layers.Conv2D(f, 3) for f in (32, 64, 128, 256, 512)],
                  layers.MaxPooling2D(2))
    rows = rf.annotate(model)[1:]
    assert [row.rf[0] for row in rows] == [3, 5, 7, 9, 11, 12]
    assert [row.output_size[0] for row in rows] == [398, 396, 394, 392, 390, 195]


@pytest.mark.parametrize("size, start", [(8, 1), (9, 0)])
def test_same_padding_start_depends_on_input_parity(size, start):
    row = last(chain((size, size, 1), layers.Conv2D(1, 3, strides=2, padding="same")))
    assert row.start == (start, start)
    assert row.output_size == ((size + 1) // 2,) * 2


def test_even_kernel_same_padding_puts_extra_pixel_right():
    once = chain((16, 16, 1), layers.Conv2D(1, 4, padding="same"))
    twice = chain((16, 16, 1), layers.Conv2D(1, 4, padding="same"),
                  layers.Conv2D(1, 4, padding="same"))
    assert (last(once).rf, last(once).start, last(once).padding) == ((4, 4), (0.5, 0.5),
                                                                     ((1, 2), (1, 2)))
    assert (last(twice).rf, last(twice).start) == ((7, 7), (1.0, 1.0))


def test_vgg16_receptive_fields():
    model = keras.applications.VGG16(weights=None, input_shape=(224, 224, 3))
    rows = by_name(model)
    expected = {
        "block1_conv1": 3, "block1_pool": 6, "block2_conv1": 10, "block2_pool": 16,
        "block3_conv1": 24, "block3_conv2": 32, "block3_conv3": 40, "block3_pool": 44,
        "block4_conv1": 60, "block4_conv2": 76, "block4_conv3": 92, "block4_pool": 100,
        "block5_conv1": 132, "block5_conv2": 164, "block5_conv3": 196, "block5_pool": 212,
        "fc1": 404,
    }
    assert {name: rows[name].rf[0] for name in expected} == expected
    assert (rows["block5_conv3"].jump, rows["block5_conv3"].start) == ((16, 16), (7.5, 7.5))
    assert (rows["block5_pool"].jump, rows["block5_pool"].start) == ((32, 32), (15.5, 15.5))


def test_dilation_chain():
    model = chain((32, 32, 1), *[layers.Conv2D(1, 3, dilation_rate=d) for d in (1, 2, 4)])
    row = last(model)
    assert (row.output_size, row.jump, row.rf, row.start) == ((18, 18), (1, 1), (15, 15), (7, 7))
    assert [r.rf[0] for r in rf.annotate(model)[1:]] == [3, 7, 15]


def test_dilated_same_conv():
    row = last(chain((16, 16, 1), layers.Conv2D(1, 3, dilation_rate=2, padding="same")))
    assert (row.rf, row.start, row.padding) == ((5, 5), (0, 0), ((2, 2), (2, 2)))


def test_strided_then_dilated():
    row = last(chain((16, 16, 1), layers.Conv2D(1, 3, strides=2),
                     layers.Conv2D(1, 3, dilation_rate=2)))
    assert (row.output_size, row.jump, row.rf, row.start) == ((3, 3), (2, 2), (11, 11), (5, 5))


def test_k5_s3_same_on_10():
    row = last(chain((10, 10, 1), layers.Conv2D(1, 5, strides=3, padding="same")))
    assert (row.output_size, row.start) == ((4, 4), (0, 0))


def test_maxpool_valid_on_odd_size():
    row = last(chain((7, 7, 1), layers.MaxPooling2D(2)))
    assert (row.output_size, row.jump, row.rf, row.start) == ((3, 3), (2, 2), (2, 2),
                                                              (0.5, 0.5))


def test_non_square_kernels_and_strides():
    row = last(chain((32, 32, 1), layers.Conv2D(1, (3, 5), strides=2),
                     layers.Conv2D(1, (3, 1), strides=2)))
    assert (row.rf, row.jump) == ((7, 5), (4, 4))


def test_aligned_merge():
    inputs = keras.Input((16, 16, 1))
    a = layers.Conv2D(1, 1, strides=4)(inputs)
    b = layers.ZeroPadding2D(((1, 0), (1, 0)))(inputs)
    b = layers.Conv2D(1, 3, strides=2)(b)
    b = layers.Conv2D(1, 1, strides=2)(b)
    merged = layers.Add(name="merge")([a, b])
    row = by_name(keras.Model(inputs, merged))["merge"]
    assert (row.rf, row.jump, row.start, row.effective_padding) == ((3, 3), (4, 4), (0, 0),
                                                                    (1, 1))
    assert row.aligned


def test_misaligned_merge_warns_and_reports_union():
    inputs = keras.Input((16, 16, 1))
    a = layers.Conv2D(1, 1, strides=2)(inputs)
    b = layers.Conv2D(1, 3, padding="same")(inputs)
    b = layers.AveragePooling2D(2)(b)
    merged = layers.Add(name="merge")([a, b])
    model = keras.Model(inputs, merged)
    with pytest.warns(UserWarning, match="different jumps or centres"):
        rows = by_name(model)
    assert rows["merge"].aligned is False
    assert rows["merge"].rf == (4, 4)


def test_transposed_same_stride2_alternates():
    row = last(chain((6, 6, 1), layers.Conv2DTranspose(1, 3, strides=2, padding="same")))
    assert (row.output_size, row.jump, row.rf) == ((12, 12), (0.5, 0.5), (2, 2))
    assert row.rf_pattern == ((2, 1), (2, 1))
    assert not row.uniform and not row.empty_rf


def test_transposed_k4_s2_is_uniform():
    row = last(chain((6, 6, 1), layers.Conv2DTranspose(1, 4, strides=2, padding="same")))
    assert row.rf == (2, 2) and row.uniform


def test_transposed_kernel_smaller_than_stride_leaves_empty_outputs():
    row = last(chain((6, 6, 1), layers.Conv2DTranspose(1, 1, strides=2)))
    assert row.empty_rf and row.rf_pattern == ((1, None), (1, None))
    assert "empty RF at some outputs (kernel < stride)" in row.notes


def test_strided_conv_then_transposed_conv():
    model = chain((16, 16, 1), layers.Conv2D(1, 3, strides=2, padding="same"),
                  layers.Conv2DTranspose(1, 3, strides=2, padding="same"))
    row = last(model)
    assert (row.jump, row.rf, row.uniform) == ((1, 1), (5, 5), False)
    assert row.rf_pattern == ((5, 3), (5, 3))


def test_global_pooling_sees_the_whole_input():
    row = last(chain((16, 16, 1), layers.Conv2D(1, 3), layers.GlobalAveragePooling2D()))
    assert (row.rf, row.start) == ((16, 16), (7.5, 7.5))


def test_cropping_shifts_the_start():
    row = last(chain((16, 16, 1), layers.Conv2D(1, 3), layers.Cropping2D(((2, 0), (0, 0)))))
    assert row.output_size == (12, 14) and row.start[0] == 3


def test_causal_dilated_conv1d():
    row = last(chain((16, 1), layers.Conv1D(1, 3, dilation_rate=2, padding="causal")))
    assert (row.rf, row.start) == ((5,), (-2,))


def test_unknown_spatial_size_keeps_rf_and_jump():
    row = last(chain((None, None, 1), layers.Conv2D(1, 3, strides=2, padding="same"),
                     layers.Conv2D(1, 3)))
    assert (row.rf, row.jump) == ((7, 7), (2, 2))
    assert row.output_size == (None, None) and row.start == (None, None)


def test_unknown_layer_is_refused_with_a_way_out():
    class Mystery(layers.Layer):
        def call(self, x):
            return x

    model = chain((8, 8, 1), Mystery(name="mystery"))
    with pytest.raises(ValueError, match=r"Layer 'mystery' of class Mystery has no "
                                         r"receptive-field geometry.*register_geometry"):
        rf.annotate(model)
    rf.register_geometry(Mystery, rf.pointwise)
    assert last(model).layer == "mystery"


def test_nested_models_are_expanded():
    inner = chain((16, 16, 1), layers.Conv2D(1, 3, name="inner_conv"))
    inputs = keras.Input((16, 16, 1))
    x = inner(inputs)
    x = layers.Conv2D(1, 3, name="outer_conv")(x)
    rows = by_name(keras.Model(inputs, x))
    assert rows[f"{inner.name}/inner_conv"].rf == (3, 3)
    assert rows["outer_conv"].rf == (5, 5)


def test_depthwise_separable_and_grouped_geometry_and_macs():
    model = chain((8, 8, 16), layers.SeparableConv2D(32, 3, use_bias=False, name="sep"),
                  layers.DepthwiseConv2D(3, name="dw"), layers.Conv2D(32, 3, groups=4, name="g"))
    rows = by_name(model)
    assert [rows[n].rf[0] for n in ("sep", "dw", "g")] == [3, 5, 7]
    assert rows["sep"].params == 656
    assert rows["sep"].macs == 6 * 6 * (9 * 16 + 16 * 32)


def test_summary_markdown_has_the_columns():
    model = chain((10, 10, 1), layers.Conv2D(2, 3, name="c1"))
    text = rf.summary(model, format="markdown")
    assert "| Layer (type) | Output | Params | MACs | RF | Jump | Start | Notes |" in text
    assert "| c1 (Conv2D) | (None, 8, 8, 2) | 20 | 1.152K | 3 | 1 | 1 |" in text


def test_an_input_of_no_fixed_size_has_unknown_macs_not_zero():
    """RF and jump do not depend on the input's size; MACs do: '?' and a total that says why."""
    text = rf.summary(chain((None, None, 1), layers.Conv2D(2, 3, name="c1")), format="markdown")
    assert "| c1 (Conv2D) | (None, None, None, 2) | 20 | ? | 3 | 1 | 1 |" in text
    assert "Total MACs: ? (they depend on the input's size" in text


def test_summary_text_prints_a_table(capsys):
    rf.summary(chain((10, 10, 1), layers.Conv2D(2, 3, name="c1")))
    printed = capsys.readouterr().out
    assert printed.startswith('Model: "sequential') and "c1 (Conv2D)" in printed


def test_inception_resnet_v2_is_annotated_in_under_a_second():
    import time

    model = keras.applications.InceptionResNetV2(weights=None)
    started = time.perf_counter()
    rows = rf.annotate(model)
    assert time.perf_counter() - started < 1.0
    assert len(rows) == len(model.layers)


def test_xception_has_a_genuinely_misaligned_merge():
    model = keras.applications.Xception(weights=None)
    with pytest.warns(UserWarning, match="different jumps or centres"):
        rows = rf.annotate(model)
    assert [row.layer for row in rows if not row.aligned] == ["add_1"]


def test_a_users_layer_named_like_a_keras_layer_is_not_taken_for_it():
    class Softmax(keras.layers.Layer):  # the user's own, not keras.layers.Softmax
        def call(self, x):
            return x

    model = keras.Sequential([keras.Input((8, 8, 1)), Softmax()])
    with pytest.raises(ValueError, match="class Softmax has no receptive-field geometry"):
        rf.annotate(model)


def test_registration_is_by_class_and_can_be_seen_and_undone():
    class Mine(keras.layers.Layer):
        def call(self, x):
            return x

    with pytest.raises(TypeError, match="expects a layer class"):
        rf.register_geometry("Mine", rf.pointwise)
    rf.register_geometry(Mine, rf.pointwise)
    rf.register_macs(Mine, lambda layer, input_shape, output_shape: 7)
    assert rf.registered(Mine).geometry is rf.pointwise
    rows = rf.annotate(keras.Sequential([keras.Input((4, 4, 1)), Mine()]))
    assert rows[-1].macs == 7
    rf.unregister(Mine)
    assert rf.registered(Mine) is None


def test_a_layer_class_can_carry_its_own_rule_and_cost():
    class Shuffle(keras.layers.Layer):
        receptive_field_rule = "pointwise"

        def call(self, x):
            return x

        def count_macs(self, input_shape, output_shape):
            return 11

    class Unknown(Shuffle):
        receptive_field_rule = "swirl"

    rows = rf.annotate(keras.Sequential([keras.Input((4, 4, 1)), layers.Conv2D(1, 3),
                                         Shuffle()]))
    assert rows[-1].rf == (3, 3) and rows[-1].macs == 11
    with pytest.raises(ValueError, match="No receptive-field rule named 'swirl'"):
        rf.annotate(keras.Sequential([keras.Input((4, 4, 1)), Unknown()]))


def test_keras_operations_on_tensors_have_geometry():
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(2, 3, padding="same")(inputs)
    outputs = keras.ops.relu(x + inputs)
    rows = rf.annotate(keras.Model(inputs, outputs))
    assert rows[-1].rf == (3, 3)


def test_dilated_stack_grows_the_receptive_field_at_constant_parameters():
    model = chain((32, 32, 1), *[layers.Conv2D(1, 3, dilation_rate=rate) for rate in (1, 2, 4)])
    assert [row.rf[0] for row in rf.annotate(model)[1:]] == [3, 7, 15]


class _Subclassed(keras.Model):
    def call(self, inputs):
        return inputs


@pytest.mark.parametrize("model, error, words", [
    ("vgg16", TypeError, "Expected a keras.Model; received str 'vgg16'"),
    (lambda: keras.Sequential([keras.layers.Conv2D(4, 3)]), ValueError, "no known input shape"),
    (lambda: _Subclassed(), ValueError, "is a subclassed model")])
def test_what_has_no_layer_graph_is_refused_saying_what_to_pass(model, error, words):
    with pytest.raises(error, match=words):
        rf.summary(model() if callable(model) else model)
