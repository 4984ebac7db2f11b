"""Turns a short window on a GPU machine without network into committed runs.

The machine takes files in calls of limited size (ours: 64 MiB a call, the working tree
included), gives back at most 8 files of 16 MiB, keeps /tmp while it stays warm, and has JAX but
neither Keras nor papermill. Each stage below is one short command; sizes are options.

Here, once (`.device/` is git-ignored):

    python scripts/gpu_window.py prepare            # data in parts, wheels, checksums, the plan
    cat .device/plan.txt                            # the calls, in order, with what each carries
    (optional) python scripts/gpu_window.py stash   # the committed models wait in .device/stash
                                                    # (the tree travels with every call); plan
                                                    # for it with `prepare --stashed`

There, one call per line of the plan (each carries `.device/callN`):

    python3 scripts/gpu_window.py there keep        # copies the call's files to /tmp/gpu-window
    python3 scripts/gpu_window.py there setup       # joins + checks the data, installs the wheels
    python3 scripts/gpu_window.py there probe       # one timed slice per setting (probe.md)
    python3 scripts/gpu_window.py there start       # the runs, in the background (setsid)
    python3 scripts/gpu_window.py there wait --seconds 500
    python3 scripts/gpu_window.py there pack --out "$OUT"   # finished runs, <= 8 files <= 16 MiB

Here again, with the files that came back:

    (if stashed) python scripts/gpu_window.py unstash   # the committed models back in logs/
    python scripts/gpu_window.py unpack /work/.device/...   # into logs/ through RunDir, verified

`python scripts/gpu_window.py rehearse` runs every stage on this machine, a temporary folder
standing in for the GPU machine, with the same size limits (`--epochs 1`, KERAS_BACKEND=jax).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20
DEVICE_DIR = ROOT / ".device"
SHARED_DEVICE_DATA = ROOT.parent / "shared" / "bin" / "device-data"
STORE = Path(os.environ.get("GPU_WINDOW_STORE", "/tmp/gpu-window"))  # there: survives calls
RUNS_LOGS = "runs-logs"  # there: the runs' logs folder, inside STORE

# The headline runs (README: results over seeds), in the order they are started.
DEFAULT_RUNS = (
    "cifar10_base:seed=0",
    "cifar10_separable:seed=0",
)
MAX_RUNS_AT_ONCE = 3  # JAX takes 0.3 of the GPU's memory per run (run_environment)


def planned_runs(limit: int = MAX_RUNS_AT_ONCE) -> list[str]:
    """The runs the recipe selection still needs (`logs/selection.yaml`, in its order: missing
    holdout candidates, the base's seeds, the chosen recipe's seeds), at most `limit`; else
    DEFAULT_RUNS without a selection. None once it has every run: a GPU run of a headline recipe
    would join its seeds (`RunRecord.recipe_key` leaves out the device), adding seeds after the
    results were seen; that window measures instead. Worked out here and written into the plan."""
    from cnn_course.runs import logs_folder
    from cnn_course.study import selection

    logs = ROOT / "logs"
    chosen = selection.read_selection(logs)
    if chosen is None:
        return list(DEFAULT_RUNS)
    missing = selection.next_runs(selection.outcome(chosen, logs_folder.load(logs).complete))
    return [run.spec() for run in missing[:limit]]


# Timing probe: (precision, steps_per_execution, batch_size); steps timed after a warm-up.
DEFAULT_PROBE = ("float32,1,128", "mixed_bfloat16,1,128", "float32,16,128",
                 "mixed_bfloat16,16,128", "mixed_bfloat16,16,512")


# --- here: what travels -------------------------------------------------------------------------

def tree_bytes(leaving_out: tuple[str, ...] = ()) -> int:
    """Bytes of what a call carries besides `carry`: tracked and untracked-not-ignored files
    (those present: a stashed model does not travel), less the paths `leaving_out`."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    return sum((ROOT / name).stat().st_size for name in listing.decode().split("\0")
               if name and name not in leaving_out and (ROOT / name).is_file())


