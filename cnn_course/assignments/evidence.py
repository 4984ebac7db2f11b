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

from cnn_course.runs.record import RunRecord, UnreadableRecordError
from cnn_course.runs.run_files import SUMMARY_FILE
from cnn_course.runs.run_folder import RunDir


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
    def record(self) -> RunRecord:
        """The run's record, checked field by field (`record`): a hand-made summary.json
        ('"params": "95k"') fails with words instead of stopping a grading with a TypeError."""
        try:
            record = self.run.record()
        except UnreadableRecordError as error:  # someone else's run: no advice to restore it
            raise EvidenceError(f"{error.path} cannot be read ({error.problem}).") from None
        if record is None:
            raise EvidenceError(f"{self.path} holds no summary.json: it is not a run folder.")
        return record

    @property
    def name(self) -> str:
        """The run folder's name, also when it is given as `.` (the folder one stands in)."""
        return Path(os.path.abspath(self.path)).name

    @property
    def complete(self) -> bool:
        return self.record.complete

    @functools.cached_property
    def history(self) -> list[dict]:
        try:
            return self.run.history()
        except ValueError as error:  # a cell that is not a number, named by `read_history`
            raise EvidenceError(str(error)) from None

    @functools.cached_property
    def model(self):
        """The saved model, loaded in safe mode; EvidenceError names what was refused."""
        from cnn_course.models.saving import load_untrusted

        path = self.run.model_path
        if not path.is_file():
            raise EvidenceError(f"{self.name}: no model.keras in the run folder.")
        try:
            return load_untrusted(path)
        except ValueError as error:
            raise EvidenceError(f"{self.name}: {error}") from None

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
    if (folder / SUMMARY_FILE).is_file():
        return [folder]
    if not folder.is_dir():
        return []
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and (child / SUMMARY_FILE).is_file())
