"""Datasets exactly as `keras.datasets.<name>.load_data()` returns them, with an offline story.

Look-up order for the full sets: `data_dir` → `$CNN_COURSE_DATA_DIR/<name>.npz` → the Keras cache
(`$KERAS_HOME/datasets` or `~/.keras/datasets`) → a `keras.datasets` download. A file that is
there but wrong (truncated, bad shapes, dtype, labels or counts) is refused, never returned.

`split(name, validation)` is what a training notebook fits and validates on: the training set and
the test set (`"test"`, the course's convention), or the training set less a held-out part and
that part (`"holdout"`: the last tenth of each class's training images, never trained on), so a
recipe can be chosen without looking at the test set.

`load(name, sample=True)` returns a small real sample shipped inside the package (800 training
and 200 test images, stratified, drawn from the real sets by `scripts/make_samples.py`): for
demos, notebooks' CI parameters and tests. Accuracy claims never come from it.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "CNN_COURSE_DATA_DIR"
KEYS = ("x_train", "y_train", "x_test", "y_test")
SAMPLES_DIR = Path(__file__).parent / "samples"


@dataclass(frozen=True)
class DatasetSpec:
    """What a valid copy of a dataset looks like."""

    name: str
    image_shape: tuple[int, ...]
    label_shape: tuple[int, ...]  # per example: () for MNIST, (1,) for CIFAR-10
    train_count: int
    test_count: int
    sample_train_count: int
    sample_test_count: int
    class_names: tuple[str, ...]
    title: str  # how the README and plots name it

    def shapes(self, sample: bool) -> dict[str, tuple[int, ...]]:
        train = self.sample_train_count if sample else self.train_count
        test = self.sample_test_count if sample else self.test_count
        return {
            "x_train": (train, *self.image_shape),
            "y_train": (train, *self.label_shape),
            "x_test": (test, *self.image_shape),
            "y_test": (test, *self.label_shape),
        }


DIGITS = tuple(str(digit) for digit in range(10))
CLOTHES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
SPECS = {
    "mnist": DatasetSpec("mnist", (28, 28), (), 60000, 10000, 800, 200, DIGITS, "MNIST"),
    "fashion_mnist": DatasetSpec("fashion_mnist", (28, 28), (), 60000, 10000, 800, 200, CLOTHES,
                                 "Fashion-MNIST"),
    "cifar10": DatasetSpec("cifar10", (32, 32, 3), (1,), 50000, 10000, 800, 200, CIFAR10_CLASSES,
                           "CIFAR-10"),
}

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

# The validation sets a training run may use: the test set (the course's convention: its
# "validation accuracy" is a test accuracy), or a part held out from the training set (to choose
# a recipe honestly: the test set is then never seen).
VALIDATION_SETS = ("test", "holdout")
HOLDOUT_FRACTION = 0.1  # CIFAR-10: 5,000 of 50,000 (500 per class); the samples: 80 of 800


class DatasetNotFoundError(FileNotFoundError):
    """The dataset is in none of the places looked and could not be downloaded."""


class DatasetFormatError(ValueError):
    """A dataset file exists but does not hold what `load_data()` would return."""


def spec(name: str) -> DatasetSpec:
    """The spec of a dataset by name, with a clear error for an unknown name."""
    if name not in SPECS:
        raise ValueError(
            f"Unknown dataset name: {name!r}. Expected one of {sorted(SPECS)}."
        )
    return SPECS[name]


def check_fits(name: object, like: str) -> None:
    """Refuses a dataset whose images are not the shape of `like`'s: a notebook's model is
    built for the images of its default dataset."""
    shape = spec(like).image_shape
    fitting = sorted(other for other, item in SPECS.items() if item.image_shape == shape)
    if name not in fitting:
        raise ValueError(f"{name!r} is not a dataset of {'x'.join(map(str, shape))} images like "
                         f"{like!r}, which the notebook's model takes; choose one of {fitting}.")


def title(name: str) -> str:
    """How a dataset is named in the README and plots ('CIFAR-10'); an unknown name as is."""
    return SPECS[name].title if name in SPECS else name


def class_names(name: str) -> tuple[str, ...]:
    """Human-readable class names, index = label."""
    return spec(name).class_names


def file_name(name: str) -> str:
    """The file name this package looks for: `<name>.npz`."""
    return f"{spec(name).name}.npz"


def keras_cache_dir() -> Path:
    """Where Keras caches downloads: `$KERAS_HOME/datasets`, else `~/.keras/datasets`."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "datasets"