# The committed models (weights of every run in logs/) are most of the tree and are not needed
# there; they wait here in .device/stash while a window's calls travel.
STASH = DEVICE_DIR / "stash"


def committed_models(root: Path = ROOT) -> tuple[str, ...]:
    listing = subprocess.run(["git", "ls-files", "-z", "--", "logs/*/model.keras"], cwd=root,
                             capture_output=True, check=True).stdout
    return tuple(name for name in listing.decode().split("\0") if name)


def stash(root: Path = ROOT, folder: Path = STASH) -> int:
    """Moves the committed models present into `folder` (same relative paths)."""
    moved = 0
    for name in committed_models(root):
        source = root / name
        if source.is_file():
            target = folder / name
            if target.exists():
                print(f"error: {target} exists already; run `unstash` first.", file=sys.stderr)
                return 2
            target.parent.mkdir(parents=True, exist_ok=True)
            moved += source.stat().st_size
            os.replace(source, target)
    print(f"stashed {moved / MIB:.1f} MiB of committed models in {folder}; run `unstash` "
          f"after the window.")
    return 0


def unstash(root: Path = ROOT, folder: Path = STASH) -> int:
    """Puts every stashed model back; one whose place is taken by another file is kept in the
    stash and named (nothing is lost)."""
    kept = []
    for source in sorted(path for path in folder.rglob("*") if path.is_file()):
        target = root / source.relative_to(folder)
        if target.exists():
            kept.append(str(source))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    if kept:
        print(f"error: these stayed in the stash, their places are taken: {kept}",
              file=sys.stderr)
        return 1
    print(f"every stashed model is back under {root / 'logs'}")
    return 0


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def split_file(source: Path, folder: Path, part_bytes: int) -> list[Path]:
    """`source` cut into `<name>.part-00`, ... of at most `part_bytes`."""
    parts = []
    with source.open("rb") as handle:
        for index in range(10**4):
            block = handle.read(part_bytes)
            if not block:
                break
            part = folder / f"{source.name}.part-{index:02d}"
            part.write_bytes(block)
            parts.append(part)
    return parts


