"""Seconds per CIFAR-10 epoch of the student and the base under each speed setting, as ratios
against Keras' defaults, timed in fresh interleaved processes (the measurement behind
docs/speed.md).

    python scripts/benchmark_speed.py                       # before and now, 3 rounds
    python scripts/benchmark_speed.py --models cifar10_separable_net --settings \
        "keras layers, oneDNN off" "course defaults" "course defaults, 1 inter-op thread"
    python scripts/benchmark_speed.py --profile cifar10_separable_net   # where a step's time goes

Each measurement is one process: the model as notebooks 02/03 build and compile it (recipe,
augmentation, one-cycle SGD), `--epochs` short epochs of `--steps` steps on the real training
images; epoch 1 (tracing, warm-up) is excluded and each figure is scaled to a full epoch of 391
steps. Processes alternate setting by setting, round by round, so a busy neighbour slows every
setting alike. Needs the full dataset (CNN_COURSE_DATA_DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from cnn_course import environment

FULL_EPOCH_STEPS = 391  # ceil(50000 / 128): one epoch of the full training set
# Each setting: the environment of its process, whether its BatchNorm and Dropout layers are
# Keras' own ("keras": the code before docs/speed.md) or the course's fast layers, and a Keras
# dtype policy when not float32 (the notebooks' `precision` parameter).
COURSE_ENVIRONMENT = environment.FAST_CPU_ENVIRONMENT  # what every run starts with
SETTINGS = {
    "keras layers (before)": ({}, "keras"),
    "keras layers, oneDNN off": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, "keras"),
    "course defaults": (COURSE_ENVIRONMENT, "fast"),
    "course defaults, oneDNN off": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, "fast"),
    # An AVX2-only CPU (no AVX-512), as most laptops: oneDNN's kernels limited to AVX2.
    "course defaults, AVX2 only": ({**COURSE_ENVIRONMENT, "ONEDNN_MAX_CPU_ISA": "AVX2"}, "fast"),
    "keras layers, oneDNN off, AVX2 only": ({"TF_ENABLE_ONEDNN_OPTS": "0",
                                              "ONEDNN_MAX_CPU_ISA": "AVX2"}, "keras"),
    "course defaults, BFC allocator": ({**COURSE_ENVIRONMENT, "TF_CPU_ALLOCATOR_USE_BFC": "true"},
                                       "fast"),
    "course defaults, 1 inter-op thread": ({**COURSE_ENVIRONMENT, "TF_NUM_INTEROP_THREADS": "1"},
                                           "fast"),
    "course defaults, 4 intra-op threads": (
        {**COURSE_ENVIRONMENT, "TF_NUM_INTRAOP_THREADS": "4"}, "fast"),
    # bfloat16 convolutions: this CPU has AVX-512 BF16, which oneDNN uses.
    "course defaults, mixed_bfloat16": (COURSE_ENVIRONMENT, "fast", "mixed_bfloat16"),
}


def child(model_name: str, layers: str, steps: int, epochs: int, profile: str | None,
          precision: str = "float32") -> None:
    import keras

    from cnn_course import data, models
    from cnn_course.models import fast_layers
    from cnn_course.models import recipes

    if layers == "keras":  # the builders' fast layers swapped back for Keras' own
        fast_layers.FusedBatchNormalization.call = keras.layers.BatchNormalization.call
        fast_layers.FastDropout.call = keras.layers.Dropout.call
    keras.config.set_dtype_policy(precision)
    environment.set_seed(0)  # deterministic ops, as every logged run
    (x, y), _ = data.load("cifar10")
    x, y = x[: steps * 128], y[: steps * 128]
    recipe = recipes.CIFAR10
    if model_name == "cifar10_separable_net":
        model = models.build(model_name, augmentation=recipe.augmentation())
    else:
        model = models.build(model_name)
    recipe.compile(model, len(x), epochs)
    times: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    callbacks = [EpochTimer()]
    if profile:
        callbacks.append(keras.callbacks.TensorBoard(profile, profile_batch=(steps + 5, steps + 14)))
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=0, callbacks=callbacks)
    print(json.dumps({"seconds_per_epoch": [t * FULL_EPOCH_STEPS / steps for t in times[1:]]}))


def _kind(op_name: str) -> str:
    """Where an op of the student's graph belongs, by the layer that made it."""
    for part, kind in (("augmentation", "augmentation"), ("dropout", "dropout"),
                       ("_bn", "batch norm")):
        if part in op_name:
            return kind
    if "conv" in op_name or "classifier" in op_name:
        return "depthwise conv" if "Depthwise" in op_name else "pointwise conv"
    if "SGD" in op_name or "Assign" in op_name:
        return "optimizer"
    return "other"


