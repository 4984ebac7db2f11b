import keras
import numpy as np
import pytest
from keras import layers

from cnn_course import models
from cnn_course.models import recipes, training
from cnn_course.models.inputs import check_model_input

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras

ASSIGNMENT_NETS = [(models.mnist_net, 20_000), (models.mnist_net_tiny, 8_000)]


def conv_layers(model):
    return [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]


@pytest.mark.parametrize("builder, limit", ASSIGNMENT_NETS)
def test_mnist_nets_stay_under_their_parameter_budget(builder, limit):
    assert builder().count_params() < limit
    # augmentation adds no parameters
    assert builder(augmentation=recipes.MNIST.augmentation()).count_params() < limit


@pytest.mark.parametrize("builder, limit", ASSIGNMENT_NETS)
def test_mnist_nets_follow_the_course_rules(builder, limit):
    model = builder()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert "Flatten" not in kinds and "Dense" not in kinds
    assert all(not layer.use_bias for layer in conv_layers(model))
    assert "BatchNormalization" in kinds and "Dropout" in kinds
    assert kinds[-2:] == ["GlobalAveragePooling2D", "Activation"]
    pool = kinds.index("MaxPooling2D")
    transition = model.layers[pool + 1]
    assert isinstance(transition, layers.Conv2D) and transition.kernel_size == (1, 1)
    assert len(conv_layers(model)[conv_layers(model).index(transition) + 1:]) >= 4


@pytest.mark.parametrize("builder", [models.quickstart_net, models.mnist_net,
                                     models.mnist_net_tiny])
def test_mnist_models_take_raw_uint8_images(builder):
    model = builder()
    assert tuple(model.inputs[0].shape) == (None, 28, 28)
    assert model.inputs[0].dtype == "uint8"
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_builder_widths_are_keyword_arguments():
    wide = models.mnist_net(block1=(8, 16), transition=8, block2=(8, 8, 8, 8), dropout=0.0)
    assert wide.count_params() < models.mnist_net().count_params()
    assert not [layer for layer in wide.layers if isinstance(layer, layers.Dropout)]


def test_scaled_float_images_are_refused():
    model = models.quickstart_net()
    images = np.random.default_rng(0).random((2, 28, 28)).astype("float32")
    with pytest.raises(ValueError, match="takes raw uint8 images .* Pass the images unscaled"):
        check_model_input(model, images)


def test_predicting_classes_of_scaled_images_is_refused_not_answered_from_black_images():
    """A uint8 input casts [0, 1] floats to 0: every prediction would be the same guess."""
    from cnn_course.concepts import evaluation

    images = np.random.default_rng(0).random((2, 28, 28)).astype("float32")
    with pytest.raises(ValueError, match="takes raw uint8 images"):
        evaluation.predict_classes(models.quickstart_net(), images)


def test_wrong_image_shape_is_refused_with_the_expected_shape():
    model = models.quickstart_net()
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 28, 28\); received x of "
                                         r"shape \(2, 28, 28, 1\)"):
        check_model_input(model, np.zeros((2, 28, 28, 1), np.uint8))


def test_build_by_name_and_unknown_name():
    assert models.build("mnist_net_tiny").name == "mnist_net_tiny"
    with pytest.raises(ValueError, match="Unknown model name: 'mnist'"):
        models.build("mnist")


def test_cifar10_base_net_is_a_faithful_port():
    model = models.cifar10_base_net()
    assert model.count_params() == 1_172_410
    kinds = [type(layer).__name__ for layer in model.layers[2:]]
    block = ["Conv2D", "Conv2D", "MaxPooling2D", "Dropout"]
    assert kinds == block * 3 + ["Flatten", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    convs = conv_layers(model)
    assert [layer.filters for layer in convs] == [48, 48, 96, 96, 192, 192]
    assert all(layer.kernel_size == (3, 3) and layer.strides == (1, 1) for layer in convs)
    assert [layer.padding for layer in convs] == ["same", "valid"] * 3
    assert [layer.rate for layer in model.layers if isinstance(layer, layers.Dropout)] == [
        0.25, 0.25, 0.25, 0.5, 0.5]
    assert tuple(model.inputs[0].shape) == (None, 32, 32, 3)


def test_epoch_batches_match_the_course_generator():
    batches = training.EpochBatches(np.zeros((50_000, 1), np.uint8),
                                    np.zeros((50_000, 1), np.uint8), 128)
    assert len(batches) == 390  # floor(50000 / 128), the course generator's steps
    x, y = batches[389]
    assert x.shape == (128, 1) and y.shape == (128, 1)


def test_epoch_batches_reshuffle_every_epoch_without_repeats():
    x = np.arange(10).reshape(10, 1)
    batches = training.EpochBatches(x, x, 3, seed=1)
    first = np.concatenate([batches[i][0] for i in range(len(batches))]).ravel()
    batches.on_epoch_end()
    second = np.concatenate([batches[i][0] for i in range(len(batches))]).ravel()
    assert len(set(first)) == 9 and len(set(second)) == 9
    assert not np.array_equal(first, second)


def test_one_cycle_rises_then_anneals():
    from cnn_course.models.schedules import one_cycle

    schedule = one_cycle(0.1, total_steps=100, warmup_fraction=0.2)
    rates = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 20, 60, 100)]
    assert rates[0] == pytest.approx(0.004) and rates[1] == pytest.approx(0.1)
    assert rates[1] > rates[2] > rates[3] == pytest.approx(1e-4)


