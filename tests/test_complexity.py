import keras
import pytest

from cnn_course import complexity, models, receptive_field

pytestmark = pytest.mark.keras_version  # also run on the oldest Keras


@pytest.fixture(scope="module")
def lecture_models():
    return complexity.lecture_models()


def test_layer_costs_split_weights_biases_and_normalization():
    costs = {cost.layer: cost for cost in complexity.layer_costs(models.build("lenet_bn"))}
    assert (costs["conv1"].weights, costs["conv1"].biases) == (150, 6)
    assert costs["conv1_bn"].normalization == 24 and costs["conv1_bn"].weights == 0
    assert costs["conv1"].macs == 28 * 28 * 150 and costs["conv1"].flops == 2 * 28 * 28 * 150
    assert costs["dense1"].macs == 400 * 120


def test_totals_equal_keras_parameter_count():
    model = models.build("resnet18")
    total = complexity.totals(complexity.layer_costs(model))
    assert total.params == model.count_params()


def test_macs_agree_with_the_receptive_field_summary():
    model = models.build("googlenet")
    rows = receptive_field.annotate(model)
    costs = complexity.layer_costs(model)
    assert [cost.macs for cost in costs] == [row.macs for row in rows]
    assert sum(cost.macs for cost in costs) > 0


def test_table_lists_layers_and_total():
    text = complexity.table(models.build("lenet"))
    assert text.splitlines()[0].split()[:3] == ["layer", "output", "weights"]
    assert "pool1" not in text  # free layers are left out
    assert text.splitlines()[-1].split()[:2] == ["total", "61,470"]
    markdown = complexity.table(models.build("lenet"), format="markdown")
    assert markdown.startswith("| layer | output |")


def test_costs_of_a_model_of_no_fixed_size_are_refused_in_words():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c1")(inputs), name="any_size")
    with pytest.raises(ValueError, match="'c1' of model 'any_size' has no fixed size"):
        complexity.table(model)


def test_table_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="Unknown format 'html'"):
        complexity.table(models.build("lenet"), format="html")


def test_grouped_refuses_unknown_layers():
    costs = complexity.layer_costs(models.build("lenet"))
    with pytest.raises(ValueError, match=r"Group 'Conv3-5' names layers .* \['conv3'\]"):
        complexity.grouped(costs, {"Conv3-5": ["conv3"]})


@pytest.mark.parametrize("computed, quoted, expected", [
    (34_848, "35K", True),          # rounded
    (16_777_216, "16M", True),      # truncated
    (1_005_849_728, "1G", True),
    (150, "150", True),
    (48_000, "0.48M", False),       # ten times off
    (3_096_576, "3M", True),
    (3_096_576, "4M", False),
])
def test_agrees_reads_a_quote_to_its_precision(computed, quoted, expected):
    assert complexity.agrees(computed, quoted) is expected


def test_alexnet_column_of_the_lecture_reproduces(lecture_models):
    comparison = complexity.lecture_comparison("alexnet_vs_lenet", lecture_models)
    alexnet = [item for item in comparison if item.network == "alexnet"]
    assert len(alexnet) == 12 and all(item.agrees for item in alexnet)
    totals = {item.quantity: item.computed for item in alexnet if item.row == "Total"}
    assert totals == {"params": 46_737_440, "FLOP": 1_005_849_728}


def test_lenet_column_reproduces_only_its_conv_weights(lecture_models):
    comparison = complexity.lecture_comparison("alexnet_vs_lenet", lecture_models)
    agreeing = {(item.row, item.quantity) for item in comparison
                if item.network == "lenet" and item.agrees}
    assert agreeing == {("Conv1", "params"), ("Conv2", "params")}
    for item in comparison:  # every other LeNet number is ten times d2l's LeNet
        if item.network == "lenet" and item.row in ("Conv1", "Conv2", "Dense1", "Dense2") \
                and (item.row, item.quantity) not in agreeing:
            value, _ = complexity.parse_quoted(item.quoted)
            assert 9.5 < value / item.computed < 10.5


def test_inception_table_of_the_lecture_reproduces(lecture_models):
    comparison = complexity.lecture_comparison("inception_vs_single_conv", lecture_models)
    assert all(item.agrees for item in comparison)
    computed = {(item.network, item.quantity): item.computed for item in comparison}
    assert computed[("inception", "params")] == 163_328
    assert computed[("conv5x5", "FLOP")] == 963_379_200


def test_lecture_comparison_refuses_an_unknown_table():
    with pytest.raises(ValueError, match="Unknown lecture table 'vgg'"):
        complexity.lecture_comparison("vgg")


def test_shared_layer_costs_macs_per_call_and_params_once():
    inputs = keras.Input((8, 8, 4))
    shared = keras.layers.Conv2D(4, 3, padding="same", name="shared")
    model = keras.Model(inputs, shared(shared(inputs)))
    costs = complexity.layer_costs(model)
    total = complexity.totals(costs)
    assert total.params == model.count_params() == 3 * 3 * 4 * 4 + 4
    assert total.macs == 2 * 8 * 8 * 3 * 3 * 4 * 4


def test_a_table_of_a_model_name_says_to_build_the_model():
    with pytest.raises(TypeError, match="Expected a keras.Model; received str 'mnist_net'"):
        complexity.table("mnist_net")
