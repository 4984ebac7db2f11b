"""Re-saves committed run models without their optimizer state (#22), proving nothing else moved.

For each `logs/<run>/model.keras` that still holds optimizer state: write the inference copy
(`models.saving.save_for_inference`), reload both, and require (1) every variable equal bit for
bit, (2) the logits on the run's whole validation set equal bit for bit, (3) the accuracy from
those logits equal to the logged final accuracy (as `cnn-course verify` checks). Only then is the
file replaced. Needs the full data sets ($CNN_COURSE_DATA_DIR).

    python scripts/resave_models_for_inference.py logs
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np

from cnn_course import data
from cnn_course.models.saving import deflate, save_for_inference
from cnn_course.runs import logs_folder
from cnn_course.runs.run_folder import RunDir
from cnn_course.study.verify import TOLERANCE


def weights_identical(first: keras.Model, second: keras.Model) -> bool:
    """Whether two models hold the same variables, bit for bit, in the same order."""
    if len(first.weights) != len(second.weights):
        return False
    return all(
        a.shape == b.shape and (keras.ops.convert_to_numpy(a.value).tobytes()
                                == keras.ops.convert_to_numpy(b.value).tobytes())
        for a, b in zip(first.weights, second.weights)
    )


def holds_optimizer(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive, archive.open("config.json") as handle:
        return bool(json.load(handle).get("compile_config"))  # {} once saved for inference


def is_deflated(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return all(member.compress_type == zipfile.ZIP_DEFLATED for member in archive.infolist())


def recompress(run: RunDir) -> str:
    """An inference model saved before `saving.deflate` existed: the same members, compressed;
    every variable must load back identical."""
    new_path = run.path / ".model.deflated.keras"
    deflate(run.model_path, new_path)
    if not weights_identical(keras.saving.load_model(run.model_path),
                             keras.saving.load_model(new_path)):
        new_path.unlink()
        return f"FAIL {run.name}: weights differ after compressing"
    before = run.model_path.stat().st_size
    os.replace(new_path, run.model_path)
    return (f"ok   {run.name}: compressed {before / 2**20:.2f} -> "
            f"{run.model_path.stat().st_size / 2**20:.2f} MiB; weights identical")


def resave(run: RunDir) -> str:
    record = run.record()
    old = keras.saving.load_model(run.model_path)
    new_path = run.path / ".model.inference.keras"
    save_for_inference(old, new_path)
    new = keras.saving.load_model(new_path)
    if not weights_identical(old, new):
        new_path.unlink()
        return f"FAIL {run.name}: weights differ"
    _, (x_val, y_val) = data.split(record.data.dataset, record.data.validation,
                                   sample=record.data.sample)
    old_logits = old.predict(x_val, batch_size=512, verbose=0)
    new_logits = new.predict(x_val, batch_size=512, verbose=0)
    if not np.array_equal(old_logits, new_logits):
        new_path.unlink()
        return f"FAIL {run.name}: logits differ"
    accuracy = float(np.mean(np.argmax(new_logits, axis=1) == y_val.reshape(-1)))
    logged = float(record.final_accuracy)
    if abs(accuracy - logged) > TOLERANCE:
        new_path.unlink()
        return f"FAIL {run.name}: accuracy {accuracy:.4f} != logged {logged:.4f}"
    before = run.model_path.stat().st_size
    os.replace(new_path, run.model_path)
    return (f"ok   {run.name}: {before / 2**20:.2f} -> {run.model_path.stat().st_size / 2**20:.2f} "
            f"MiB; weights and {len(x_val)} logits identical; accuracy {accuracy:.4f} = logged")


def main(logs_dir: str) -> int:
    failures = 0
    for run in (run.folder for run in logs_folder.load(logs_dir).complete):
        if not run.model_path.is_file():
            continue
        if not holds_optimizer(run.model_path):
            if is_deflated(run.model_path):
                print(f"skip {run.name}: already saved for inference", flush=True)
                continue
            line = recompress(run)
        else:
            line = resave(run)
        failures += line.startswith("FAIL")
        print(line, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "logs"))
