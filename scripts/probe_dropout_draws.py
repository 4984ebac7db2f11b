"""What the student's dropout costs in random numbers on this CPU, and what 16-bit draws
would save (docs/speed.md, "Not reached"): the forward pass of its three dropouts (rate 0.1,
batch 128: 8.5 M activations) under TensorFlow, compiled as `tf.function`, 20 calls a round.

    python scripts/probe_dropout_draws.py [--rounds 3]

`keras` is the student's own layer, `FastDropout` (Keras' draw: one float32 Philox number per
activation);
`16-bit` draws half as many 32-bit numbers and compares each half with round(rate * 65536)
(a rate within 1e-5 of 0.1, but not Keras' mask); `no draw` only scales.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # the course's CPU default
import tensorflow as tf  # noqa: E402

from cnn_course.models.fast_layers import FastDropout  # noqa: E402

SHAPES = [(128, 32, 32, 32), (128, 16, 16, 96), (128, 8, 8, 152)]  # after each stage
RATE = 0.1


def sixteen_bit_draw(x, seed):
    count = tf.size(x)
    bits = tf.random.stateless_uniform([(count + 1) // 2], seed=seed, minval=None,
                                       maxval=None, dtype=tf.uint32)
    halves = tf.reshape(tf.bitcast(bits, tf.uint16), [-1])[:count]
    keep = tf.reshape(tf.cast(halves, tf.int32) >= round(RATE * 65536), tf.shape(x))
    return tf.where(keep, x * (1 / (1 - RATE)), tf.zeros_like(x))


def no_draw(x, seed):
    return x * (1 / (1 - RATE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    inputs = [tf.random.normal(shape) for shape in SHAPES]
    seed = tf.constant([1, 2], tf.int32)
    layers = [FastDropout(RATE, seed=index) for index in range(len(inputs))]
    variants = {"keras": tf.function(lambda seed: [layer(x, training=True)
                                                   for layer, x in zip(layers, inputs)])}
    variants.update({name: tf.function(lambda seed, draw=draw: [draw(x, seed) for x in inputs])
                     for name, draw in (("16-bit", sixteen_bit_draw), ("no draw", no_draw))})
    for variant in variants.values():
        variant(seed)  # traces and warms up
    for round_index in range(arguments.rounds):
        for name, variant in variants.items():
            start = time.perf_counter()
            for _ in range(20):
                outputs = variant(seed)
            outputs[0].numpy()
            print(f"round {round_index}: {name}: "
                  f"{(time.perf_counter() - start) / 20 * 1e3:.1f} ms a step", flush=True)


if __name__ == "__main__":
    main()
