"""The tracked tree stays small enough to travel. A job sent to a GPU machine carries the
working tree plus the data and wheels, 64 MiB a call: the whole tree may take half of that.
(`scripts/gpu_window.py stash` sets the committed models aside for more room; a run that backs
no headline claim keeps its logs only, as the All-CNN demonstrations and the holdout runs do:
docs/runs.md.)"""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MIB = 32


def tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                 check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listing.decode().split("\0") if name]


def check_size(files: list[Path], limit_mib: int, what: str) -> None:
    sizes = sorted(((path.stat().st_size, path) for path in files if path.is_file()),
                   reverse=True)
    total = sum(size for size, _ in sizes)
    largest = "\n".join(f"  {size / 2**20:6.2f} MiB  {path.relative_to(ROOT)}"
                        for size, path in sizes[:8])
    assert total < limit_mib * 2**20, (
        f"{what} is {total / 2**20:.1f} MiB, over {limit_mib} MiB; the largest files:\n"
        f"{largest}\nCommitted models hold weights only (models.saving); a run that backs "
        f"no headline claim may keep its logs only; keep other large files out of git."
    )


def test_the_tracked_tree_is_under_32_mib():
    check_size(tracked_files(), LIMIT_MIB, "The tracked tree")
