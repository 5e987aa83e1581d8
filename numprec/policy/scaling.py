"""FP8 per-tensor scaling: the scale from an amax, and delayed scaling from an amax history.

Transformer Engine's delayed-scaling recipe: every quantized tensor keeps a window of its recent
amax values; the scale used now is (fp8_max / max(window)) / 2^margin, computed in float32 from
*past* steps, and the previous scale is kept when that amax is zero or not finite. Quantized
values are round(x * scale) with saturation; the engine keeps them dequantized as
q * float32(1 / scale), which float64 holds exactly.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..formats import get_format
from .casting import f32, round_to


def scale_from_amax(amax: float, fmt_max: float, margin: int = 0, previous: float = 1.0) -> float:
    """(fmt_max / amax) / 2^margin in float32; `previous` when amax is 0 or not finite (or the
    scale itself would overflow float32)."""
    if not math.isfinite(amax) or amax <= 0.0:
        return previous
    scale = f32(f32(fmt_max / amax) / 2.0 ** margin)
    return scale if math.isfinite(scale) and scale > 0.0 else previous


class DelayedScaling:
    """Delayed per-tensor scaling of one tensor into an FP8 (or any) format.

    history_len: how many past amax values the window keeps (Transformer Engine's
    amax_history_len); margin: extra headroom, in powers of two. The first scale is 1.0.
    """

    def __init__(self, fmt="fp8_e4m3fn", history_len: int = 1024, margin: int = 0):
        self.format = get_format(fmt)
        if isinstance(history_len, bool) or not isinstance(history_len, int) or history_len < 1:
            raise ValueError(f"history_len must be a positive int, got {history_len!r}")
        if isinstance(margin, bool) or not isinstance(margin, int):
            raise ValueError(f"margin must be an int, got {margin!r}")
        self.history = deque(maxlen=history_len)
        self.margin = margin
        self.scale = 1.0

    @property
    def amax(self) -> float:
        """The amax the next scale is computed from (max over the window; 0 when empty)."""
        return max(self.history, default=0.0)

    def record(self, amax: float) -> float:
        """Append one step's amax and recompute the scale for the next use; returns it."""
        self.history.append(float(amax))
        self.scale = scale_from_amax(self.amax, self.format.max, self.margin, self.scale)
        return self.scale

    def quantize(self, x: np.ndarray, mode: str = "rne", policy_seed: int = 0) -> np.ndarray:
        """x quantized with the current (delayed) scale, dequantized; then x's amax is recorded."""
        out = self.dequantized(x, self.scale, self.format, mode, policy_seed)
        amax = float(np.max(np.abs(x))) if x.size else 0.0
        self.record(amax)
        return out

    @staticmethod
    def dequantized(x: np.ndarray, scale: float, fmt, mode: str = "rne",
                    policy_seed: int = 0) -> np.ndarray:
        """round(x * scale, fmt) with saturation, times float32(1 / scale)."""
        q = round_to(x * scale, fmt, mode, policy_seed, saturate=True)
        return q * f32(1.0 / scale)

    def state_dict(self) -> dict:
        return {"scale": self.scale, "history": list(self.history), "margin": self.margin,
                "format": self.format.name, "history_len": self.history.maxlen}

    def __repr__(self) -> str:
        return (f"DelayedScaling({self.format.name}, history_len={self.history.maxlen}, "
                f"margin={self.margin}, scale={self.scale!r})")
