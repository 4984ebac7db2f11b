"""Keras' BatchNormalization and Dropout on TensorFlow's faster CPU kernels: the same layers,
the same numbers, fewer passes over memory.

On the course's 2-core CPUs the student spent a third of its step in BatchNorm and a sixth in
Dropout (the profile in docs/speed.md). Keras 3's `BatchNormalization` computes the batch
moments, then normalizes, as separate ops on every backend (keras-core#225), where tf.keras ran
TensorFlow's `FusedBatchNormV3`: one pass for the statistics, one for the output, forward and
backward. Keras' `Dropout` multiplies by a cast mask where one select does. Each layer here
takes its fast path only where it applies (TensorFlow, training) and is Keras' own layer
everywhere else, so JAX, torch, inference and saved models behave exactly as Keras' layers;
`tests/test_fast_layers.py` checks outputs, gradients, moving statistics, the dropout mask and a
saved model against them.
"""

from __future__ import annotations

import keras


def _on_tensorflow() -> bool:
    return keras.backend.backend() == "tensorflow"


@keras.saving.register_keras_serializable(package="cnn_course")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization`, trained with TensorFlow's fused kernel (4-D
    channels-last float32 inputs, no mask, no renorm). Same arguments, weights and config."""

    def _fuses(self, inputs, training, mask) -> bool:
        return (
            bool(training) and self.trainable and mask is None
            and not getattr(self, "renorm", False)  # absent from older Keras
            and not getattr(self, "synchronized", False) and _on_tensorflow()
            and len(inputs.shape) == 4 and self.axis in (-1, 3)
            and keras.backend.standardize_dtype(inputs.dtype) == "float32"
            and self.compute_dtype == "float32"
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fuses(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf  # only reached under the TensorFlow backend

        channels = inputs.shape[-1]
        scale = self.gamma if self.scale else tf.ones((channels,), inputs.dtype)
        offset = self.beta if self.center else tf.zeros((channels,), inputs.dtype)
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, scale, offset, epsilon=self.epsilon, data_format="NHWC",
            is_training=True)
        # The kernel returns the unbiased (n - 1) batch variance; Keras averages the biased one.
        count = tf.cast(tf.size(inputs) // channels, variance.dtype)
        variance = variance * (count - 1.0) / count
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs


@keras.saving.register_keras_serializable(package="cnn_course")
class FastDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` with the same mask from the same seed: under TensorFlow the kept
    values are selected (`tf.where`) instead of multiplied by a cast mask."""

    def call(self, inputs, training=False):
        if not (training and 0 < self.rate < 1 and self.noise_shape is None
                and _on_tensorflow()):
            return super().call(inputs, training=training)
        import tensorflow as tf  # only reached under the TensorFlow backend

        # Keras' own draw (`tf.nn.experimental.stateless_dropout` on the same seed): the same
        # uniform numbers, so the same mask.
        seed = self.seed_generator.next()
        if keras.backend.standardize_dtype(seed.dtype) != "int32":  # as Keras casts it
            seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), "int32")
        uniform = tf.random.stateless_uniform(tf.shape(inputs), seed=seed, dtype=inputs.dtype)
        return tf.where(uniform >= self.rate, inputs * (1.0 / (1.0 - self.rate)),
                        tf.zeros_like(inputs))
