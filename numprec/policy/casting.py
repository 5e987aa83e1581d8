"""Casting values between formats, for the engine, the optimizers and the scalers.

`round_to` is the one rounding helper above numprec.ops: every value the engine stores (an op's
output, a gradient, a weight, optimizer state, a loss scale) is rounded through it, so the
policy's rounding mode and its stochastic-rounding streams apply everywhere. `f32` rounds one
number to float32 (the scalers' arithmetic). `contains` and `widest` are the format relations
that decide when a cast is exact and which format a mixed op runs in (PyTorch-style promotion).

`counting(flags)` routes the exception flags and events of every rounding inside it (round_to,
and the accumulations and arithmetic of numprec.policy.OpArithmetic) into one numprec.Flags:
that is how observers of a run see the events the kernels themselves counted. Outside it no
flags are counted (the kernels skip the tally).
"""
from __future__ import annotations

import threading

import numpy as np

from .. import ops as _ops
from ..formats import Format, get_format
from .streams import next_rounding_seed

FP64 = get_format("fp64")
FP32 = get_format("fp32")
WEAK = "weak"  # format of a Python number operand: it takes the format of the op's inputs

_sink = threading.local()


def current_flags():
    """The Flags that roundings count into now (None outside `counting`)."""
    return getattr(_sink, "flags", None)


class counting:
    """Count the flags of every engine rounding inside the block into `flags` (None: stop
    counting inside the block); blocks nest, the innermost wins."""

    __slots__ = ("flags", "_previous")

    def __init__(self, flags):
        self.flags = flags

    def __enter__(self):
        self._previous = getattr(_sink, "flags", None)
        _sink.flags = self.flags
        return self.flags

    def __exit__(self, *exc):
        _sink.flags = self._previous
        return False


def round_to(x, fmt, mode: str = "rne", policy_seed: int = 0,
             saturate: bool = False) -> np.ndarray:
    """x rounded to fmt with the mode, as a float64 ndarray (0-d for scalars); stochastic
    rounding draws a fresh stream of the run (numprec.policy.streams). fp64 without saturation
    is the identity (float64 carries every format)."""
    if fmt == FP64 and not saturate:
        return x
    seed = next_rounding_seed(policy_seed) if mode == "sr" else None
    return np.asarray(_ops.round(x, fmt, mode, saturate=saturate, seed=seed,
                                 flags=getattr(_sink, "flags", None)))


def f32(value: float) -> float:
    """value rounded to float32 (round to nearest even), as a Python float."""
    return float(_ops.round(np.float64(value), FP32))


def contains(wide, narrow) -> bool:
    """True when every value of `narrow` is a value of `wide` (so casting is exact)."""
    if narrow is WEAK:
        return False
    if wide == narrow or wide == FP64:  # float64 carries every format exactly
        return True
    if not (isinstance(wide, Format) and isinstance(narrow, Format)):
        return False
    return (wide.mbits >= narrow.mbits and wide.emax >= narrow.emax and wide.subnormals
            and wide.min_subnormal_exponent <= narrow.min_subnormal_exponent
            and (wide.inf or not narrow.inf) and (wide.has_nan or not narrow.has_nan))


def widest(formats) -> Format:
    """The narrowest format holding every given one (PyTorch-style promotion); Python numbers
    take the others' format, and alone they are fp32 (PyTorch's default dtype)."""
    best = None
    for fmt in formats:
        if fmt is WEAK:
            continue
        if best is None or contains(fmt, best):
            best = fmt
        elif not contains(best, fmt):
            best = FP32 if contains(FP32, best) and contains(FP32, fmt) else FP64
    return FP32 if best is None else best
