"""The tracked tree stays small enough to travel. A job sent to a GPU machine carries the
working tree plus the data and wheels, 64 MiB a call: with the committed models set aside
(`scripts/gpu_window.py stash`), the tree may take half of that; whole, it must fit in one."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CARRIED_LIMIT_MIB = 32  # what a call carries once the committed models are stashed
WHOLE_LIMIT_MIB = 64  # a clone, models included


def tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                 check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listing.decode().split("\0") if name]


def is_committed_model(path: Path) -> bool:
    relative = path.relative_to(ROOT)
    return relative.parts[0] == "logs" and relative.name == "model.keras"


def check_size(files: list[Path], limit_mib: int, what: str) -> None:
    sizes = sorted(((path.stat().st_size, path) for path in files if path.is_file()),
                   reverse=True)
    total = sum(size for size, _ in sizes)
    largest = "\n".join(f"  {size / 2**20:6.2f} MiB  {path.relative_to(ROOT)}"
                        for size, path in sizes[:8])
    assert total < limit_mib * 2**20, (
        f"{what} is {total / 2**20:.1f} MiB, over {limit_mib} MiB; the largest files:\n"
        f"{largest}\nCommitted models hold weights only (models.saving); keep large files "
        f"out of git."
    )


def test_the_tree_a_gpu_call_carries_is_under_32_mib():
    check_size([path for path in tracked_files() if not is_committed_model(path)],
               CARRIED_LIMIT_MIB, "The tracked tree without the committed models")


def test_the_whole_tracked_tree_fits_in_one_call():
    check_size(tracked_files(), WHOLE_LIMIT_MIB, "The tracked tree")
