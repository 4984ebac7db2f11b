import dataclasses
import urllib.error

import numpy as np
import pytest

from cnn_course import data


@pytest.fixture
def small_mnist_spec(monkeypatch):
    """Shrinks the full-set counts so tests can write 'full' files of a few images."""
    small = dataclasses.replace(data.SPECS["mnist"], train_count=20, test_count=10)
    monkeypatch.setitem(data.SPECS, "mnist", small)
    return small


@pytest.fixture
def no_download(monkeypatch):
    def refuse(name):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(data, "download", refuse)


@pytest.fixture
def clean_places(monkeypatch, tmp_path):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def write_mnist(path, train=20, test=10, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (train, 28, 28)).astype(np.uint8),
        "y_train": (np.arange(train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (test, 28, 28)).astype(np.uint8),
        "y_test": (np.arange(test) % 10).astype(np.uint8),
    }
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


@pytest.mark.parametrize(
    "name, image_shape, label_shape",
    [("mnist", (28, 28), ()), ("fashion_mnist", (28, 28), ()), ("cifar10", (32, 32, 3), (1,))],
)
def test_sample_has_keras_layout(name, image_shape, label_shape):
    (x_train, y_train), (x_test, y_test) = data.load(name, sample=True)
    assert x_train.shape == (800, *image_shape) and x_test.shape == (200, *image_shape)
    assert y_train.shape == (800, *label_shape) and y_test.shape == (200, *label_shape)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_test.reshape(-1)).tolist() == [20] * 10


@pytest.mark.parametrize("sample", ["False", 1, None])
def test_a_sample_that_is_not_true_or_false_is_refused(sample):
    with pytest.raises(ValueError, match=f"sample is True .* or False .*; received sample="):
        data.split("mnist", sample=sample)


def test_unknown_dataset_name_is_refused():
    with pytest.raises(ValueError, match="Unknown dataset name: 'mnits'"):
        data.load("mnits")


def test_data_dir_is_looked_at_first(tmp_path, monkeypatch, small_mnist_spec, no_download):
    written = write_mnist(tmp_path / "first" / "mnist.npz")
    write_mnist(tmp_path / "env" / "mnist.npz", x_train=np.zeros((20, 28, 28), np.uint8))
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env"))
    (x_train, _), _ = data.load("mnist", data_dir=tmp_path / "first")
    np.testing.assert_array_equal(x_train, written["x_train"])


def test_env_var_folder_is_used(tmp_path, monkeypatch, small_mnist_spec, no_download):
    written = write_mnist(tmp_path / "mnist.npz")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    (_, _), (x_test, y_test) = data.load("mnist")
    np.testing.assert_array_equal(x_test, written["x_test"])
    assert y_test.dtype == np.uint8


def test_keras_cache_honours_keras_home(tmp_path, monkeypatch, clean_places, small_mnist_spec,
                                        no_download):
    write_mnist(tmp_path / "keras_home" / "datasets" / "mnist.npz")
    (x_train, _), _ = data.load("mnist")
    assert x_train.shape == (20, 28, 28)


def test_offline_error_names_every_place_and_the_fix(tmp_path, clean_places, no_download):
    with pytest.raises(data.DatasetNotFoundError) as caught:
        data.load("cifar10", data_dir=tmp_path / "mine")
    message = str(caught.value)
    assert "'cifar10'" in message
    assert str(tmp_path / "mine" / "cifar10.npz") in message
    assert str(tmp_path / "keras_home" / "datasets" / "cifar10.npz") in message
    assert "keras.datasets.cifar10.load_data()" in message and "URLError" in message
    assert "CNN_COURSE_DATA_DIR" in message
    assert "['x_train', 'y_train', 'x_test', 'y_test']" in message


def test_no_download_when_not_allowed(clean_places, monkeypatch):
    monkeypatch.setattr(data, "download", lambda name: pytest.fail("download attempted"))
    with pytest.raises(data.DatasetNotFoundError, match="downloads disabled"):
        data.load("mnist", allow_download=False)


