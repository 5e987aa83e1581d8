"""The exact affine map x -> clamp(R(x / scale) + zp) (or clamp(R(x / scale + zp))), and back.

Everything is composed from numprec's correctly rounded operations, so R rounds the *exact*
real quotient x / scale (never a float64 division) once, in any numprec mode:

- zero point after rounding (PyTorch's order), deterministic modes and sr alike:
      r = div(x, scale, FixedPoint(M, 0), mode)      (R(x / scale): one correctly rounded step)
      q = clamp(r + zp, qmin, qmax)                    (integers: exact in float64)
- zero point before rounding, deterministic modes:
      y = div(x, scale, FixedPoint(M, 2), "rto")       (x / scale rounded to odd, quantum 1/4)
      q = clamp(add(y, zp, FixedPoint(M + 1, 0), mode), qmin, qmax)
  add rounds the exact y + zp once, and R(y + zp) = R(x / scale + zp) for every deterministic
  mode. Proof: let t = x / scale. Rounding to odd at quantum 1/4 gives y = t when t is a
  multiple of 1/4, and otherwise the odd multiple of 1/4 of the two around t; odd multiples of
  1/4 are never multiples of 1/2, so y lies strictly inside the same open interval
  (m/2, (m+1)/2) as t. Hence y and t have the same floor(2t), are multiples of 1/2 (and of 1)
  together, and are equal when they are; the same holds for y + zp and t + zp (zp an integer),
  including their signs (y + zp = 0 iff t = -zp). rne, rna, rtz, rup, rdn and rto to an
  integer depend only on these facts (which two integers, is it one, is it the midpoint, which
  side of the midpoint, the sign), so they give the same integer for y + zp as for t + zp.
- zero point before rounding, mode "sr": the same with F = 33 fraction bits and 32 random bits,
      y = div(x, scale, FixedPoint(M, 33), "rto"); add(y, zp, FixedPoint(M + 1, 0), "sr",
      rbits=32, seed=seed)
  sr with k bits rounds v's magnitude up iff draw < floor(frac(|v|) 2^k); by the argument
  above at quantum 2^-(k+1), y + zp and t + zp have the same floor(2^k v), are multiples of
  2^-k together and have the same sign, so floor(frac(|v|) 2^k) and the neighbours are the
  same: the result is exactly sr of x / scale + zp with 32 random bits (the add stream's draws).

M = bits + 2, and every intermediate is exact in float64 (M + 33 <= 51 bits). Saturation of
the intermediate formats never changes the clamped result: |qmax - zp| and |qmin - zp| are
below 2^bits, and a saturated intermediate (+-(2^M - 2^-F) or -2^M) plus any zero point in
[qmin, qmax] is still at least 2^(bits+1) beyond the integer range on the same side as the
exact value, so both clamp to the same end.
"""
from __future__ import annotations

import numpy as np

from ..formats import FixedPoint
from ..ops.arith import add, div
from ..codes import SR

SR_BITS_BEFORE = 32  # random bits of sr when the zero point is added before rounding


def quantize_values(x, scale, zero_point, qmin: int, qmax: int, mode: str, mode_code: int,
                    seed, zp_before: bool, gran):
    """(r, saturated): r float64 of x's shape holding the clamped integers (NaN where x is NaN);
    saturated the number of elements clamped (R(...) outside [qmin, qmax], inf included).
    scale and zero_point have gran.param_shape; x is float32 or float64 of gran.shape."""
    bits_m = (qmax - qmin).bit_length() + 2  # M = bits + 2
    xg = gran.grouped(x)
    s = gran.kernel_params(scale)
    zp = gran.kernel_params(zero_point)
    any_zp = bool(np.any(zero_point))
    if zp_before and any_zp:
        frac = SR_BITS_BEFORE + 1 if mode_code == SR else 2
        y = div(xg, s, FixedPoint(bits_m, frac), mode="rto")
        if mode_code == SR:
            r = add(y, zp.astype(np.float64), FixedPoint(bits_m + 1, 0), mode="sr",
                    rbits=SR_BITS_BEFORE, seed=seed)
        else:
            r = add(y, zp.astype(np.float64), FixedPoint(bits_m + 1, 0), mode=mode)
    else:
        r = div(xg, s, FixedPoint(bits_m, 0), mode=mode, seed=seed)
        if any_zp:
            r += zp
    r = np.asarray(r, dtype=np.float64).reshape(gran.shape)
    saturated = int(np.count_nonzero(r > qmax)) + int(np.count_nonzero(r < qmin))
    np.clip(r, qmin, qmax, out=r)
    return r, saturated


def dequantize_values(q, scale, zero_point, gran) -> np.ndarray:
    """(q - zero_point) * scale in float64 (the integer difference is exact; one rounding)."""
    q = np.asarray(q)
    diff = (q.astype(np.int64) - gran.expand(np.asarray(zero_point, dtype=np.int64)))
    return diff.astype(np.float64) * gran.expand(np.asarray(scale, dtype=np.float64))
