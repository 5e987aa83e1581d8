"""Exact reference for MX block encoding, written from the OCP MX v1.0 text with rationals.

`reference_mx_block(values, elem, ...)` encodes one block of Python floats: the shared exponent
from exact Fractions (floor/ceil of log2 by integer bit lengths), the elements by rounding the
exact quotient V_i / 2^E on the element's grid (numprec.testing.oracle's limits and tie rules),
saturating at the element's max. It shares nothing with numprec.quant.mx but the format
descriptors, so that it can check it; use it to check your own block code too.
"""
from __future__ import annotations

import math
from fractions import Fraction

from ..formats import get_format
from .oracle import floor_log2, limits_of, neighbours, pick, reference_encode

SCALE_EMIN = -127  # E8M0's; all-zero blocks take it


def _pow2(k: int) -> Fraction:
    return Fraction(2) ** k


def _ceil_log2(X: Fraction) -> int:
    e = floor_log2(X)
    return e if _pow2(e) == X else e + 1


def reference_shared_exponent(amax: Fraction, elem, scale_rule: str = "floor") -> int:
    """The unbiased shared exponent of a block with finite amax >= 0, before the E8M0 clamp
    (all-zero blocks: -127)."""
    lim = limits_of(elem)
    if amax == 0:
        return SCALE_EMIN
    top = lim.max_pos
    emax = floor_log2(top)
    if scale_rule == "floor":
        return floor_log2(amax) - emax
    if scale_rule == "ceil":
        return _ceil_log2(amax) - emax
    if scale_rule == "even":
        # amax rounded to the element's precision at amax's binade, halves up
        precision = lim.mbits if not lim.fixed else emax + lim.fmt.frac_bits
        quantum = _pow2(floor_log2(amax) - precision)
        rounded = math.floor(amax / quantum + Fraction(1, 2)) * quantum
        return floor_log2(rounded) - emax
    if scale_rule == "rceil":
        return _ceil_log2(amax / top)
    raise ValueError(f"unknown scale rule {scale_rule!r}")


def _element(v: float, X: Fraction, lim, mode: str) -> float:
    """The element for v: v / X rounded on the element grid, saturating at its max."""
    negative = math.copysign(1.0, v) < 0
    if math.isinf(v):
        R = lim.max_for(negative)
    else:
        Q = abs(Fraction(v)) / X
        if Q == 0:
            R = Fraction(0)
        else:
            step = lim.step_at(Q)
            lo, hi = neighbours(Q, step)
            R = pick(Q, lo, hi, step, negative, mode)
            R = min(R, lim.max_for(negative))
    if R == 0:
        return -0.0 if negative and lim.negative_zero else 0.0
    return -float(R) if negative else float(R)


def reference_mx_block(values, elem, scale_rule: str = "floor", *,
                       nonfinite: str = "nan-scale", scale_overflow: str = "nan",
                       mode: str = "rne", scale_bits: int = 8):
    """(scale code, element values, element codes) of one block of floats.

    Element values are the decoded elements P_i (before multiplying by the scale), NaN for a
    NaN-scale block; codes are their bit patterns (the element's NaN, or 0 where it has none,
    for a NaN-scale block). mode: a deterministic numprec rounding mode. scale_bits: the width
    of the exponent-only scale (8: E8M0; bias 2^(scale_bits-1) - 1, all ones NaN)."""
    bias = 2 ** (scale_bits - 1) - 1
    scale_emin, scale_emax, nan_code = -bias, bias, 2 ** scale_bits - 1
    fmt = get_format(elem)
    lim = limits_of(fmt)
    values = [float(v) for v in values]
    bad = [v for v in values if not math.isfinite(v)]
    if bad and nonfinite == "error":
        raise ValueError("block holds NaN or inf")
    finite = [abs(Fraction(v)) for v in values if math.isfinite(v)]
    amax = max(finite, default=Fraction(0))
    nan_scale = bool(bad) and nonfinite == "nan-scale"
    E = reference_shared_exponent(amax, fmt, scale_rule) if amax else scale_emin
    if E > scale_emax:
        if scale_overflow == "nan":
            nan_scale = True
        E = scale_emax
    E = max(E, scale_emin)
    if nan_scale:
        filler = math.nan if fmt.has_nan else 0.0
        return nan_code, [math.nan] * len(values), [reference_encode(filler, fmt)] * len(values)
    X = _pow2(E)
    elements = []
    for v in values:
        if math.isnan(v):
            if not fmt.has_nan:
                raise ValueError(f"{fmt.name} has no NaN")
            elements.append(math.nan)
        else:
            elements.append(_element(v, X, lim, mode))
    return E + bias, elements, [reference_encode(p, fmt) for p in elements]


def reference_mx_decode(scale_code: int, element_values, scale_bits: int = 8) -> list:
    """The block's values X * P_i (NaN everywhere for the NaN scale)."""
    bias = 2 ** (scale_bits - 1) - 1
    if scale_code == 2 ** scale_bits - 1:
        return [math.nan] * len(element_values)
    return [math.ldexp(p, scale_code - bias) for p in element_values]


__all__ = ["reference_mx_block", "reference_mx_decode", "reference_shared_exponent"]
