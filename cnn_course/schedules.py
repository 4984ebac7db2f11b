"""Learning-rate schedules used by the course's recipes (backend-agnostic, serializable)."""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnn_course")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Smith's one-cycle policy: linear warm-up from `max_rate / initial_div` to `max_rate`
    over the first `warmup_fraction` of `total_steps`, then cosine decay to
    `max_rate / final_div`. Large rates early regularise; the long anneal settles the weights,
    which is what lets small networks hold their accuracy over the last epochs.
    """

    def __init__(self, max_rate: float, total_steps: int, warmup_fraction: float = 0.25,
                 initial_div: float = 25.0, final_div: float = 1e3):
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1; received total_steps={total_steps}")
        if not 0 <= warmup_fraction < 1:
            raise ValueError(
                f"warmup_fraction must be in [0, 1); received warmup_fraction={warmup_fraction}"
            )
        self.max_rate = float(max_rate)
        self.total_steps = int(total_steps)
        self.warmup_fraction = float(warmup_fraction)
        self.initial_div = float(initial_div)
        self.final_div = float(final_div)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = max(self.total_steps * self.warmup_fraction, 1.0)
        start = self.max_rate / self.initial_div
        end = self.max_rate / self.final_div
        rising = start + (self.max_rate - start) * step / warmup
        progress = ops.clip((step - warmup) / max(self.total_steps - warmup, 1.0), 0.0, 1.0)
        falling = end + (self.max_rate - end) * 0.5 * (1.0 + ops.cos(math.pi * progress))
        return ops.where(step < warmup, rising, falling)

    def get_config(self):
        return {"max_rate": self.max_rate, "total_steps": self.total_steps,
                "warmup_fraction": self.warmup_fraction, "initial_div": self.initial_div,
                "final_div": self.final_div}