def test_a_model_trained_with_the_recipe_loads_with_plain_keras(tmp_path):
    """No custom object in the saved optimizer: the .keras file loads without cnn_course."""
    import subprocess
    import sys

    model = models.quickstart_net(filters=4)
    recipes.MNIST.compile(model, examples=256, epochs=2)
    model.save(tmp_path / "model.keras")
    code = ("import keras; m = keras.saving.load_model(r'%s'); print(type(m.optimizer).__name__)"
            % (tmp_path / "model.keras"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("SGD")


def all_layers(model):
    """Every layer at any depth (nested models and wrappers included)."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def test_cifar10_student_uses_depthwise_separable_convolutions_only():
    model = models.cifar10_separable_net(augmentation=keras.Sequential(
        [layers.RandomFlip("horizontal")], name="augmentation"))
    found = list(all_layers(model))
    assert not [layer for layer in found if isinstance(layer, (layers.Conv2D, layers.Dense))]
    assert any(isinstance(layer, layers.SeparableConv2D) for layer in found)
    assert any(isinstance(layer, layers.BatchNormalization) for layer in found)
    assert any(isinstance(layer, layers.Dropout) for layer in found)
    assert model.count_params() < 100_000
    assert tuple(model.inputs[0].shape) == (None, 32, 32, 3) and model.inputs[0].dtype == "uint8"


def test_cifar10_student_sees_the_whole_image_before_pooling():
    from cnn_course import receptive_field as rf

    rows = rf.annotate(models.cifar10_separable_net())
    before_pooling = [row for row in rows if row.kind == "SeparableConv2D"][-1]
    assert before_pooling.rf[0] >= 32


def test_cifar10_student_depths_must_match_widths():
    with pytest.raises(ValueError, match="one entry per stage"):
        models.cifar10_separable_net(widths=(32, 64), depths=(1, 2, 3))


def test_label_smoothing_is_categorical_crossentropy_on_smoothed_one_hot_targets():
    labels = np.array([[2], [0]])
    scores = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype="float32")
    smoothed = training.classifier_loss(label_smoothing=0.3)
    targets = 0.7 * np.eye(3)[labels[:, 0]] + 0.1
    expected = -(targets * np.log(scores)).sum(axis=1).mean()
    assert float(smoothed(labels, scores)) == pytest.approx(expected, rel=1e-5)
    assert training.classifier_loss(0.0) == "sparse_categorical_crossentropy"
    restored = keras.losses.deserialize(keras.losses.serialize(smoothed))
    assert restored.label_smoothing == 0.3


def test_label_smoothing_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\); received"):
        training.classifier_loss(label_smoothing=1.0)


def test_residual_student_adds_shortcuts_without_parameters_and_keeps_the_rules():
    plain = models.cifar10_separable_net()
    residual = models.cifar10_separable_net(residual=True)
    assert residual.count_params() == plain.count_params() == 93_885
    adds = [layer.name for layer in residual.layers if isinstance(layer, keras.layers.Add)]
    assert adds == ["stage2_2_add", "stage2_3_add", "stage3_2_add", "stage3_3_add"]
    assert not any(isinstance(layer, keras.layers.Conv2D) and
                   not isinstance(layer, keras.layers.SeparableConv2D)
                   for layer in residual.layers)


def test_decay_norm_false_decays_kernels_but_not_batchnorm_or_biases():
    model = models.cifar10_separable_net()
    recipe = recipes.Recipe(weight_decay=0.1, decay_norm=False)
    optimizer = recipe.build_optimizer(steps_per_epoch=1, epochs=10)
    before = {variable.path: keras.ops.convert_to_numpy(variable).copy()
              for variable in model.trainable_variables}
    optimizer.apply_gradients([(keras.ops.zeros(variable.shape), variable)
                               for variable in model.trainable_variables])
    for variable in model.trainable_variables:
        changed = not np.allclose(keras.ops.convert_to_numpy(variable), before[variable.path])
        decayed = not variable.path.endswith(("gamma", "beta", "bias"))
        assert changed == decayed, variable.path
