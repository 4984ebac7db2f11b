"""GPU speed settings (precision, steps per execution, XLA) work on either backend, keep the
class scores float32, and are recorded in the run's summary."""

import keras
import numpy as np
import pytest

from cnn_course import data, models
from cnn_course.models import recipes, training
from cnn_course.runs import record, training_log
from cnn_course.runs.errors import RunError
from cnn_course.runs.parameters import check_argument
from tests.helpers import fit_tiny_run, tiny_images

pytestmark = pytest.mark.backend  # also run under JAX and the oldest Keras


@pytest.fixture
def mixed_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")
    yield
    keras.config.set_dtype_policy("float32")


def test_float32_run_records_its_speed_settings(tmp_path):
    fit_tiny_run(tmp_path, epochs=1)
    speed = record.read(tmp_path / "tiny-run").speed
    assert speed == {"precision": "float32", "steps_per_execution": 1,
                     "jit_compile": keras.backend.backend() == "jax"}


def test_mixed_bfloat16_run_completes_and_records_it(tmp_path, mixed_bfloat16):
    model = models.quickstart_net(filters=4)
    recipe = recipes.Recipe(batch_size=16, steps_per_execution=4)
    recipe.compile(model, examples=64, epochs=2)
    x, y = tiny_images(64, size=28)
    run = training_log.LoggedRun("bf16", data.Split((x, y), (x, y), dataset="synthetic"), recipe,
                                 tmp_path)
    model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), callbacks=[run], verbose=0)
    written = record.read(tmp_path / "bf16")
    assert written.complete
    assert written.speed["precision"] == "mixed_bfloat16"
    assert written.speed["steps_per_execution"] == 4
    assert np.isfinite(written.results.final_val_loss)
    scores = model.predict(x[:4], verbose=0)
    assert scores.dtype == np.float32  # the class scores stay float32
    assert model.get_layer("conv1").compute_dtype == "bfloat16"


@pytest.mark.parametrize("builder", ["cifar10_separable_net", "cifar10_base_net", "all_cnn_c",
                                     "lenet", "mnist_net"])
def test_every_builder_keeps_float32_class_scores_under_mixed_precision(builder, mixed_bfloat16):
    model = models.build(builder)
    assert model.layers[-1].compute_dtype == "float32"
    assert model.outputs[0].dtype == "float32"


def test_jit_compile_none_is_the_backend_fast_path():
    assert training.backend_jit_compile(None) is (keras.backend.backend() == "jax")
    assert training.backend_jit_compile(True) is True
    assert training.backend_jit_compile(False) is False


@pytest.mark.parametrize("name, value", [("precision", "bfloat16"), ("precision", "fp16"),
                                         ("steps_per_execution", 0)])
def test_bad_speed_setting_is_refused_in_one_line(name, value):
    with pytest.raises(RunError, match=name):
        check_argument(name, value)
