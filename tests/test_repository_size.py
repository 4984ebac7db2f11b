"""The tracked tree stays small enough to travel: a job sent to a GPU machine carries the
working tree plus the data and wheels, 64 MiB a call; the tree may take half of that."""

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


def test_tracked_tree_is_under_32_mib():
    sizes = sorted(((path.stat().st_size, path) for path in tracked_files() if path.is_file()),
                   reverse=True)
    total = sum(size for size, _ in sizes)
    largest = "\n".join(f"  {size / 2**20:6.2f} MiB  {path.relative_to(ROOT)}"
                        for size, path in sizes[:8])
    assert total < LIMIT_MIB * 2**20, (
        f"The tracked tree is {total / 2**20:.1f} MiB, over {LIMIT_MIB} MiB; the largest "
        f"files:\n{largest}\nCommitted models hold weights only (models.saving); keep large "
        f"files out of git."
    )
