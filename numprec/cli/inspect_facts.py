"""Exact facts about one value in one format, for `numprec inspect`.

Everything here is rational arithmetic on the format's grid (docs/rounding.md): the grid spacing
at a magnitude, the two grid points around a value, the stochastic-rounding probability, and the
fields of a bit pattern. Rounded results themselves always come from numprec.round/encode/decode.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..codes import SR_MAX_BITS
from ..ops import decode, encode


def top_step(fmt) -> Fraction:
    """Spacing of the top binade: the distance from max to the virtual neighbour past it."""
    if fmt.is_fixed:
        return Fraction(fmt.resolution)
    return Fraction(2) ** (fmt.emax - fmt.mbits)


def quantum(fmt, magnitude: Fraction) -> Fraction:
    """Grid spacing at a positive magnitude (the ulp of values in its binade)."""
    if fmt.is_fixed:
        return Fraction(fmt.resolution)
    if magnitude < Fraction(fmt.min_normal):
        return Fraction(fmt.min_subnormal)  # = min normal when the format has no subnormals
    exponent = min(math.frexp(float(magnitude))[1] - 1, fmt.emax)
    return Fraction(2) ** (exponent - fmt.mbits)


def side_max(fmt, negative: bool) -> Fraction:
    """The largest magnitude representable on the side of zero where the value lies."""
    if fmt.is_fixed and negative:
        return Fraction(-fmt.min)
    return Fraction(fmt.max)


def bracket(fmt, x: float) -> tuple[Fraction, Fraction]:
    """Magnitudes lo <= |x| <= hi of consecutive grid points (hi may be the virtual neighbour
    past the largest value); lo == |x| when x is on the grid. x is finite."""
    magnitude = Fraction(abs(x))
    if magnitude == 0:
        return Fraction(0), Fraction(0)
    step = quantum(fmt, magnitude)
    lo = (magnitude // step) * step
    largest = side_max(fmt, x < 0)
    if lo > largest:
        return largest, largest + top_step(fmt)
    if lo == magnitude:
        return lo, lo
    return lo, lo + step


def sr_probability(fmt, x: float, rbits: int = SR_MAX_BITS) -> Fraction:
    """Probability that stochastic rounding with rbits random bits picks the larger magnitude:
    floor(frac * 2^rbits) / 2^rbits with frac = (|x| - lo) / (hi - lo)."""
    lo, hi = bracket(fmt, x)
    if hi == lo:
        return Fraction(0)
    frac = min((Fraction(abs(x)) - lo) / (hi - lo), Fraction(1))
    scale = 2 ** rbits
    return Fraction(math.floor(frac * scale), scale)


def _decode_one(bits: int, fmt) -> float:
    return float(decode(np.array([bits], dtype=np.uint64), fmt)[0])


def adjacent(fmt, v: float) -> tuple[float | None, float | None]:
    """The representable values just below and just above a representable finite v (None where
    there is none; inf where the next pattern is IEEE infinity)."""
    if fmt.is_fixed:
        step = fmt.resolution
        below, above = v - step, v + step
        return (below if below >= fmt.min else None), (above if above <= fmt.max else None)
    if v == 0:  # (an unsigned format has nothing below zero)
        return (-fmt.min_subnormal if fmt.signed else None), fmt.min_subnormal
    pattern = int(encode(abs(v), fmt))
    positive_top = (1 << (fmt.nbits - int(fmt.signed))) - 1
    larger = _decode_one(pattern + 1, fmt) if pattern < positive_top else None
    if larger is not None and math.isnan(larger):
        larger = None
    # pattern 0 of a format without zero (E8M0) is its smallest value: nothing below it
    smaller = _decode_one(pattern - 1, fmt) if pattern > 0 else None
    if v > 0:
        return smaller, larger
    return (None if larger is None else -larger), -smaller


def hex_pattern(bits: int, nbits: int) -> str:
    return f"0x{bits:0{(nbits + 3) // 4}x}"


def fields(fmt, bits: int) -> tuple[list[tuple[str, str]], str]:
    """The named bit fields of a pattern (binary strings) and what they mean."""
    value = _decode_one(bits, fmt)
    if fmt.is_fixed:
        frac_mask = (1 << fmt.frac_bits) - 1
        parts = []
        if fmt.signed:
            parts.append(("sign", str(bits >> (fmt.nbits - 1))))
        integer = (bits >> fmt.frac_bits) & ((1 << fmt.int_bits) - 1)
        parts.append(("integer", f"{integer:0{fmt.int_bits}b}" if fmt.int_bits else ""))
        parts.append(("fraction", f"{bits & frac_mask:0{fmt.frac_bits}b}" if fmt.frac_bits else ""))
        k = bits - (1 << fmt.nbits) if fmt.signed and bits >> (fmt.nbits - 1) else bits
        kind = "two's complement" if fmt.signed else "unsigned"
        return parts, f"{kind} integer {k} x 2^-{fmt.frac_bits}"
    sign = bits >> (fmt.nbits - 1)
    exponent = (bits >> fmt.mbits) & ((1 << fmt.ebits) - 1)
    mantissa = bits & ((1 << fmt.mbits) - 1)
    mant_text = f"{mantissa:0{fmt.mbits}b}" if fmt.mbits else ""
    parts = [("sign", str(sign)), ("exponent", f"{exponent:0{fmt.ebits}b}"),
             ("mantissa", mant_text)]
    sig = f"0.{mant_text}b" if exponent == 0 else (f"1.{mant_text}b" if mant_text else "1")
    if math.isnan(value):
        meaning = "NaN"
    elif math.isinf(value):
        meaning = "-inf" if value < 0 else "+inf"
    elif value == 0:
        meaning = "-0" if math.copysign(1.0, value) < 0 else "+0"
    elif exponent == 0:
        meaning = f"subnormal: {'-' if sign else '+'}{sig} x 2^{fmt.emin}"
    else:
        meaning = (f"normal: {'-' if sign else '+'}{sig} x 2^({exponent} - {fmt.bias}"
                   f" = {exponent - fmt.bias})")
    return parts, meaning
