"""Integer ranges, and scale / zero point from an observed range, as PyTorch computes them.

`range_qparams(lo, hi, ...)` is PyTorch's `UniformQuantizationObserverBase._calculate_qparams`
(torch/ao/quantization/observer.py), step by step in float32 as PyTorch's observers compute
it (their min/max buffers are float32; each numpy float32 operation below is one IEEE float32
operation, rounded to nearest even):

    lo' = min(fl32(lo), 0), hi' = max(fl32(hi), 0)        (the range always includes 0)
    symmetric:  scale = max(fl32(max(-lo', hi') / fl32((qmax - qmin) / 2)), eps)
                zero_point = 0 (signed), 2^(bits-1) (unsigned: PyTorch's 128 for quint8)
    asymmetric: scale = max(fl32(fl32(hi' - lo') / fl32(qmax - qmin)), eps)
                zero_point = clamp(qmin - rne(fl32(lo' / scale)), qmin, qmax)

with eps = torch.finfo(torch.float32).eps = 2^-23. A row with nothing observed (lo = +inf,
hi = -inf: no finite values) gets PyTorch's answer for an unobserved range: scale 1, zero
point 0. `power_of_two=True` then rounds each scale up to a power of two, 2^ceil(log2 s),
read exactly from the float's exponent (frexp), never a float log2; the asymmetric zero point
is recomputed with that scale (lo' / scale is exact: a power-of-two divisor).
"""
from __future__ import annotations

import numbers

import numpy as np

SCHEMES = ("symmetric", "asymmetric")
EPS32 = np.float32(2.0 ** -23)  # torch.finfo(torch.float32).eps


def check_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral):
        raise TypeError(f"bits must be an int in 2..16, got {bits!r}")
    if not 2 <= bits <= 16:
        raise ValueError(f"bits={bits} is out of range; valid: 2..16")
    return int(bits)


def check_scheme(scheme) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; valid schemes: {', '.join(SCHEMES)}")
    return scheme


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """(qmin, qmax): [-2^(b-1), 2^(b-1) - 1] signed, [0, 2^b - 1] unsigned."""
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def int_dtype(bits: int, signed: bool) -> np.dtype:
    """The smallest numpy integer dtype holding the range."""
    width = 8 if bits <= 8 else 16
    return np.dtype(f"{'' if signed else 'u'}int{width}")


def symmetric_zero_point(bits: int, signed: bool) -> int:
    return 0 if signed else 1 << (bits - 1)


def pow2_ceil(scale: np.ndarray) -> np.ndarray:
    """2^ceil(log2 s) for positive finite s, exactly: s = m 2^e with 0.5 <= m < 1 (frexp), so
    s is a power of two iff m == 0.5 (then s = 2^(e-1)); otherwise the next one up is 2^e."""
    s = np.asarray(scale, dtype=np.float64)
    m, e = np.frexp(s)
    return np.ldexp(1.0, np.where(m == 0.5, e - 1, e))


def range_qparams(lo, hi, bits: int, signed: bool, scheme: str, power_of_two: bool = False):
    """(scale float64 array of float32 values, zero_point int64 array) for per-row ranges."""
    qmin, qmax = int_range(bits, signed)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    unobserved = (lo == np.inf) & (hi == -np.inf)
    if np.any((lo > hi) & ~unobserved):
        raise ValueError("observed minimum above the maximum")
    with np.errstate(over="ignore", invalid="ignore"):
        lo32 = np.minimum(np.where(unobserved, 0.0, lo).astype(np.float32), np.float32(0))
        hi32 = np.maximum(np.where(unobserved, 0.0, hi).astype(np.float32), np.float32(0))
        if scheme == "symmetric":
            amax = np.maximum(-lo32, hi32)
            scale = np.maximum(amax / np.float32((qmax - qmin) / 2), EPS32)
            zp = np.full(scale.shape, symmetric_zero_point(bits, signed), dtype=np.int64)
        else:
            scale = np.maximum((hi32 - lo32) / np.float32(qmax - qmin), EPS32)
            if power_of_two:
                scale = pow2_ceil(scale).astype(np.float32)
            zp = np.clip(qmin - np.rint(lo32 / scale).astype(np.int64), qmin, qmax)
    scale = scale.astype(np.float64)
    if not np.all(np.isfinite(scale)):
        bad = np.flatnonzero(~np.isfinite(scale.reshape(-1)))
        raise ValueError(f"the observed range [{float(lo.reshape(-1)[bad[0]])!r}, "
                         f"{float(hi.reshape(-1)[bad[0]])!r}] overflows float32, in which the "
                         "scale is computed (as PyTorch does); pass scale= explicitly")
    if power_of_two:
        scale = pow2_ceil(scale)
    scale = np.where(unobserved, 1.0, scale)
    zp = np.where(unobserved, 0, zp).astype(np.int64)
    return scale, zp