def prepare(arguments) -> int:
    """Cuts the data and the wheels into calls that fit beside the working tree."""
    data_dir = Path(os.environ.get("CNN_COURSE_DATA_DIR", "~/data")).expanduser()
    source = data_dir / "cifar10.npz"
    if not source.is_file():
        print(f"error: {source} not found: build it (../shared/bin/get-datasets ~/data) and set "
              f"CNN_COURSE_DATA_DIR.", file=sys.stderr)
        return 2
    out = Path(arguments.out)
    # What a call carries: the whole tree (under 32 MiB by test), or with `--stashed` the tree
    # less the committed models (`stash` before the first call: untried on the device tool).
    leaving_out = committed_models() if arguments.stashed else ()
    tree = (tree_bytes(leaving_out) if arguments.tree_mib is None
            else int(arguments.tree_mib * MIB))
    room = int(arguments.call_mib * MIB) - tree - int(arguments.margin_mib * MIB)
    if room < 4 * MIB:
        print(f"error: the working tree ({tree / MIB:.1f} MiB) leaves {room / MIB:.1f} MiB of a "
              f"{arguments.call_mib} MiB call; make the tree smaller first.", file=sys.stderr)
        return 2
    for old in [*out.glob("call*"), out / "staging"]:  # an earlier plan; wheels/ stays
        shutil.rmtree(old, ignore_errors=True)
    staging = out / "staging"
    staging.mkdir(parents=True)
    pieces: list[Path] = split_file(source, staging, room)
    checksums = {source.name: sha256(source)}
    if arguments.wheels:
        wheels = Path(arguments.wheels)
        pieces += sorted(wheels.glob("*.whl"))
    calls: list[list[Path]] = [[]]
    used = 0
    for piece in pieces:  # first fit, in order: the data first, then the wheels
        size = piece.stat().st_size
        if size > room:
            print(f"error: {piece.name} ({size / MIB:.1f} MiB) is larger than a call's room "
                  f"({room / MIB:.1f} MiB).", file=sys.stderr)
            return 2
        if used + size > room:
            calls.append([])
            used = 0
        calls[-1].append(piece)
        used += size
    for number, pieces_of_call in enumerate(calls, start=1):
        folder = out / f"call{number}"
        folder.mkdir()
        for piece in pieces_of_call:
            shutil.move(str(piece), folder / piece.name) if piece.parent == staging else \
                shutil.copy2(piece, folder / piece.name)
    shutil.rmtree(staging)
    (out / "call1" / "checksums.json").write_text(json.dumps(checksums, indent=1))
    plan = {"call_mib": arguments.call_mib, "tree_mib": round(tree / MIB, 2),
            "room_mib": round(room / MIB, 2),
            "calls": [{"carry": f"{os.path.relpath(out, ROOT)}/call{number}",
                       "mib": round(sum(p.stat().st_size for p in (out / f"call{number}").iterdir())
                                    / MIB, 2)}
                      for number in range(1, len(calls) + 1)]}
    (out / "plan.json").write_text(json.dumps(plan, indent=1))
    runs = arguments.runs if arguments.runs is not None else planned_runs()
    stashed = (" (committed models stashed: run `python scripts/gpu_window.py stash` before "
               "call 1, `unstash` after the last)") if arguments.stashed else ""
    lines = [f"tree {plan['tree_mib']} MiB{stashed}; "
             f"room per call {plan['room_mib']} MiB; {len(calls)} calls carry the data and "
             f"wheels; the runs: {' '.join(runs) or 'none (the selection has every run: measure)'}"]
    start = f" && python3 scripts/gpu_window.py there start --runs {' '.join(runs)}" if runs else ""
    for number, call in enumerate(plan["calls"], start=1):
        stage = "there keep" if number < len(calls) else (
            "there keep && python3 scripts/gpu_window.py there setup && python3 "
            f"scripts/gpu_window.py there probe{start}")
        lines.append(f"  call {number}: carry {call['carry']} ({call['mib']} MiB): "
                     f"python3 scripts/gpu_window.py {stage}")
    lines.append("  then: python3 scripts/gpu_window.py there wait --seconds 540 && "
                 "python3 scripts/gpu_window.py there pack --out \"$OUT\"" if runs else
                 f"  then: KERAS_BACKEND=jax PYTHONPATH={STORE / 'site'} python3 "
                 f"scripts/time_augmentation.py")
    (out / "plan.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


# --- there --------------------------------------------------------------------------------------

def there_keep(arguments) -> int:
    """Copies what this call carried (`.device/call*/`) into the store that outlives calls."""
    STORE.mkdir(parents=True, exist_ok=True)
    kept = 0
    for folder in sorted(Path(arguments.device_dir).glob("call*")):
        for path in folder.iterdir():
            shutil.copy2(path, STORE / path.name)
            kept += 1
    print(f"kept {kept} files; the store holds {sorted(p.name for p in STORE.iterdir())}")
    return 0


def there_setup(arguments) -> int:
    """Joins the data and checks it; installs the wheels that came (no network needed)."""
    checksums = json.loads((STORE / "checksums.json").read_text())
    data_dir = STORE / "data"
    data_dir.mkdir(exist_ok=True)
    for name, expected in checksums.items():
        target = data_dir / name
        parts = sorted(STORE.glob(f"{name}.part-*"))
        with target.open("wb") as out:
            for part in parts:
                out.write(part.read_bytes())
        if sha256(target) != expected:
            target.unlink()
            print(f"error: {name}: the checksum differs after joining {len(parts)} parts; a "
                  f"call's parts are missing (run its `there keep` again).", file=sys.stderr)
            return 1
        print(f"joined {target} from {len(parts)} parts, checksum ok")
    wheels = sorted(STORE.glob("*.whl"))
    if wheels and not (STORE / "site" / ".ok").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                        "--no-compile", "--no-cache-dir", "--upgrade", "--target",
                        str(STORE / "site"), *map(str, wheels)], check=True)
        (STORE / "site" / ".ok").touch()
        print(f"installed {len(wheels)} wheels into {STORE / 'site'}")
    return 0


