"""Keras' BatchNormalization and Dropout on TensorFlow's faster CPU kernels, and
RandomTranslation as two small matrix products off TensorFlow: the same layers, the same numbers,
fewer passes over memory.

On the course's 2-core CPUs the student spent a third of its step in BatchNorm and a sixth in
Dropout (the profile in docs/speed.md). Keras 3's `BatchNormalization` computes the batch
moments, then normalizes, as separate ops on every backend (keras-core#225), where tf.keras ran
TensorFlow's `FusedBatchNormV3`: one pass for the statistics, one for the output, forward and
backward. Keras' `Dropout` multiplies by a cast mask where one select does. Each layer here
takes its fast path only where it applies (TensorFlow, training) and is Keras' own layer
everywhere else, so JAX, torch, inference and saved models behave exactly as Keras' layers;
`tests/test_fast_layers.py` checks outputs, gradients, moving statistics, the dropout mask and a
saved model against them.

`FastRandomTranslation` is the other way round: TensorFlow's own image-warp kernel is fast, but
Keras marks RandomTranslation as not compilable (TensorFlow's kernel has no XLA form), so under
JAX a model holding it ran without XLA, op by op (a model of the layer alone: 39.0 ms a step on
2 CPU cores, 3.2 ms with this layer; scripts/time_augmentation.py). On the lent H200 the
student's augmented step took 349 ms against 9.7 ms without augmentation (docs/gpu.md). A
translation with bilinear interpolation and a constant fill is separable: each output row mixes
at most two input rows, so it is one (height x height) and one (width x width) matrix per image,
built from the shifts Keras draws.
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


def translation_matrices(shifts, size: int, backend):
    """(batch, size, size) matrices that move each image's rows (or columns) by `shifts` pixels
    (batch,) with bilinear interpolation, in `backend` (a layer's, which is TensorFlow inside
    tf.data): output index i reads input position i - shift, so entry
    (i, k) is the triangle weight max(0, 1 - |k - (i - shift)|); positions outside weigh nothing."""
    numpy = backend.numpy
    index = numpy.arange(size, dtype="float32")
    position = (numpy.reshape(index, (1, size, 1))
                - numpy.reshape(backend.cast(shifts, "float32"), (-1, 1, 1)))
    return numpy.maximum(0.0, 1.0 - numpy.abs(numpy.reshape(index, (1, 1, size)) - position))


@keras.saving.register_keras_serializable(package="cnn_course")
class FastRandomTranslation(keras.layers.RandomTranslation):
    """`keras.layers.RandomTranslation`, the same random shifts, warped by matrix products off
    TensorFlow (bilinear, constant fill, channels-last, batched); Keras' own warp elsewhere.
    Keras marks its RandomTranslation as not compilable with XLA (TensorFlow's warp kernel has
    none), which under JAX turns `jit_compile` off for the whole model: the student trained op
    by op. Under JAX both warps are jittable, so this layer keeps the model compiled there."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if keras.backend.backend() == "jax":
            self.supports_jit = True

    def _translate_inputs(self, inputs, transformation, interpolation):  # Keras >= 3.6
        if not (transformation is not None and not _on_tensorflow()
                and interpolation == "bilinear" and self.fill_mode == "constant"
                and self.data_format == "channels_last" and len(inputs.shape) == 4):
            return super()._translate_inputs(inputs, transformation, interpolation)
        height, width = inputs.shape[1], inputs.shape[2]
        translations = transformation["translations"]  # (batch, [dx, dy]) in pixels
        rows = translation_matrices(translations[:, 1], height, self.backend)
        columns = translation_matrices(translations[:, 0], width, self.backend)
        # A constant fill is the fill added back to a zero-filled warp of (inputs - fill): the
        # weights of each output pixel sum to 1 over the whole (infinite) input plane.
        fill = self.backend.cast(self.fill_value, inputs.dtype)
        shifted = self._exact_einsum("bik,bkwc->biwc", self.backend.cast(rows, inputs.dtype),
                                     inputs - fill)
        shifted = self._exact_einsum("bjw,biwc->bijc",
                                     self.backend.cast(columns, inputs.dtype), shifted)
        return shifted + fill

    def _exact_einsum(self, subscripts: str, weights, images):
        """The backend's einsum in full float32: JAX multiplies float32 matrices on a GPU in
        TF32 by default (10-bit mantissas: off by up to 0.15 on a 0-255 pixel on the H200),
        which would make the warp differ from Keras' own."""
        if self.backend.name == "jax":
            import jax  # only reached under the JAX backend

            return jax.numpy.einsum(subscripts, weights, images,
                                    precision=jax.lax.Precision.HIGHEST)
        return self.backend.numpy.einsum(subscripts, weights, images)
