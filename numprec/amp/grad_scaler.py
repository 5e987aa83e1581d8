"""Dynamic loss scaling with exactly the semantics of torch.amp.GradScaler.

The scale is a float32 (kept here as the Python float of a float32 value), created lazily by the
first `scale()`. `unscale_` multiplies every gradient by the float32 of the float64 reciprocal of
the scale (gradients narrower than fp32 are multiplied in fp32 and rounded back, fp16 gradients
are refused as PyTorch does) and records whether any gradient held inf/NaN; `step` skips the
optimizer step when one did; `update` backs off on overflow (scale *= backoff, growth tracker
reset) and otherwise grows the scale after `growth_interval` clean steps unless the grown float32
would be inf. PyTorch's assertions are raised here as RuntimeError with the same messages.
"""
from __future__ import annotations

import math
from enum import Enum

import numpy as np

from ..autodiff.observe import UnscaleRecord, notify, observing, step_ended
from ..formats import get_format
from ..ops.flags import Flags
from ..policy.casting import counting, f32, round_to

_FP32, _FP16, _FP64 = get_format("fp32"), get_format("fp16"), get_format("fp64")


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict:
    return {"stage": OptState.READY, "found_inf": None}


def unscale_grads(optimizer, inv_scale: float, allow_fp16: bool):
    """Multiply every gradient by inv_scale in place (PyTorch's
    _amp_foreach_non_finite_check_and_unscale_); None when the optimizer has no gradients,
    else whether any gradient held inf/NaN."""
    found, seen, watched = False, False, observing()
    for group in optimizer.param_groups:
        for param in group["params"]:
            if param.grad is None:
                continue
            if not allow_fp16 and param.format == _FP16:
                raise ValueError("Attempting to unscale FP16 gradients.")
            seen = True
            grad = param.grad
            found = found or not bool(np.all(np.isfinite(grad)))
            if inv_scale == 1.0:
                if watched:
                    notify(UnscaleRecord(param, grad, grad, Flags()))
                continue
            flags = Flags() if watched else None
            with counting(flags):  # None: count nothing, as outside any observer
                product = grad * inv_scale  # exact in float64 for formats up to 29 bits
                if param.format != _FP64:
                    product = round_to(product, _FP32)  # the fp32 opmath product
                    if param.format != _FP32:
                        product = round_to(product, param.format)
            param.grad = np.asarray(product)
            if watched:
                notify(UnscaleRecord(param, grad, param.grad, flags))
    return found if seen else None


def check_scale(value, name: str) -> float:
    """A loss scale must be a positive number that is finite in float32: a negative scale flips
    every gradient, zero erases them, inf or NaN poisons them."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__} "
                        f"{value!r}")
    if not (math.isfinite(value) and value > 0 and math.isfinite(f32(value)) and f32(value) > 0):
        raise ValueError(f"{name} must be a positive number finite in float32 (a negative "
                         f"scale flips every gradient, zero erases them, inf/NaN poisons them), "
                         f"got {value!r}")
    return float(value)


class GradScaler:
    """torch.amp.GradScaler for numprec optimizers (see the module docstring)."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True):
        self._enabled = bool(enabled)
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"The growth factor must be > 1.0, got {growth_factor!r}")
            if not backoff_factor < 1.0:
                raise ValueError(f"The backoff factor must be < 1.0, got {backoff_factor!r}")
            if not backoff_factor > 0.0:
                raise ValueError(f"The backoff factor must be > 0 (a zero or negative factor "
                                 f"would zero or flip the scale), got {backoff_factor!r}")
            check_scale(init_scale, "init_scale")
            if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) \
                    or growth_interval < 1:
                raise ValueError(f"growth_interval must be a positive int, got {growth_interval!r}")
        self._init_scale = init_scale
        self._scale = None              # float32 value, created by the first scale()
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker = None
        self._per_optimizer_states: dict = {}

    # --- the training-loop API -----------------------------------------------------------------
    def scale(self, outputs):
        """outputs * scale (a Tensor, or a list/tuple of them)."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = f32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(item) for item in outputs)
        if not hasattr(outputs, "format"):
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return outputs * self._scale  # a Python float: the result keeps the tensor's format

    def unscale_(self, optimizer) -> None:
        """Divide the optimizer's gradients by the scale (once per step) and check them."""
        if not self._enabled:
            return
        self._check_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = f32(1.0 / self._scale)  # reciprocal in float64, then float32
        state["found_inf"] = unscale_grads(optimizer, inv_scale, allow_fp16=False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless done), then optimizer.step() unless a gradient was inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale("step")
        state = self._state(optimizer)
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise RuntimeError("No inf checks were recorded for this optimizer.")
        retval = None
        if not state["found_inf"]:
            retval = optimizer.step(*args, **kwargs)
        else:
            step_ended(optimizer, skipped=True)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """Back off after an overflow, grow after growth_interval clean steps, or set new_scale."""
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            if hasattr(new_scale, "format"):
                if new_scale.data.size != 1 or new_scale.requires_grad:
                    raise RuntimeError("new_scale should be a float or a 1-element Tensor with "
                                       "requires_grad=False.")
                new_scale = new_scale.item()
            self._scale = f32(check_scale(new_scale, "new_scale"))
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("No inf checks were recorded prior to update.")
            self._scale, self._growth_tracker = update_scale(
                self._scale, self._growth_tracker, any(found), self._growth_factor,
                self._backoff_factor, self._growth_interval)
        self._per_optimizer_states = {}

    # --- inspection and checkpoints ------------------------------------------------------------
    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        return self._enabled

    def found_inf(self, optimizer) -> bool | None:
        """Whether this step's unscale found inf/NaN in the optimizer's gradients."""
        return self._per_optimizer_states.get(id(optimizer), _fresh_state())["found_inf"]

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self.get_growth_tracker()}

    def load_state_dict(self, state: dict) -> None:
        if not self._enabled:
            return
        if len(state) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state["scale"]
        if self._scale is not None:
            self._scale = f32(state["scale"])
        self._growth_factor = state["growth_factor"]
        self._backoff_factor = state["backoff_factor"]
        self._growth_interval = state["growth_interval"]
        self._init_growth_tracker = state["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = int(state["_growth_tracker"])

    # --- internals -----------------------------------------------------------------------------
    def _state(self, optimizer) -> dict:
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def _check_scale(self, funcname: str) -> None:
        if self._scale is None:
            raise RuntimeError(f"Attempted {funcname} but _scale is None.  This may indicate your "
                               "script did not use scaler.scale(loss or outputs) earlier in the "
                               "iteration.")


def update_scale(scale: float, tracker: int, found_inf: bool, growth_factor: float,
                 backoff_factor: float, growth_interval: int):
    """PyTorch's _amp_update_scale_: the new (float32 scale, growth tracker)."""
    if found_inf:
        return f32(scale * backoff_factor), 0
    successful = tracker + 1
    if successful == growth_interval:
        grown = f32(scale * growth_factor)
        return (grown if math.isfinite(grown) else scale), 0
    return scale, successful