def run_environment() -> dict[str, str]:
    """The environment of the processes that train there: wheels and checkout on the path,
    the joined data, JAX, and a memory share per process so that runs can share the GPU."""
    site = STORE / "site"
    path = os.pathsep.join(p for p in (str(site), str(ROOT), os.environ.get("PYTHONPATH"))
                           if p)
    return {**os.environ, "PYTHONPATH": path, "PATH": f"{site / 'bin'}:{os.environ['PATH']}",
            "CNN_COURSE_DATA_DIR": str(STORE / "data"),
            "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax"), "PYTHONUNBUFFERED": "1",
            "XLA_PYTHON_CLIENT_MEM_FRACTION": os.environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION",
                                                             "0.3")}


PROBE_CODE = r"""
import json, sys, time
import keras
import numpy as np
from cnn_course import data, models
from cnn_course.models import recipes, training
builder, precision, spe, batch, steps, sample = sys.argv[1:7]
keras.config.set_dtype_policy(precision)
(x, y), _ = data.load("cifar10", sample=sample == "True")
model = models.build(builder) if builder != "cifar10_separable_net" else \
    models.cifar10_separable_net(augmentation=recipes.CIFAR10.augmentation())
training.compile_classifier(model, keras.optimizers.SGD(0.01), steps_per_execution=int(spe),
                            jit_compile=training.backend_jit_compile(None))
n = int(batch) * int(spe) * 4  # the sample (800 images) repeated where it is shorter
x, y = np.resize(x, (n, *x.shape[1:])), np.resize(y, (n, *y.shape[1:]))
start = time.perf_counter(); model.fit(x, y, batch_size=int(batch), epochs=1, verbose=0)
warm = time.perf_counter() - start
count = int(steps)
reps = max(1, count * int(batch) // n)
start = time.perf_counter()
model.fit(x, y, batch_size=int(batch), epochs=reps, verbose=0)
seconds = time.perf_counter() - start
per_step = seconds / (reps * (n // int(batch)))
print(json.dumps({"model": builder, "precision": precision, "steps_per_execution": int(spe),
                  "batch_size": int(batch), "ms_per_step": round(per_step * 1e3, 3),
                  "epoch_s": round(per_step * (50000 // int(batch)), 2),
                  "compile_s": round(warm, 1)}))
"""