def candidate_paths(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The files looked at, in order, before falling back to a download."""
    paths = []
    if data_dir is not None:
        paths.append(Path(data_dir).expanduser() / file_name(name))
    if os.environ.get(ENV_VAR):
        paths.append(Path(os.environ[ENV_VAR]).expanduser() / file_name(name))
    paths.append(keras_cache_dir() / file_name(name))
    return paths


def sample_path(name: str) -> Path:
    """The embedded sample file of a dataset."""
    return SAMPLES_DIR / file_name(name)


def validate(arrays: dict[str, np.ndarray], name: str, sample: bool, source: str) -> Arrays:
    """Checks keys, dtype, shapes, counts and labels; returns the `load_data()` tuple.

    Raises:
        DatasetFormatError: naming the file, what is wrong, and how to get a good copy.
    """
    dataset = spec(name)
    remedy = (
        f"Delete it and rebuild it (on the course machines: `../shared/bin/get-datasets DIR "
        f"{name}`), or point {ENV_VAR} at a folder holding a good `{file_name(name)}`."
    )
    missing = [key for key in KEYS if key not in arrays]
    if missing:
        raise DatasetFormatError(
            f"Dataset file {source} lacks the arrays {missing}; a `{file_name(name)}` must hold "
            f"{list(KEYS)} as `keras.datasets.{name}.load_data()` returns them. {remedy}"
        )
    expected = dataset.shapes(sample)
    for key in KEYS:
        array = arrays[key]
        if key.startswith("x") and array.dtype != np.uint8:
            raise DatasetFormatError(
                f"Dataset file {source}: `{key}` has dtype {array.dtype}, expected uint8 "
                f"(raw pixels 0-255). {remedy}"
            )
        if key.startswith("y") and not np.issubdtype(array.dtype, np.integer):
            raise DatasetFormatError(
                f"Dataset file {source}: `{key}` has dtype {array.dtype}, expected integer "
                f"class labels. {remedy}"
            )
        if tuple(array.shape) != expected[key]:
            raise DatasetFormatError(
                f"Dataset file {source}: `{key}` has shape {tuple(array.shape)}, expected "
                f"{expected[key]}. The file may be truncated or belong to another dataset. "
                f"{remedy}"
            )
        if key.startswith("y") and array.size and (array.min() < 0 or array.max() >= 10):
            raise DatasetFormatError(
                f"Dataset file {source}: `{key}` holds labels from {array.min()} to "
                f"{array.max()}, expected 0 to 9. {remedy}"
            )
    return (
        (arrays["x_train"], arrays["y_train"].astype(np.uint8)),
        (arrays["x_test"], arrays["y_test"].astype(np.uint8)),
    )


def read_npz(path: Path, name: str, sample: bool) -> Arrays:
    """Reads and validates one `.npz` file (a zip: anything else is refused before NumPy, whose
    message for a pickle suggests loading it unsafely)."""
    try:
        if not zipfile.is_zipfile(path):
            raise ValueError("not a zip archive")
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetFormatError(
            f"Dataset file {path} could not be read as a NumPy .npz archive ({error}). It may "
            f"be truncated. Delete it and rebuild it, or point {ENV_VAR} at a good copy."
        ) from error
    return validate(arrays, name, sample, str(path))


def download(name: str) -> Arrays:
    """`keras.datasets.<name>.load_data()`: uses Keras' own cache, else downloads."""
    import keras

    return getattr(keras.datasets, name).load_data()


def load(
    name: str,
    *,
    sample: bool = False,
    data_dir: str | os.PathLike | None = None,
    allow_download: bool = True,
) -> Arrays:
    """Returns `((x_train, y_train), (x_test, y_test))` as `keras.datasets` does (uint8).

    Args:
        name: "mnist", "fashion_mnist" or "cifar10".
        sample: the small embedded sample instead of the full set.
        data_dir: a folder holding `<name>.npz`, looked at first.
        allow_download: whether to fall back to a `keras.datasets` download.

    Raises:
        DatasetNotFoundError: the full set is nowhere and cannot be downloaded.
        DatasetFormatError: a file was found but is not a valid copy.
    """
    spec(name)
    if not isinstance(sample, (bool, np.bool_)):  # "False" is a true string
        raise ValueError(f"sample is True (the embedded sample) or False (the full set); "
                         f"received sample={sample!r}.")
    if sample:
        return read_npz(sample_path(name), name, sample=True)
    looked = candidate_paths(name, data_dir)
    for path in looked:
        if path.is_file():
            return read_npz(path, name, sample=False)
    download_error = "downloads disabled (allow_download=False)"
    if allow_download:
        try:
            result = download(name)
        except Exception as error:  # noqa: BLE001 - any failure means "not available"
            download_error = f"{type(error).__name__}: {error}"
        else:
            arrays = dict(zip(KEYS, (*result[0], *result[1])))
            return validate(arrays, name, False, f"keras.datasets.{name}")
    places = "\n".join(f"  - {path}" for path in looked)
    env_state = os.environ.get(ENV_VAR, "not set")
    raise DatasetNotFoundError(
        f"Dataset {name!r} was not found. Looked for `{file_name(name)}` in:\n{places}\n"
        f"  - keras.datasets.{name}.load_data(): {download_error}\n"
        f"Put a `{file_name(name)}` holding the uint8 arrays {list(KEYS)} (the layout of "
        f"`keras.datasets.{name}.load_data()`) in a folder and set {ENV_VAR} to it "
        f"({ENV_VAR} is {env_state}). On the course machines: "
        f"`../shared/bin/get-datasets ~/data && export {ENV_VAR}=~/data`. "
        f"For a quick try without the full set, use the embedded sample: `-p sample True` with "
        f"`cnn-course run`, or `load({name!r}, sample=True)` in Python."
    )


def holdout_indices(labels: np.ndarray, count: int) -> np.ndarray:
    """Indices (ascending) of the last `count // classes` images of each class.

    Stratified and deterministic: the same images for every seed, every backend and every
    machine, so a holdout run can be re-evaluated (`cnn-course verify`) on exactly what it
    validated on.
    """
    labels = np.asarray(labels).reshape(-1)
    classes = np.unique(labels)
    per_class = count // len(classes)
    if per_class < 1:
        raise ValueError(
            f"A holdout of {count} images cannot hold one image of each of the {len(classes)} "
            f"classes; use a larger holdout."
        )
    chosen = []
    for label in classes:
        members = np.flatnonzero(labels == label)
        if len(members) <= per_class:
            raise ValueError(
                f"Class {label} has {len(members)} training images; a holdout of {per_class} "
                f"per class would leave none to train on."
            )
        chosen.append(members[-per_class:])
    return np.sort(np.concatenate(chosen))


def holdout_size(name: str, sample: bool = False) -> int:
    """How many training images `split(name, "holdout")` holds out (a multiple of the classes)."""
    dataset = spec(name)
    train = dataset.sample_train_count if sample else dataset.train_count
    classes = len(dataset.class_names)
    return int(train * HOLDOUT_FRACTION) // classes * classes


def check_validation(validation: object) -> str:
    """`validation` itself, or one ValueError saying what it may be."""
    if validation not in VALIDATION_SETS:
        raise ValueError(
            f"validation must be one of {list(VALIDATION_SETS)}: \"test\" validates on the test "
            f"set (the course's convention), \"holdout\" on {HOLDOUT_FRACTION:.0%} of the "
            f"training images held out (to choose a recipe); received {validation!r}."
        )
    return validation


class Split(tuple):
    """`((x_train, y_train), (x_val, y_val))` that also says what it is (a logged run records
    it from here): the dataset, the validation set ("test" or "holdout") and whether it is the
    embedded sample. It unpacks as the plain pair does."""

    def __new__(cls, train, validation_pair, *, dataset: str, validation: str = "test",
                sample: bool = False):
        split = super().__new__(cls, (tuple(train), tuple(validation_pair)))
        split.dataset, split.validation, split.sample = dataset, validation, bool(sample)
        return split

    def __getnewargs_ex__(self):  # pickles (Dask, multiprocessing) with what it says
        return (self[0], self[1]), {"dataset": self.dataset, "validation": self.validation,
                                    "sample": self.sample}


def split(
    name: str,
    validation: str = "test",
    *,
    sample: bool = False,
    data_dir: str | os.PathLike | None = None,
    allow_download: bool = True,
) -> Split:
    """`((x_train, y_train), (x_val, y_val))`: what a run trains on and what it validates on,
    as a `Split` that says so.

    `validation="test"`: exactly `load(name)` (the validation set is the test set).
    `validation="holdout"`: the training set less `holdout_size(name)` images (the last of each
    class, see `holdout_indices`), and those images; the test set is not returned at all, so
    nothing chosen with it can have seen the test set.
    """
    check_validation(validation)
    (x_train, y_train), test = load(name, sample=sample, data_dir=data_dir,
                                    allow_download=allow_download)
    if validation == "test":
        return Split((x_train, y_train), test, dataset=name, sample=sample)
    held = holdout_indices(y_train, holdout_size(name, sample))
    keep = np.ones(len(x_train), dtype=bool)
    keep[held] = False
    return Split((x_train[keep], y_train[keep]), (x_train[held], y_train[held]), dataset=name,
                 validation=validation, sample=sample)
