"""Milliseconds per training step of a course model on the real data (CPU or GPU).

    python scripts/benchmark_steps.py cifar10_base_net              # TF, XLA off
    python scripts/benchmark_steps.py cifar10_base_net --jit        # XLA on
    KERAS_BACKEND=jax python scripts/benchmark_steps.py cifar10_base_net --jit

Needs the full dataset (CNN_COURSE_DATA_DIR). Each call is a fresh process: on the 2-core
course machines step times were bimodal between processes, so run it several times.
"""

from __future__ import annotations

import argparse
import json
import time

import keras

from cnn_course import data, models
from cnn_course.models import training
from cnn_course import environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(models.MODELS))
    parser.add_argument("--jit", action="store_true", help="jit_compile=True (XLA)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--kwargs", default="{}", help='builder arguments as JSON, e.g. '
                        '\'{"widths": [48, 96, 128]}\'')
    args = parser.parse_args()
    environment.set_seed(0, deterministic=False)
    (x, y), _ = data.load(models.dataset_of(args.model))
    x, y = x[: args.batch_size * args.steps], y[: args.batch_size * args.steps]
    kwargs = {key: tuple(value) if isinstance(value, list) else value
              for key, value in json.loads(args.kwargs).items()}
    model = models.build(args.model, **kwargs)
    training.compile_classifier(model, keras.optimizers.Adam(), jit_compile=args.jit)
    batches = training.EpochBatches(x, y, args.batch_size)
    model.fit(batches, epochs=1, steps_per_epoch=5, verbose=0)  # compile and warm up
    started = time.perf_counter()
    model.fit(batches, epochs=1, verbose=0)
    per_step = 1000 * (time.perf_counter() - started) / len(batches)
    print(f"{args.model} {kwargs} params={model.count_params():,} "
          f"backend={keras.backend.backend()} jit={args.jit} "
          f"device={environment.device_name()}: {per_step:.0f} ms/step")


if __name__ == "__main__":
    main()