def print_profile_split(folder: str) -> None:
    """The profiled steps' op time on TensorFlow's compute threads, by kind of layer."""
    import collections
    import glob

    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(sorted(glob.glob(f"{folder}/train/plugins/profile/*/*.xplane.pb"))[-1], "rb") as file:
        space.ParseFromString(file.read())
    host = space.planes[0]
    names = {key: value.name for key, value in host.event_metadata.items()}
    milliseconds: collections.Counter = collections.Counter()
    for line in host.lines:
        if line.name.startswith("tf_Compute"):
            for event in line.events:
                name = names[event.metadata_id]
                if ":" in name and not name.startswith("Executor"):  # an op, not a scheduler
                    milliseconds[_kind(name)] += event.duration_ps / 1e9
    total = sum(milliseconds.values())
    print("| kind | ms of op time over 10 steps | share |\n|---|--:|--:|")
    for kind, value in milliseconds.most_common():
        print(f"| {kind} | {value:.0f} | {100 * value / total:.1f}% |")


def measure(model_name: str, setting: str, steps: int, epochs: int) -> float:
    variables, layers, *precision = SETTINGS[setting]
    result = subprocess.run(
        [sys.executable, __file__, "--child", model_name, "--layers", layers,
         "--steps", str(steps), "--epochs", str(epochs), "--precision", *(precision or ["float32"])],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **variables},
        capture_output=True, text=True, check=True)
    return min(json.loads(result.stdout.strip().splitlines()[-1])["seconds_per_epoch"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", metavar="MODEL",
                        default=["cifar10_separable_net", "cifar10_base_net"])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), metavar="SETTING",
                        default=["keras layers (before)", "course defaults"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60, help="steps per short epoch")
    parser.add_argument("--epochs", type=int, default=3, help="short epochs (the first excluded)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--layers", default="fast", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="MODEL",
                        help="profile 10 steps of MODEL into logs-profile/ (TensorBoard)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.layers, args.steps, args.epochs, None, args.precision)
        return
    if args.profile:
        child(args.profile, args.layers, args.steps, 2, "logs-profile")
        print_profile_split("logs-profile")
        print("profile in logs-profile/ (tensorboard --logdir logs-profile, Profile tab)")
        return
    print(f"{os.cpu_count()} CPU cores; {args.rounds} processes per setting, seconds per full "
          f"epoch ({FULL_EPOCH_STEPS} steps) from {args.steps}-step epochs, epoch 1 excluded")
    for model_name in args.models:
        seconds: dict[str, list[float]] = {setting: [] for setting in args.settings}
        for _ in range(args.rounds):
            for setting in args.settings:
                started = time.perf_counter()
                seconds[setting].append(measure(model_name, setting, args.steps, args.epochs))
                print(f"  {model_name} {setting}: {seconds[setting][-1]:.1f} s/epoch "
                      f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        reference = statistics.median(seconds[args.settings[0]])
        print(f"\n{model_name}\n| setting | min s/epoch | median s/epoch | x faster (median) |\n"
              f"|---|--:|--:|--:|")
        for setting, values in seconds.items():
            median = statistics.median(values)
            print(f"| {setting} | {min(values):.1f} | {median:.1f} | {reference / median:.2f} |")


if __name__ == "__main__":
    main()
