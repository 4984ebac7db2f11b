"""The GPU window's way back (scripts/gpu_window.py): finished runs packed into a few files of
limited size, and placed here through RunDir, whole or not at all."""

import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest

from cnn_course.runs import record
from tests.helpers import fit_tiny_run

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_window.py"
spec = importlib.util.spec_from_file_location("gpu_window", SCRIPT)
gpu_window = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_window)


@pytest.fixture
def there(tmp_path):
    """A logs folder 'there' with one complete run and one interrupted one (not packed)."""
    logs = tmp_path / "there"
    fit_tiny_run(logs, epochs=2)
    (logs / "tiny-run" / "backup").mkdir()  # a checkpoint left behind never travels
    (logs / "tiny-run" / "backup" / "latest.weights.h5").write_bytes(b"x" * 1000)
    return logs


def test_pack_splits_into_files_under_the_limit_and_unpack_places_the_run(there, tmp_path):
    back = tmp_path / "back"
    assert gpu_window.pack(there, back, files=8, file_mib=0.02) == 0
    files = list(back.iterdir())
    assert len(files) <= 8 and all(path.stat().st_size <= 0.02 * 2**20 for path in files)
    manifest = json.loads((back / "manifest.json").read_text())
    assert manifest["runs"] == ["tiny-run"] and len(manifest["parts"]) > 1
    here = tmp_path / "logs"
    assert gpu_window.unpack(back, here, verify=False) == 0
    placed = here / "tiny-run"
    assert record.read(placed).status == "complete"
    assert (placed / "model.keras").is_file() and not (placed / "backup").exists()
    assert sorted(p.name for p in here.iterdir()) == ["tiny-run"]  # no staging left


def test_unpack_keeps_a_complete_run_unless_overwrite(there, tmp_path):
    back = tmp_path / "back"
    gpu_window.pack(there, back, files=8, file_mib=16)
    here = tmp_path / "logs"
    assert gpu_window.unpack(back, here, verify=False) == 0
    before = (here / "tiny-run" / "summary.json").read_text()
    assert gpu_window.unpack(back, here, verify=False) == 1  # kept, said so
    assert (here / "tiny-run" / "summary.json").read_text() == before
    assert gpu_window.unpack(back, here, overwrite=True, verify=False) == 0


def test_pack_refuses_more_files_than_a_call_brings_back(there, tmp_path):
    assert gpu_window.pack(there, tmp_path / "back", files=2, file_mib=0.01) == 1


def test_a_damaged_part_is_refused_and_nothing_placed(there, tmp_path):
    back = tmp_path / "back"
    gpu_window.pack(there, back, files=8, file_mib=0.02)
    first = back / json.loads((back / "manifest.json").read_text())["parts"][0]
    first.write_bytes(first.read_bytes()[:-10])
    here = tmp_path / "logs"
    assert gpu_window.unpack(back, here, verify=False) == 1
    assert not (here / "tiny-run").exists()


def test_an_archive_with_a_path_out_of_its_folder_is_refused(tmp_path):
    back = tmp_path / "back"
    back.mkdir()
    archive = back / "runs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    (back / "manifest.json").write_text(json.dumps({
        "archive": "runs.tar.gz", "sha256": gpu_window.sha256(archive), "parts": ["runs.tar.gz"],
        "runs": ["escaped"]}))
    with pytest.raises(tarfile.OutsideDestinationError):
        gpu_window.unpack(back, tmp_path / "logs", verify=False)
    assert not list(tmp_path.rglob("escaped.txt"))


def test_stash_sets_the_committed_models_aside_and_unstash_puts_them_back(tmp_path):
    import subprocess

    root, folder = tmp_path / "repo", tmp_path / "stash"
    model = root / "logs" / "run" / "model.keras"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weights")
    (root / "logs" / "run" / "summary.json").write_text("{}")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    assert gpu_window.committed_models(root) == ("logs/run/model.keras",)
    assert gpu_window.stash(root, folder) == 0
    assert not model.exists() and (folder / "logs" / "run" / "model.keras").is_file()
    assert gpu_window.stash(root, folder) == 0  # nothing left to move: a no-op
    model.write_bytes(b"another")  # its place taken: the stashed one is kept, and named
    assert gpu_window.unstash(root, folder) == 1
    model.unlink()
    assert gpu_window.unstash(root, folder) == 0
    assert model.read_bytes() == b"weights"
