"""A static loss scale (Micikevicius et al., 2018) with GradScaler's interface."""
from __future__ import annotations

from ..policy.casting import f32
from ..autodiff.observe import step_ended
from .grad_scaler import check_scale, unscale_grads


class StaticLossScaler:
    """Multiply the loss by a fixed float32 scale and the gradients by its inverse.

    Unlike GradScaler the scale never changes; fp16 gradients are allowed (pure-fp16 training).
    skip_nonfinite=True skips the optimizer step when a gradient is inf/NaN (counted in
    `skipped_steps`); False steps anyway, letting the overflow reach the weights.
    """

    def __init__(self, scale: float = 2.0 ** 10, skip_nonfinite: bool = True):
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        self._scale = f32(check_scale(scale, "scale"))
        self.skip_nonfinite = bool(skip_nonfinite)
        self.skipped_steps = 0
        self._found = {}

    def scale(self, outputs):
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(item) for item in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer) -> None:
        if id(optimizer) in self._found:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        self._found[id(optimizer)] = unscale_grads(optimizer, f32(1.0 / self._scale),
                                                   allow_fp16=True)

    def step(self, optimizer, *args, **kwargs):
        if id(optimizer) not in self._found:
            self.unscale_(optimizer)
        if self._found[id(optimizer)] and self.skip_nonfinite:
            self.skipped_steps += 1
            step_ended(optimizer, skipped=True)
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        if new_scale is not None:
            self._scale = f32(new_scale)
        self._found = {}

    def found_inf(self, optimizer):
        return self._found.get(id(optimizer))

    def get_scale(self) -> float:
        return self._scale

    def is_enabled(self) -> bool:
        return True
