"""Requantization: integer accumulators back to narrow integer codes (docs/quantization.md,
"Integer arithmetic").

requantize (the real-valued scale, rounded once, exactly):

    q = clamp(R(acc * scale) + zero_point, qmin, qmax)

R rounds the *exact* real product acc * scale once, in any numprec mode: it is numprec's
correctly rounded mul into FixedPoint(M, 0), M = bits + 2, never a float64 product that was
already rounded. acc (|acc| <= 2^53) and scale are exact float64 operands. A product beyond the
intermediate's range saturates there at -2^M or 2^M - 1, which is at least 2^(bits+1) beyond
[qmin, qmax] after adding any zero point in [qmin, qmax], so it clamps to the same end as the
exact value would (the argument of numprec.quant.affine).

quantize_multiplier / requantize_fixed (TFLite's integer-only path, bit for bit):

quantize_multiplier(m) is TFLite's QuantizeMultiplier (tensorflow/lite/kernels/internal/
quantization_util.cc, default build: no TFLITE_EMULATE_FLOAT, no TFLITE_SINGLE_ROUNDING):

    q, e = frexp(m)                          (m = q 2^e, 0.5 <= q < 1)
    q_fixed = round_half_away(q * 2^31)      (std::round; q * 2^31 is exact)
    if q_fixed == 2^31: q_fixed = 2^30, e += 1
    if e < -31: q_fixed = 0, e = 0           (m below about 2^-32: every result would be 0)
    return (q_fixed, e)                      (q_fixed in [2^30, 2^31 - 1], or 0)

so m ~= q_fixed * 2^(e - 31). TFLite maps m == 0 to (0, 0); numprec refuses 0 as it refuses
negative, NaN and inf multipliers (a scale is positive). Multipliers >= 2^30 give e > 30,
which requantize_fixed refuses (TFLite's single-rounding build clamps them to 2^31 - 1, 30).

requantize_fixed(acc, multiplier, shift) is TFLite's MultiplyByQuantizedMultiplier over
gemmlowp's fixedpoint.h, then + zero_point and clamp:

    left = max(shift, 0), right = max(-shift, 0)
    x = wrap32(acc * 2^left)                 (C++ int32 multiply; overflow is UB there, and
                                              wraps in the code compilers emit: wrapped here)
    SaturatingRoundingDoublingHighMul(x, M):
        INT32_MIN * INT32_MIN -> INT32_MAX   (the only case whose result overflows)
        ab = x * M (exact, int64); nudge = 2^30 if ab >= 0 else 1 - 2^30
        y = trunc((ab + nudge) / 2^31)       (C++ division: toward zero)
        (ab / 2^31 rounded to nearest, ties toward +inf: 0.5 -> 1, -0.5 -> 0, -1.5 -> -1)
    RoundingDivideByPOT(y, right):
        mask = 2^right - 1; remainder = y & mask
        threshold = (mask >> 1) + (1 if y < 0 else 0)
        z = (y >> right) + (1 if remainder > threshold else 0)     (>>: arithmetic)
        (y / 2^right rounded to nearest, ties away from zero)
    q = clamp(z + zero_point, qmin, qmax)    (the addition exact: TFLite's int32 addition
                                              could only overflow where C++ is UB)

multiplier may be any int32 (also negative, also INT32_MIN); shift is in [-31, 30] (gemmlowp
asserts the exponent of RoundingDivideByPOT in [0, 31]; 1 << 31 would be INT32_MIN).
Everything is computed in numpy int64, where every intermediate above is exact.
"""
from __future__ import annotations

import math

import numpy as np

from ..codes import FLAG_NAMES, NFLAGS
from ..formats import FixedPoint
from ..ops.arith import mul
from ..ops.validate import check_flags, check_mode
from .qparams import check_bits, int_dtype, int_range

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
SHIFT_RANGE = (-31, 30)
_SATURATED = FLAG_NAMES.index("saturated")
_EXACT_INT_LIMIT = 1 << 53


# ------------------------------------------------------------------------------ validation

def _check_acc(acc, name, lo=None, hi=None):
    arr = np.asarray(acc)
    if isinstance(acc, (bool, np.bool_)) or arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: acc must be integers (an integer numpy array, e.g. int32 "
                        f"accumulators), got {'dtype ' + str(arr.dtype) if arr.ndim else repr(acc)}")
    if arr.size and (lo is not None):
        small, big = int(arr.min()), int(arr.max())
        if small < lo or big > hi:
            bad = small if small < lo else big
            raise ValueError(f"{name}: acc holds {bad}, outside [{lo}, {hi}]")
    return arr