def there_probe(arguments) -> int:
    """One timed slice of each model at each setting; a Markdown table in the store."""
    rows = []
    for builder in arguments.models.split(","):
        for setting in arguments.settings:
            precision, spe, batch = setting.split(",")
            try:
                result = subprocess.run(
                    [sys.executable, "-c", PROBE_CODE, builder, precision, spe, batch,
                     str(arguments.steps), str(arguments.sample)],
                    env=run_environment(), capture_output=True, text=True,
                    timeout=arguments.timeout)
            except subprocess.TimeoutExpired:
                print(f"probe {builder} {setting}: over {arguments.timeout} s, left out")
                continue
            if result.returncode:
                print(f"probe {builder} {setting}: failed: {result.stderr.strip()[-300:]}")
                continue
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    table = ["| model | precision | steps/execution | batch | ms/step | s/epoch (50k) | "
             "compile s |", "|---|---|---|---|---|---|---|"]
    table += [f"| {r['model']} | {r['precision']} | {r['steps_per_execution']} | "
              f"{r['batch_size']} | {r['ms_per_step']} | {r['epoch_s']} | {r['compile_s']} |"
              for r in rows]
    (STORE / "probe.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0


def run_command(spec: str, arguments) -> tuple[str, list[str]]:
    """`notebook:name=value,...` -> (run name, the `cnn-course run` command)."""
    notebook, _, settings = spec.partition(":")
    parameters = dict(item.split("=", 1) for item in settings.split(",") if item)
    name = "-".join([f"{notebook}-gpu", *(f"{key}{value}" for key, value in parameters.items())])
    command = [sys.executable, "-m", "cnn_course", "run", notebook, "--logs-dir",
               str(STORE / RUNS_LOGS), "-p", "run_name", name]
    for key, value in {**dict(item.split("=", 1) for item in arguments.parameter),
                       **parameters}.items():
        command += ["-p", key, value]
    return name, command


def there_start(arguments) -> int:
    """Starts the runs in the background, in their own process sessions: they go on between
    calls while the machine stays warm. Each run's console goes to `<store>/<name>.out`."""
    for spec in arguments.runs:
        name, command = run_command(spec, arguments)
        out = STORE / f"{name}.out"
        with out.open("ab") as handle:
            process = subprocess.Popen(command, env=run_environment(), stdout=handle,
                                       stderr=subprocess.STDOUT, cwd=ROOT,
                                       start_new_session=True)
        (STORE / f"{name}.pid").write_text(str(process.pid))
        print(f"started {name} (pid {process.pid}): {' '.join(command[2:])}")
    return 0


def _states() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from cnn_course.runs import logs_folder

    return {run.name: run.folder.describe_state(run.record)
            for run in logs_folder.load(STORE / RUNS_LOGS).runs}


def there_wait(arguments) -> int:
    """Waits until every started run has ended, or `--seconds` passed; prints their states."""
    deadline = time.monotonic() + arguments.seconds
    while True:
        alive = []
        for pid_file in STORE.glob("*.pid"):
            try:
                os.kill(int(pid_file.read_text()), 0)
                alive.append(pid_file.stem)
            except (ProcessLookupError, ValueError):
                continue
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(5)
    for name, state in _states().items():
        print(f"{name}: {state}")
    print(f"still running: {alive}" if alive else "every run has ended")
    return 0


def there_pack(arguments) -> int:
    """Packs the complete runs (no checkpoints) into at most `--files` files of at most
    `--file-mib` MiB, with a manifest of checksums; the probe table comes along."""
    logs = STORE / RUNS_LOGS
    out = Path(arguments.out)
    return pack(logs, out, arguments.files, arguments.file_mib,
                extra=[STORE / "probe.md"] if (STORE / "probe.md").is_file() else [])


def pack(logs: Path, out: Path, files: int, file_mib: float, extra: list[Path] = ()) -> int:
    sys.path.insert(0, str(ROOT))
    from cnn_course.runs import logs_folder
    from cnn_course.runs.run_files import BACKUP_DIR_NAME

    complete = [run.folder for run in logs_folder.load(logs).complete]
    out.mkdir(parents=True, exist_ok=True)
    archive = out / "runs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for run in complete:
            tar.add(run.path, arcname=run.name,
                    filter=lambda info: None if f"/{BACKUP_DIR_NAME}" in f"/{info.name}" else info)
    limit = int(file_mib * MIB)
    parts = split_file(archive, out, limit) if archive.stat().st_size > limit else [archive]
    manifest = {"archive": archive.name, "sha256": sha256(archive),
                "parts": [part.name for part in parts], "runs": [run.name for run in complete]}
    if parts != [archive]:
        archive.unlink()
    for path in extra:
        shutil.copy2(path, out / path.name)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    count = len(list(out.iterdir()))
    if count > files or any(p.stat().st_size > limit for p in out.iterdir()):
        print(f"error: {count} files, some over {file_mib} MiB: more than one call can bring "
              f"back; pack fewer runs per call.", file=sys.stderr)
        return 1
    print(f"packed {len(complete)} runs ({', '.join(manifest['runs'])}) into {count} files")
    return 0


# --- here again ---------------------------------------------------------------------------------

def place(run, source: Path, overwrite: bool) -> None:
    """Puts a complete run folder trained on the GPU machine in `run`'s place as any
    replacement is put: staged beside it, then swapped in (`RunDir.promote`), its checkpoint
    dropped; a complete run there is kept unless `overwrite` (`RunError`)."""
    with run.locked(command=f"gpu_window unpack {source.name}"):
        run.recover()
        run.training_target(overwrite)  # refuses to replace a complete run unless overwrite
        staged = run.staging()
        staged.discard()
        shutil.move(str(source), str(staged.path))
        shutil.rmtree(staged.backup_path, ignore_errors=True)
        run.promote(staged)  # refuses a run that is not complete


def unpack(folder: Path, logs_dir: Path, overwrite: bool = False, verify: bool = True) -> int:
    """Joins and checks the archive, places each run under `logs_dir` (`place`: a complete run
    there is kept unless `overwrite`), then re-evaluates each on this machine."""
    sys.path.insert(0, str(ROOT))
    from cnn_course.runs.errors import RunError
    from cnn_course.runs.run_folder import RunDir

    manifest = json.loads((folder / "manifest.json").read_text())
    with tempfile.TemporaryDirectory(prefix="gpu-window-") as temporary:
        archive = Path(temporary) / manifest["archive"]
        with archive.open("wb") as out:
            for part in manifest["parts"]:
                out.write((folder / part).read_bytes())
        if sha256(archive) != manifest["sha256"]:
            print(f"error: the archive's checksum differs: a file of {folder} is missing or "
                  f"damaged; fetch them again.", file=sys.stderr)
            return 1
        extracted = Path(temporary) / "runs"
        with tarfile.open(archive) as tar:
            tar.extractall(extracted, filter="data")  # no absolute paths, no `..`, no links out
        failures = 0
        for name in manifest["runs"]:
            try:
                place(RunDir(logs_dir, name), extracted / name, overwrite)
                print(f"placed {logs_dir / name}")
            except RunError as error:
                failures += 1
                print(f"kept: {error}")
    if verify:
        from cnn_course.study.verify import verify_or_skip

        for name in manifest["runs"]:
            line = verify_or_skip(RunDir(logs_dir, name))
            failures += line.startswith("FAIL")
            print(line)
    return 1 if failures else 0


# --- the rehearsal ------------------------------------------------------------------------------

def rehearse(arguments) -> int:
    """Every stage on this machine: a temporary copy of the checkout stands in for the GPU
    machine (its /tmp store too), with the same size limits and `--epochs` epochs."""
    with tempfile.TemporaryDirectory(prefix="gpu-window-rehearsal-") as temporary:
        temporary = Path(temporary)
        there, store, back = temporary / "there", temporary / "store", temporary / "back"
        device = temporary / "device"
        code = prepare(argparse.Namespace(out=str(device), call_mib=arguments.call_mib,
                                          tree_mib=None, margin_mib=1.0, wheels=None,
                                          runs=list(DEFAULT_RUNS), stashed=False))
        if code:
            return code
        subprocess.run(["git", "clone", "-q", str(ROOT), str(there)], check=True)
        environment = {**os.environ, "GPU_WINDOW_STORE": str(store),
                       "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax"),
                       "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.3"}
        script = [sys.executable, str(there / "scripts" / "gpu_window.py")]
        steps = [["there", "keep", "--device-dir", str(device)], ["there", "setup"],
                 ["there", "probe", "--steps", "2", "--models", "cifar10_separable_net",
                  "--settings", "float32,1,128", "--sample"],
                 ["there", "start", "-p", f"epochs={arguments.epochs}",
                  *(["-p", "sample=True"] if arguments.sample else [])],
                 ["there", "wait", "--seconds", str(arguments.seconds)],
                 ["there", "pack", "--out", str(back)]]
        started = time.monotonic()
        for step in steps:
            print(f"--- {' '.join(step[:2])} ({time.monotonic() - started:.0f} s)", flush=True)
            if subprocess.run([*script, *step], env=environment, cwd=there).returncode:
                return 1
        print(f"--- back here: {sorted(p.name for p in back.iterdir())}")
        logs = temporary / "logs-here"
        here = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
        return subprocess.run([sys.executable, str(Path(__file__).resolve()), "unpack",
                               str(back), "--logs-dir", str(logs)], env=here).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="cut the data and wheels into calls (here)")
    p.add_argument("--out", default=str(DEVICE_DIR))
    p.add_argument("--call-mib", type=float, default=64, help="what one call may carry")
    p.add_argument("--tree-mib", type=float, default=None, help="default: measured")
    p.add_argument("--stashed", action="store_true",
                   help="plan for a tree without the committed models (run `stash` first)")
    p.add_argument("--margin-mib", type=float, default=1.0)
    p.add_argument("--wheels", default=None,
                   help="a folder of wheels (`../shared/bin/device-data wheels` makes one)")
    p.add_argument("--runs", nargs="+", default=None,
                   help="notebook:name=value,... for `there start` (default: what "
                        "logs/selection.yaml still needs, at most 3)")
    commands.add_parser("stash", help="set the committed models aside while calls travel (here)")
    commands.add_parser("unstash", help="put the stashed models back (here)")
    p = commands.add_parser("unpack", help="place the runs that came back (here)")
    p.add_argument("folder", type=Path)
    p.add_argument("--logs-dir", type=Path, default=ROOT / "logs")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--no-verify", action="store_true")
    p = commands.add_parser("rehearse", help="every stage here, a temporary folder as 'there'")
    p.add_argument("--call-mib", type=float, default=64)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--sample", action="store_true", help="the embedded sample, not CIFAR-10")
    p.add_argument("--seconds", type=int, default=3600)
    there = commands.add_parser("there", help="a stage on the GPU machine")
    stages = there.add_subparsers(dest="stage", required=True)
    p = stages.add_parser("keep")
    p.add_argument("--device-dir", default=str(DEVICE_DIR))
    stages.add_parser("setup")
    p = stages.add_parser("probe")
    p.add_argument("--models", default="cifar10_base_net,cifar10_separable_net")
    p.add_argument("--settings", nargs="+", default=list(DEFAULT_PROBE))
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--sample", action="store_true")
    p.add_argument("--timeout", type=int, default=300)
    p = stages.add_parser("start")
    p.add_argument("--runs", nargs="+", default=list(DEFAULT_RUNS),
                   help="notebook:name=value,... (default: %(default)s)")
    p.add_argument("-p", "--parameter", action="append", default=[],
                   help="name=value for every run")
    p = stages.add_parser("wait")
    p.add_argument("--seconds", type=int, default=540)
    p = stages.add_parser("pack")
    p.add_argument("--out", required=True)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--file-mib", type=float, default=16)
    arguments = parser.parse_args(argv)
    if arguments.command == "prepare":
        return prepare(arguments)
    if arguments.command == "stash":
        return stash()
    if arguments.command == "unstash":
        return unstash()
    if arguments.command == "unpack":
        return unpack(arguments.folder, arguments.logs_dir, arguments.overwrite,
                      not arguments.no_verify)
    if arguments.command == "rehearse":
        return rehearse(arguments)
    return {"keep": there_keep, "setup": there_setup, "probe": there_probe, "start": there_start,
            "wait": there_wait, "pack": there_pack}[arguments.stage](arguments)


if __name__ == "__main__":
    sys.exit(main())
