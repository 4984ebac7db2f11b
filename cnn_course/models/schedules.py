"""Learning-rate schedules used by the course's recipes.

Built from Keras' own schedules, so a saved `.keras` model loads with plain Keras (a custom
schedule class would make `load_model` fail wherever this package is not imported).
"""

from __future__ import annotations

import keras


def one_cycle(max_rate: float, total_steps: int, warmup_fraction: float = 0.25,
              initial_div: float = 25.0, final_div: float = 1e3
              ) -> keras.optimizers.schedules.CosineDecay:
    """Smith's one-cycle policy: linear warm-up from `max_rate / initial_div` to `max_rate`
    over the first `warmup_fraction` of `total_steps`, then cosine decay to
    `max_rate / final_div`. Large rates early regularise; the long anneal settles the weights,
    which is what lets small networks hold their accuracy over the last epochs.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1; received total_steps={total_steps}")
    if not 0 <= warmup_fraction < 1:
        raise ValueError(
            f"warmup_fraction must be in [0, 1); received warmup_fraction={warmup_fraction}"
        )
    warmup_steps = max(int(round(total_steps * warmup_fraction)), 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=max_rate / initial_div,
        decay_steps=max(total_steps - warmup_steps, 1),
        alpha=1.0 / final_div,
        warmup_target=max_rate,
        warmup_steps=warmup_steps,
    )
