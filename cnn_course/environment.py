"""What a run executes on: backend, device, library versions, Colab, git commit.

Every notebook's first cell calls `setup(seed)`, and every logged run records `describe()`, so a
result can always be traced to the software and hardware that produced it.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cnn_course import project_metadata

@contextmanager
def stderr_to(path: str | os.PathLike) -> Iterator[None]:
    """Points this process's file descriptor 2 at `path` for the block (children, such as a
    notebook's kernel, inherit it), and back afterwards. TensorFlow's C++ start-up lines ignore
    TF_CPP_MIN_LOG_LEVEL (tensorflow#100442): a command that imports Keras only to check an
    argument sends them to `os.devnull` (`native_stderr_silenced`), the runner to a log file."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "w", encoding="utf-8") as target:
        os.dup2(target.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def native_stderr_silenced():
    """`stderr_to(os.devnull)`: TensorFlow's start-up lines kept out of a one-line answer."""
    return stderr_to(os.devnull)


# TensorFlow's CPU settings that must be in the environment before TensorFlow is imported.
# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX-512 VNNI/BF16 or AMX;
# with them the student trains 1.3x (AVX2 only) to 1.6x (AVX-512) faster than on TensorFlow's
# own kernels (docs/speed.md). They change CPU kernels only, never a GPU's.
FAST_CPU_ENVIRONMENT = {"TF_ENABLE_ONEDNN_OPTS": "1"}


def fast_cpu_environment() -> dict[str, str]:
    """`FAST_CPU_ENVIRONMENT` where this process's environment does not set a value (a value
    the user set wins): what a kernel started from here should receive."""
    return {name: os.environ.get(name, value) for name, value in FAST_CPU_ENVIRONMENT.items()}


def use_fast_cpu_kernels() -> dict[str, str]:
    """Puts `fast_cpu_environment()` into this process's environment for the TensorFlow it
    imports next (a TensorFlow already imported keeps its own). Returns the values in force."""
    values = fast_cpu_environment()
    os.environ.update(values)
    return values


def minimum_keras() -> tuple[int, ...]:
    """The oldest Keras the package allows, read from its requirements (pyproject.toml)."""
    for requirement in project_metadata.requirements():
        match = re.match(r"keras\s*>=\s*([0-9.]+)", requirement)
        if match:
            return tuple(int(part) for part in match.group(1).split("."))
    raise LookupError("cnn-course's requirements name no `keras>=` floor.")


def check_keras_version() -> None:
    """Refuses Keras 2 (tf.keras) and Keras 3 releases older than the tested range."""
    import keras  # here, not at the top: tools that only read runs stay light

    floor = minimum_keras()
    installed = tuple(int(part) for part in re.findall(r"\d+", keras.__version__)[:len(floor)])
    if installed < floor:
        raise ImportError(
            f"cnn_course needs Keras >= {'.'.join(map(str, floor))}, but Keras "
            f"{keras.__version__} is installed. Run `pip install -U keras` (in Colab too)."
        )


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def device_name() -> str:
    """A short description of the accelerator the backend will use, or 'cpu'."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            return f"gpu:{len(gpus)}" if gpus else "cpu"
        if backend == "jax":
            import jax

            devices = jax.devices()
            return f"{devices[0].platform}:{len(devices)}"
        if backend == "torch":
            import torch

            return f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu"
    except Exception:  # pragma: no cover - a device query must never break a run
        return "unknown"
    return "cpu"


def library_versions() -> dict[str, str]:
    """Versions of the libraries that decide a run's numbers."""
    import keras

    versions = {"python": platform.python_version(), "keras": keras.__version__}
    for package in ("tensorflow", "jax", "torch", "numpy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    versions["cnn-course"] = project_metadata.version()
    return versions


def _git(arguments: list[str], path: str | os.PathLike | None) -> str | None:
    """stdout of `git <arguments>` run in `path` (default: the cwd); None outside git."""
    try:
        result = subprocess.run(["git", *arguments], cwd=path or os.getcwd(),
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """The commit of the checkout holding `path` (default: the cwd), or None outside git."""
    return (_git(["rev-parse", "HEAD"], path) or "").strip() or None


def committed(path: str | os.PathLike) -> bool:
    """Whether git tracks the file at `path` (False outside git)."""
    path = Path(path).resolve()
    return bool((_git(["ls-files", "--", path.name], path.parent) or "").strip())


# What a run's result depends on: uncommitted edits here make `git_commit` an incomplete record.
CODE_PATHS = ("cnn_course", "notebooks", "pyproject.toml", "requirements.txt")


def uncommitted_changes(
    path: str | os.PathLike | None = None, code_paths: tuple[str, ...] = CODE_PATHS
) -> list[str] | None:
    """Tracked files under `code_paths` (relative to the checkout's top) that differ from the
    commit, so a run made with uncommitted code says so; None outside git."""
    output = _git(["status", "--porcelain", "--untracked-files=no", "--",
                   *(f":(top){code_path}" for code_path in code_paths)], path)
    if output is None:
        return None
    return [line[3:] for line in output.splitlines() if line.strip()]


def describe() -> dict:
    """Backend, device, versions and platform, as stored in every run's summary."""
    import keras

    return {
        "backend": keras.backend.backend(),
        "device": device_name(),
        "versions": library_versions(),
        "platform": platform.platform(),
        "colab": in_colab(),
        "cpu_count": os.cpu_count(),
    }


_SEEDED: list[int] = []  # the seed this process was last seeded with (`seeded`)


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seeds Python, NumPy and the backend; on TensorFlow also asks for deterministic ops.

    Deterministic ops make two runs with the same seed on the same CPU give the same history.
    """
    import keras

    keras.utils.set_random_seed(seed)
    _SEEDED[:] = [seed]
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def seeded() -> int | None:
    """The seed this process was last seeded with (`set_seed`, `setup`): what a logged run
    records as its seed, so the record cannot disagree with what seeded the training."""
    return _SEEDED[-1] if _SEEDED else None


def setup(seed: int = 0, deterministic: bool = True, verbose: bool = True) -> dict:
    """The first call of every notebook: checks Keras, seeds, and reports where it runs."""
    check_keras_version()
    set_seed(seed, deterministic=deterministic)
    info = describe()
    if verbose:
        versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
        print(f"backend: {info['backend']} | device: {info['device']} | colab: {info['colab']}")
        print(f"versions: {versions}")
        print(f"seed: {seed}")
    return info


def import_whole_package() -> list[str]:
    """Imports every module of `cnn_course` now (`cnn-course run` starts each kernel with it), so that a long run keeps the code it started
    with to its last cell: a cell that imports a module later gets this version even when the
    checkout is edited, switched or removed meanwhile (a committed run once met a newer module
    in its last cell and failed after its 50 epochs). Returns the modules left to import later
    because a dependency is missing where it runs."""
    import importlib
    import pkgutil

    import cnn_course

    left = []
    for module in pkgutil.walk_packages(cnn_course.__path__, "cnn_course."):
        if module.name.endswith(".__main__"):
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:
            left.append(module.name)
    return left


def warn_without_accelerator(info: dict, expected_on_cpu: str) -> str | None:
    """Says once, loudly, that a long notebook started on a CPU and how long it will take
    (`expected_on_cpu`, measured: "about 85 min on 2 CPU cores"), then lets it go on. Returns
    the message (None on a GPU or TPU)."""
    if not str(info.get("device", "cpu")).startswith("cpu"):
        return None
    remedy = ("In Colab: Runtime → Change runtime type → GPU, then run all cells again."
              if info.get("colab") else
              "On a machine with a GPU it takes minutes (README: the GPU path).")
    message = (f"WARNING: no GPU found. This notebook's full run takes {expected_on_cpu} on "
               f"this CPU. {remedy} Going on with the CPU.")
    print(f"{'!' * 78}\n{message}\n{'!' * 78}")
    return message


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest folder at or above `start` holding this project's pyproject.toml."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and 'name = "cnn-course"' in candidate.read_text(errors="ignore"):
            return folder
    return None