def test_truncated_file_is_refused(tmp_path, small_mnist_spec):
    path = tmp_path / "mnist.npz"
    write_mnist(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(data.DatasetFormatError, match="could not be read.*truncated"):
        data.load("mnist", data_dir=tmp_path)


def test_wrong_counts_are_refused(tmp_path, small_mnist_spec):
    write_mnist(tmp_path / "mnist.npz", train=19)
    with pytest.raises(data.DatasetFormatError, match=r"`x_train` has shape \(19, 28, 28\), "
                                                      r"expected \(20, 28, 28\)"):
        data.load("mnist", data_dir=tmp_path)


def test_float_images_are_refused(tmp_path, small_mnist_spec):
    write_mnist(tmp_path / "mnist.npz", x_test=np.zeros((10, 28, 28), np.float32))
    with pytest.raises(data.DatasetFormatError, match="`x_test` has dtype float32, expected uint8"):
        data.load("mnist", data_dir=tmp_path)


def test_labels_out_of_range_are_refused(tmp_path, small_mnist_spec):
    write_mnist(tmp_path / "mnist.npz", y_train=np.full(20, 10, np.int64))
    with pytest.raises(data.DatasetFormatError, match="labels from 10 to 10, expected 0 to 9"):
        data.load("mnist", data_dir=tmp_path)


def test_missing_array_is_refused(tmp_path, small_mnist_spec):
    write_mnist(tmp_path / "mnist.npz", y_test=None)
    with pytest.raises(data.DatasetFormatError, match=r"lacks the arrays \['y_test'\]"):
        data.load("mnist", data_dir=tmp_path)


def test_integer_labels_are_returned_as_uint8(tmp_path, small_mnist_spec):
    write_mnist(tmp_path / "mnist.npz", y_train=(np.arange(20) % 10).astype(np.int64))
    (_, y_train), _ = data.load("mnist", data_dir=tmp_path)
    assert y_train.dtype == np.uint8


def test_downloaded_arrays_are_validated(clean_places, monkeypatch):
    bad = np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8)
    monkeypatch.setattr(data, "download", lambda name: (bad, bad))
    with pytest.raises(data.DatasetFormatError, match="keras.datasets.mnist"):
        data.load("mnist")


# --- the held-out validation split ---

def test_holdout_is_the_last_tenth_of_each_class_and_never_trained_on():
    (x_train, y_train), _ = data.load("cifar10", sample=True)
    (x_fit, y_fit), (x_val, y_val) = data.split("cifar10", "holdout", sample=True)
    assert len(x_val) == data.holdout_size("cifar10", sample=True) == 80
    assert len(x_fit) + len(x_val) == len(x_train)
    assert np.bincount(y_val.reshape(-1), minlength=10).tolist() == [8] * 10
    held = data.holdout_indices(y_train, 80)
    for label in range(10):
        members = np.flatnonzero(y_train.reshape(-1) == label)
        assert set(members[-8:]) <= set(held) and not set(members[:-8]) & set(held)
    fit_rows = {row.tobytes() for row in x_fit.reshape(len(x_fit), -1)}
    assert not any(row.tobytes() in fit_rows for row in x_val.reshape(len(x_val), -1))


def test_holdout_is_the_same_images_every_time():
    first = data.split("mnist", "holdout", sample=True)[1][0]
    second = data.split("mnist", "holdout", sample=True)[1][0]
    assert np.array_equal(first, second)


def test_test_validation_is_the_test_set():
    assert all(np.array_equal(a, b) for a, b in zip(
        data.split("mnist", "test", sample=True)[1], data.load("mnist", sample=True)[1]))


def test_full_cifar10_holds_out_5000_images():
    assert data.holdout_size("cifar10") == 5000


def test_unknown_validation_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"validation must be one of \['test', 'holdout'\]"):
        data.split("mnist", "holdot", sample=True)


def test_holdout_too_small_for_one_image_per_class_is_refused():
    with pytest.raises(ValueError, match="one image of each"):
        data.holdout_indices(np.arange(10), 5)


def test_a_pickle_named_npz_is_refused_without_advice_to_load_it_unsafely(tmp_path):
    import pickle

    (tmp_path / "mnist.npz").write_bytes(pickle.dumps({"x_train": [1]}))
    with pytest.raises(data.DatasetFormatError,
                       match=r"\.npz archive \(not a zip archive\)") as caught:
        data.load("mnist", data_dir=tmp_path)
    assert "allow_pickle" not in str(caught.value)
