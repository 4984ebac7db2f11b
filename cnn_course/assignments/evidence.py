"""What a check reads from a run folder, none of it executed: the summary and history (JSON,
CSV), the executed notebook's saved outputs (read as JSON, no cell runs), and the model, loaded
with Keras' safe mode (a `Lambda` layer or an unknown custom object is refused, not run).

A run folder someone else made is untrusted input; this module is the one place that opens it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

from cnn_course.runs.run_folder import COMPLETE, RunDir


class EvidenceError(ValueError):
    """A run folder that cannot be read as a run (missing or unreadable files)."""


# The summary fields the rules read, with what a run writes there. A submission's summary.json
# is checked against these before any rule reads it, so that a hand-made one ('"params": "95k"')
# fails its rules with words instead of stopping a grading with a TypeError.
NUMBER, WHOLE_NUMBER, TEXT, OBJECT = "a number", "a whole number", "a string", "an object"
SUMMARY_FIELDS: dict[str, str] = {
    "final_val_accuracy": NUMBER,
    "best_val_accuracy": NUMBER,
    "params": WHOLE_NUMBER,
    "epochs_run": WHOLE_NUMBER,
    "epochs_requested": WHOLE_NUMBER,
    "dataset": TEXT,
    "model_name": TEXT,
    "validation": TEXT,
    "evaluation": OBJECT,
    "evaluation.accuracy": NUMBER,
}
_TYPES = {NUMBER: (int, float), WHOLE_NUMBER: (int,), TEXT: (str,), OBJECT: (dict,)}


@dataclasses.dataclass
class RunEvidence:
    """One run folder, read lazily."""

    path: Path

    @functools.cached_property
    def run(self) -> RunDir:
        return RunDir.at(self.path)

    @functools.cached_property
    def summary(self) -> dict:
        if not self.run.summary_path.is_file():
            raise EvidenceError(f"{self.path} holds no summary.json: it is not a run folder.")
        try:
            summary = self.run.summary()
        except ValueError as error:
            raise EvidenceError(f"{self.run.summary_path} is not valid JSON ({error}).") from None
        return _checked_summary(summary, self.run.summary_path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def complete(self) -> bool:
        return self.summary.get("status") == COMPLETE  # the checked summary, not the raw one

    @functools.cached_property
    def history(self) -> list[dict]:
        try:
            return self.run.history()
        except ValueError as error:  # a cell that is not a number
            raise EvidenceError(f"{self.run.history_path} holds a value that is not a number "
                                f"({error}); a run's history.csv holds numbers only.") from None

    @functools.cached_property
    def model(self):
        """The saved model, loaded in safe mode; EvidenceError names what was refused."""
        import keras

        path = self.run.model_path
        if not path.is_file():
            raise EvidenceError(f"{self.name}: no model.keras in the run folder.")
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as error:  # noqa: BLE001 - any refusal or damage is evidence
            words = " ".join(str(error).split())[:300]
            if "Lambda" in words or "safe_mode" in words:
                raise EvidenceError(f"{self.name}: model.keras holds code (a Lambda layer); "
                                    f"refused in safe mode, never run ({words})") from None
            raise EvidenceError(f"{self.name}: model.keras could not be loaded safely "
                                f"({type(error).__name__}: {words})") from None

    @functools.cached_property
    def notebook_text(self) -> list[str]:
        """The text lines the executed notebook shows (stream and plain-text outputs)."""
        import nbformat

        lines: list[str] = []
        for path in self.run.notebooks():
            try:
                notebook = nbformat.read(path, as_version=4)
            except Exception as error:  # noqa: BLE001
                raise EvidenceError(f"{path.name} is not a readable notebook ({error}).") from None
            for cell in notebook.cells:
                for output in cell.get("outputs", []):
                    text = output.get("text")
                    if text is None:
                        text = output.get("data", {}).get("text/plain", "")
                    if isinstance(text, list):
                        text = "".join(text)
                    lines += str(text).splitlines()
        return lines


def _checked_summary(summary, path: Path) -> dict:
    """`summary` when it is a JSON object whose fields the rules read (`SUMMARY_FIELDS`) hold
    what a run writes there (or null); EvidenceError naming the first field that does not."""
    if not isinstance(summary, dict):
        raise EvidenceError(f"{path} holds a JSON {type(summary).__name__}, not an object: "
                            f"it is not a run's summary.")
    fields = dict(summary)
    if isinstance(summary.get("evaluation"), dict):
        fields["evaluation.accuracy"] = summary["evaluation"].get("accuracy")
    for field, expected in SUMMARY_FIELDS.items():
        value = fields.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, _TYPES[expected]):
            raise EvidenceError(f"{path}: {field!r} is {value!r} ({type(value).__name__}), "
                                f"expected {expected}. The file was edited or not written by a "
                                f"run; run the notebook again to write it.")
    return summary


def run_folders(folder: str | os.PathLike) -> list[Path]:
    """`folder` itself when it is a run folder, else the run folders directly inside it."""
    folder = Path(folder)
    if (folder / "summary.json").is_file():
        return [folder]
    if not folder.is_dir():
        return []
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and (child / "summary.json").is_file())