def _check_signed(signed, name):
    if not isinstance(signed, (bool, np.bool_)):
        raise TypeError(f"{name}: signed must be True or False, got {signed!r}")
    return bool(signed)


def _per_channel(value, acc_shape, name, what):
    """value as an array broadcasting against acc: a scalar, one value per channel (shape
    (C,) with C = acc.shape[-1]), or any shape that broadcasts to acc's."""
    arr = np.asarray(value)
    try:
        shape = np.broadcast_shapes(arr.shape, acc_shape)
    except ValueError:
        shape = None
    if shape != tuple(acc_shape):
        raise ValueError(f"{name}: {what} of shape {arr.shape} does not broadcast to acc's "
                         f"shape {tuple(acc_shape)} (per channel: one value per index of the "
                         "last axis)")
    return arr


def _first(arr, bad):
    return np.asarray(arr).reshape(-1)[np.flatnonzero(np.asarray(bad).reshape(-1))[0]].item()


def _check_int_param(value, acc_shape, name, what, lo, hi):
    arr = _per_channel(value, acc_shape, name, what)
    if isinstance(value, (bool, np.bool_)) or arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: {what} must be integers, got {value!r}")
    wide = arr.astype(object) if arr.dtype == np.uint64 else arr.astype(np.int64)
    bad = (wide < lo) | (wide > hi)
    if np.any(bad):
        raise ValueError(f"{name}: {what}={int(_first(wide, bad))} is out of range; valid: "
                         f"{lo}..{hi}")
    return np.asarray(wide, dtype=np.int64)


def _finish(r, zero_point, qmin, qmax, bits, signed, flags):
    """clamp(r + zero_point) in the codes' dtype, the clamped elements counted."""
    v = r + zero_point
    saturated = int(np.count_nonzero(v > qmax)) + int(np.count_nonzero(v < qmin))
    if flags is not None and saturated:
        add = np.zeros(NFLAGS, dtype=np.int64)
        add[_SATURATED] = saturated
        flags.add(add)
    out = np.clip(v, qmin, qmax).astype(int_dtype(bits, signed))
    return out if out.ndim else out[()]


# ------------------------------------------------------------------------------ requantize

def requantize(acc, scale, *, bits=8, signed=True, zero_point=0, mode="rne", seed=None,
               flags=None):
    """clamp(R(acc * scale) + zero_point, qmin, qmax): R rounds the exact real product once
    (numprec mode: rne, rna, rtz, rup, rdn, rto, or sr with seed).

    acc: integers (int32 accumulators; any integer dtype with |acc| <= 2^53). scale: positive
    finite, a scalar or per channel (shape (C,) for acc's last axis C, or any shape
    broadcasting to acc's). zero_point: integers in [qmin, qmax], scalar or per channel.
    bits 2..16, signed or not; the result has the smallest integer dtype holding the range.
    flags (numprec.Flags) counts the clamped elements as `saturated`.
    """
    name = "requantize"
    bits = check_bits(bits)
    signed = _check_signed(signed, name)
    check_mode(mode)
    check_flags(flags)
    acc = _check_acc(acc, name, -_EXACT_INT_LIMIT, _EXACT_INT_LIMIT)
    s = _per_channel(scale, acc.shape, name, "scale")
    if isinstance(scale, (bool, np.bool_)) or s.dtype.kind not in "fiu":
        raise TypeError(f"{name}: scale must be real numbers, got {scale!r}")
    s = s.astype(np.float64)
    bad = ~(np.isfinite(s) & (s > 0))
    if np.any(bad):
        raise ValueError(f"{name}: scale must be positive and finite, got {_first(s, bad)!r}")
    qmin, qmax = int_range(bits, signed)
    zp = _check_int_param(zero_point, acc.shape, name, "zero_point", qmin, qmax)
    fmt = FixedPoint(bits + 2, 0)
    r = mul(acc.astype(np.float64), s, fmt, mode=mode, seed=seed)
    r = np.asarray(r, dtype=np.float64).astype(np.int64)
    return _finish(r, zp, qmin, qmax, bits, signed, flags)


# ------------------------------------------------------------------------------ TFLite path

