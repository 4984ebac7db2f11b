"""Saving a trained model for the people who use it: the architecture and the weights.

A run's `model.keras` is what `verify`, notebook 09 and a user load to predict or evaluate. It
leaves out what only training needs (the optimizer's slots: Adam keeps two per weight, so a saved
model with them is three times its weights), which the run's checkpoint (`backup/`) keeps while
it can still resume. The weights are written unchanged, bit for bit.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import keras


def save_for_inference(model: keras.Model, path: str | os.PathLike) -> Path:
    """Writes `model`'s architecture and weights to `path` (`.keras`), without optimizer
    state or compile settings. Load it with `keras.saving.load_model(path)`; compile it to
    evaluate (`training.compile_classifier(model)`).

    Keras 3 has no `include_optimizer=False`; a model loaded with `compile=False` has no
    optimizer, so saving that copy leaves the optimizer out through public API alone.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="cnn-course-save-") as folder:
        full = Path(folder) / "full.keras"
        model.save(full)
        inference = keras.saving.load_model(full, compile=False)
        inference.save(Path(folder) / "inference.keras")
        deflate(Path(folder) / "inference.keras", path)
    return path


def load_untrusted(path: str | os.PathLike) -> keras.Model:
    """Loads a `.keras` file someone else made (a submission, a run to verify): in Keras' safe
    mode, uncompiled, so a Lambda layer's code is refused, never run. Either failure is a
    `ValueError` naming the file and what was wrong."""
    path = Path(path)
    if path.suffix == ".keras" and path.is_file() and not zipfile.is_zipfile(path):
        raise ValueError(f"{path.name} is not a .keras file (a zip archive): it is "
                         f"damaged, cut short, or was not saved by Keras.")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # noqa: BLE001 - any refusal or damage is the file's
        words = " ".join(str(error).split())[:300]
        if "Lambda" in words or "safe_mode" in words:
            raise ValueError(f"{path.name} holds code (a Lambda layer); refused in safe "
                             f"mode, never run ({words})") from None
        raise ValueError(f"{path.name} could not be loaded safely "
                         f"({type(error).__name__}: {words})") from None


def deflate(source: Path, target: Path) -> None:
    """Copies a `.keras` file (a zip that Keras writes uncompressed) with its members
    compressed: about 8% smaller for trained float32 weights, the same bytes once unpacked."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as compressed:
        for member in original.infolist():
            compressed.writestr(member, original.read(member.filename),
                                compress_type=zipfile.ZIP_DEFLATED)

