"""A committed run's model may live in git history rather than in the tree.

The tracked tree must stay small enough to travel to a GPU machine (under 32 MiB, with the
data beside it, per call: `tests/test_repository_size.py`). Models that back no headline claim
(the 3-epoch All-CNN demonstrations) were removed from the tree in a commit of their own; git
keeps every byte of them. `model_file` hands `cnn-course verify` (and anyone who loads a model)
the tree's `model.keras` when it is there, else the last committed version, unchanged, in a
temporary file; `restore_command` says how to put it back for good."""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cnn_course.runs.errors import RunError


@dataclass(frozen=True)
class CommittedModel:
    """Where git keeps a model that is not in the tree: the repository, commit and path."""

    repository: Path
    commit: str
    path: str  # relative to the repository, '/'-separated, as git spells it

    @property
    def restore_command(self) -> str:
        """Writes the model back into its run folder (not staged: the tree stays small)."""
        path = shlex.quote(self.path)
        return (f"(cd {shlex.quote(str(self.repository))} && git show "
                f"{self.commit[:12]}:{path} > {path})")

    def read_bytes(self) -> bytes:
        return _git(self.repository, "show", f"{self.commit}:{self.path}", text=False)


def _git(repository: Path, *arguments: str, text: bool = True) -> str | bytes:
    completed = subprocess.run(["git", "-C", str(repository), *arguments], capture_output=True,
                               check=True, text=text)
    return completed.stdout.strip() if text else completed.stdout


def committed_model(model_path: Path) -> CommittedModel | None:
    """The last commit that added or changed the run's `model_path`, when the file is not in
    the tree; None when it is in the tree, or git has no version of it (or there is no git)."""
    model_path = Path(model_path).resolve()
    if model_path.is_file():
        return None
    try:
        repository = Path(_git(model_path.parent.parent, "rev-parse", "--show-toplevel"))
        relative = model_path.relative_to(repository.resolve()).as_posix()
        commit = _git(repository, "log", "-1", "--format=%H", "--diff-filter=AM", "--",
                      relative)
    except (OSError, ValueError, subprocess.CalledProcessError):
        return None
    return CommittedModel(repository, commit, relative) if commit else None


@contextlib.contextmanager
def model_file(model_path: Path) -> Iterator[tuple[Path, CommittedModel | None]]:
    """A run's model.keras and where it came from: the tree's file (None), else git's last
    version in a temporary file, deleted afterwards (its `CommittedModel`). `RunError` when
    neither exists, saying why and what to do."""
    model_path = Path(model_path)
    if model_path.is_file():
        yield model_path, None
        return
    committed = committed_model(model_path)
    if committed is None:
        raise RunError(
            f"Run {model_path.parent.name!r} has no {model_path.name} in {model_path.parent}, "
            f"and git history holds none either. A shallow clone lacks the history: `git "
            f"fetch --unshallow`, or train the run again.")
    with tempfile.TemporaryDirectory(prefix="cnn_course-model-") as folder:
        path = Path(folder) / model_path.name
        path.write_bytes(committed.read_bytes())
        yield path, committed