def _quantize_one(m: float) -> tuple[int, int]:
    q, e = math.frexp(m)
    q_fixed = math.floor(q * 2.0 ** 31 + 0.5)  # std::round of a positive value (both exact)
    if q_fixed == 1 << 31:
        q_fixed //= 2
        e += 1
    if e < -31:
        q_fixed, e = 0, 0
    return int(q_fixed), int(e)


def quantize_multiplier(real_multiplier):
    """TFLite's QuantizeMultiplier: (quantized_multiplier, shift) with real_multiplier ~=
    quantized_multiplier * 2^(shift - 31), quantized_multiplier in [2^30, 2^31 - 1] (or 0, with
    shift 0, below about 2^-32). A scalar gives two Python ints; an array gives an int32 array
    and an int32 array of shifts of its shape. Positive finite multipliers only."""
    name = "quantize_multiplier"
    arr = np.asarray(real_multiplier)
    if isinstance(real_multiplier, (bool, np.bool_)) or arr.dtype.kind not in "fiu":
        raise TypeError(f"{name}: real_multiplier must be a real number or an array of them, "
                        f"got {real_multiplier!r}")
    m = arr.astype(np.float64)
    bad = ~(np.isfinite(m) & (m > 0))
    if np.any(bad):
        raise ValueError(f"{name}: real_multiplier must be positive and finite, got "
                         f"{_first(m, bad)!r}")
    if m.ndim == 0:
        return _quantize_one(float(m))
    q, e = np.frexp(m)
    q_fixed = np.floor(q * 2.0 ** 31 + 0.5).astype(np.int64)
    top = q_fixed == (1 << 31)
    q_fixed = np.where(top, q_fixed // 2, q_fixed)
    e = np.where(top, e + 1, e).astype(np.int64)
    tiny = e < -31
    q_fixed = np.where(tiny, 0, q_fixed)
    e = np.where(tiny, 0, e)
    return q_fixed.astype(np.int32), e.astype(np.int32)


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values (int64 arrays in and
    out): 2ab / 2^32 rounded to nearest, ties toward +inf (+0.5 -> 1 but -0.5 -> 0: the
    nudge 1 - 2^30 and the truncating division), INT32_MIN * INT32_MIN -> INT32_MAX."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == b) & (a == INT32_MIN)
    ab = a * b  # exact: |ab| <= 2^62
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    x = ab + nudge
    # C++ division by 2^31 truncates toward zero: floor after adding 2^31 - 1 to negatives
    y = (x + np.where(x < 0, np.int64((1 << 31) - 1), np.int64(0))) >> 31
    return np.where(overflow, np.int64(INT32_MAX), y)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp's RoundingDivideByPOT on int32 values (int64 arrays), exponent in [0, 31]:
    x / 2^exponent rounded to nearest, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(acc, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier (the double-rounding build), in int64 arrays:
    RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc * 2^left, multiplier), right),
    acc * 2^left wrapped to int32 as the compiled C++ does."""
    acc = np.asarray(acc, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = (acc << left) & 0xFFFFFFFF
    x = np.where(x > INT32_MAX, x - (1 << 32), x)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), right)


def requantize_fixed(acc, multiplier, shift, *, bits=8, signed=True, zero_point=0, flags=None):
    """clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + zero_point, qmin, qmax),
    bit for bit as TFLite and gemmlowp compute it (module docstring).

    acc: int32 values (any integer dtype, values in int32). multiplier: int32 values; shift:
    integers in [-31, 30]; both scalars or per channel (shape (C,) for acc's last axis, or any
    shape broadcasting to acc's), as quantize_multiplier gives them. zero_point: integers in
    [qmin, qmax]. flags (numprec.Flags) counts the clamped elements as `saturated`.
    """
    name = "requantize_fixed"
    bits = check_bits(bits)
    signed = _check_signed(signed, name)
    check_flags(flags)
    acc = _check_acc(acc, name, INT32_MIN, INT32_MAX)
    mult = _check_int_param(multiplier, acc.shape, name, "multiplier", INT32_MIN, INT32_MAX)
    sh = _check_int_param(shift, acc.shape, name, "shift", *SHIFT_RANGE)
    qmin, qmax = int_range(bits, signed)
    zp = _check_int_param(zero_point, acc.shape, name, "zero_point", qmin, qmax)
    z = multiply_by_quantized_multiplier(acc, mult, sh)
    return _finish(z, zp, qmin, qmax, bits, signed, flags)
