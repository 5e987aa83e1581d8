"""Rounding float64 to fp32 (rne, no saturation, no ftz) by the CPU's own conversion.

The CPU converts float64 to float32 with IEEE 754's binary32 rounding, and numpy's float64 ->
float32 cast is that conversion, vectorised: the same rounding as numprec's fp32 kernel and, at
a few times its speed on one thread, the cheaper way to round the fp64 order's BLAS result.
It holds while the floating-point environment is IEEE's (round to nearest even, no
flush-to-zero, no denormals-are-zero: a library built with fast-math can set those for the
whole process), which ieee_environment() checks on every call with known cases; callers fall
back to the kernel when it fails. NaNs keep their input bits, as in numprec's kernels (the
cast would quiet them and drop payload bits).
"""
from __future__ import annotations

import threading

import numpy as np

# Each probe checks one part of the environment: a float32 subnormal (flush-to-zero on the way
# in, denormals-are-zero on the way back), a tie and a value just above one (to nearest even,
# both signs), and a subnormal tie.
_PROBE = np.array([2.0 ** -140, 1.0 + 2.0 ** -24, 1.0 + 3 * 2.0 ** -25, -(1.0 + 3 * 2.0 ** -25),
                   1.5 * 2.0 ** -149])
_EXPECTED = np.array([2.0 ** -140, 1.0, 1.0 + 2.0 ** -23, -(1.0 + 2.0 ** -23),
                      2.0 ** -148]).tobytes()


def ieee_environment() -> bool:
    """The CPU rounds float64 to float32 as IEEE 754 says (checked, not assumed)."""
    return _PROBE.astype(np.float32).astype(np.float64).tobytes() == _EXPECTED


# The float32 values pass through a buffer each thread keeps (up to SCRATCH_LIMIT values): a
# fresh array costs a page fault per 4 KiB on its first write, more than the rounding itself
# for a 256 x 256 result.
SCRATCH_LIMIT = 1 << 22
_SCRATCH = threading.local()


def _float32_buffer(size: int) -> np.ndarray:
    if size > SCRATCH_LIMIT:
        return np.empty(size, dtype=np.float32)
    buffer = getattr(_SCRATCH, "buffer", None)
    if buffer is None or buffer.size < size:
        buffer = _SCRATCH.buffer = np.empty(max(size, 1 << 16), dtype=np.float32)
    return buffer[:size]


def round_fp32_in_place(values: np.ndarray) -> np.ndarray:
    """values (a C-contiguous float64 array the caller owns, e.g. a BLAS result) rounded to
    fp32 in rne in place, and returned; the caller has checked ieee_environment(). In place for
    the same reason as the buffer."""
    flat = values.reshape(-1)
    narrow = _float32_buffer(flat.size)
    with np.errstate(over="ignore", invalid="ignore"):
        np.copyto(narrow, flat, casting="unsafe")
        # a NaN makes the sum NaN (so does inf - inf: then the mask finds none)
        check = np.add.reduce(narrow)
    nan = np.isnan(narrow) if check != check else None
    payloads = flat[nan] if nan is not None else None
    np.copyto(flat, narrow)
    if payloads is not None:
        flat[nan] = payloads
    return values


__all__ = ["ieee_environment", "round_fp32_in_place"]
