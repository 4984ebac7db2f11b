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
            return self.run.summary()
        except ValueError as error:
            raise EvidenceError(f"{self.run.summary_path} is not valid JSON ({error}).") from None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def complete(self) -> bool:
        return self.run.state() == COMPLETE

    @functools.cached_property
    def history(self) -> list[dict]:
        return self.run.history()

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


def run_folders(folder: str | os.PathLike) -> list[Path]:
    """`folder` itself when it is a run folder, else the run folders directly inside it."""
    folder = Path(folder)
    if (folder / "summary.json").is_file():
        return [folder]
    if not folder.is_dir():
        return []
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and (child / "summary.json").is_file())
