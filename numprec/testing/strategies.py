"""Hypothesis strategies for number formats, public like xarray.testing.strategies.

Use them to property-test your own rounding or quantization code against numprec (or numprec
against its oracle): every strategy takes a format (a name or a descriptor) and draws float64
values or bit patterns from the regions where rounding code breaks: exact values, exact ties,
the float64 neighbours of ties, the subnormal/zero boundary and the overflow boundary.

    from hypothesis import given
    from numprec.testing import strategies as nps

    @given(nps.float64s_for("e4m3"))
    def test_mine(x): ...
"""
from __future__ import annotations

import math
from fractions import Fraction

import hypothesis.strategies as st
from hypothesis import assume
import numpy as np

from ..formats import FixedPoint, Format, NAN_CONVENTIONS, get_format
from .oracle import limits_of, reference_decode

_F64_MAX = Fraction(np.finfo(np.float64).max)


def _as_float(value: Fraction):
    """value as a float64 when it is exactly one, else None."""
    if value > _F64_MAX:
        return None
    as_float = float(value)
    return as_float if Fraction(as_float) == value else None


def _nearest_float(value: Fraction) -> float:
    """The float64 nearest to value (the largest float64 past the range)."""
    return float(min(value, _F64_MAX))


def _nudge(x: float, steps: int) -> float:
    """x moved by `steps` float64 ulps (toward +inf when positive)."""
    toward = math.inf if steps > 0 else -math.inf
    for _ in range(abs(steps)):
        x = math.nextafter(x, toward)
    return x


def _apply_sign(magnitude: float, negative: bool) -> float:
    return -magnitude if negative else magnitude


def bit_patterns(fmt, *, allow_nan=True, allow_infinity=True):
    """Right-aligned bit patterns (Python ints in [0, 2^nbits)) of fmt."""
    fmt = get_format(fmt)
    patterns = st.integers(0, 2 ** fmt.nbits - 1)
    if allow_nan and allow_infinity:
        return patterns

    def wanted(bits):
        value = reference_decode(bits, fmt)
        return (allow_nan or not math.isnan(value)) and (allow_infinity or not math.isinf(value))
    return patterns.filter(wanted)


def values(fmt, *, allow_nan=False, allow_infinity=False):
    """Values of fmt as float64: every finite value can be drawn (-0 where the format has it);
    NaN and +-inf on request."""
    fmt = get_format(fmt)
    return bit_patterns(fmt, allow_nan=allow_nan, allow_infinity=allow_infinity).map(
        lambda bits: reference_decode(bits, fmt))


@st.composite
def _grid_magnitude(draw, fmt, negative):
    """A magnitude of the grid on one side (0 and max included)."""
    lim = limits_of(fmt)
    magnitude = abs(draw(values(fmt)))
    if Fraction(magnitude) > lim.max_for(negative):
        magnitude = float(lim.max_for(negative))
    return Fraction(magnitude)


def _midpoint(fmt, magnitude: Fraction) -> Fraction:
    """Midpoint between a grid magnitude and the next grid point (the virtual one past max)."""
    return magnitude + limits_of(fmt).step_at(magnitude) / 2


def _has_float64_ties(fmt) -> bool:
    lim = limits_of(fmt)
    smallest = lim.step_at(Fraction(0))
    return (lim.fixed or fmt.mbits <= 51) and smallest / 2 >= Fraction(2) ** -1074


def ties(fmt):
    """Exact midpoints between neighbouring grid values, signed: between 0 and the smallest step,
    across binade and subnormal boundaries, and between max and the virtual neighbour past it."""
    fmt = get_format(fmt)
    if not _has_float64_ties(fmt):
        raise ValueError(f"{fmt.name}: midpoints between its values are not float64 values")
    return _ties(fmt)


@st.composite
def _ties(draw, fmt):
    negative = draw(st.booleans())
    mid = _as_float(_midpoint(fmt, draw(_grid_magnitude(fmt, negative))))
    if mid is None:  # only the virtual midpoint of a format reaching 2^1024
        mid = _as_float(_midpoint(fmt, Fraction(0)))
    return _apply_sign(mid, negative)


@st.composite
def near_ties(draw, fmt):
    """The float64 values just above and just below a midpoint (one or two ulps away)."""
    tie = draw(ties(fmt))
    return _nudge(tie, draw(st.sampled_from([-2, -1, 1, 2])))


@st.composite
def subnormal_boundary(draw, fmt):
    """Values near zero and near min normal, on a quarter-step grid (exact values, ties, quarter
    points; min normal minus a quarter step is the tininess-after-rounding tie) and their float64
    neighbours. For fixed point: values within a few quanta of zero."""
    fmt = get_format(fmt)
    lim = limits_of(fmt)
    step = lim.step_at(Fraction(0))
    quarter = max(step / 4, Fraction(2) ** -1074)
    top = 8 if lim.fixed else int(lim.min_normal / quarter)
    t = draw(st.one_of(st.integers(0, 16), st.integers(max(top - 16, 0), top + 16),
                       st.integers(0, top + 16)))
    x = _nearest_float(t * quarter)  # exact unless the format has 51+ mantissa bits
    x = _nudge(x, draw(st.sampled_from([0, 0, -1, 1])))
    return _apply_sign(abs(x), draw(st.booleans()))


@st.composite
def overflow_boundary(draw, fmt):
    """Values near +-max: quarter steps from two steps below max to past the virtual neighbour,
    their float64 neighbours, far beyond the range, and +-inf."""
    fmt = get_format(fmt)
    lim = limits_of(fmt)
    negative = draw(st.booleans())
    top = lim.max_for(negative)
    if draw(st.integers(0, 3)) == 0:
        x = draw(st.floats(min_value=float(top), allow_nan=False, allow_infinity=True))
    else:
        quarter = lim.step_at(top) / 4
        x = _nearest_float(top + draw(st.integers(-8, 8)) * quarter)
    x = _nudge(x, draw(st.sampled_from([0, 0, -1, 1])))
    return _apply_sign(abs(x), negative)


def raw_float64s():
    """Any float64, drawn as a 64-bit pattern (all NaN payloads, subnormals, both zeros)."""
    return st.integers(0, 2 ** 64 - 1).map(
        lambda bits: float(np.array(bits, dtype=np.uint64).view(np.float64)))


def float64s_for(fmt):
    """A mix of float64 inputs weighted toward the regions where rounding to fmt is delicate."""
    fmt = get_format(fmt)
    parts = [values(fmt), values(fmt, allow_nan=True, allow_infinity=True),
             subnormal_boundary(fmt), overflow_boundary(fmt), raw_float64s(),
             st.floats(allow_nan=True, allow_infinity=True)]
    if _has_float64_ties(fmt):
        parts += [ties(fmt), ties(fmt), near_ties(fmt), near_ties(fmt)]
    return st.one_of(parts)


@st.composite
def formats(draw, *, max_ebits=8, max_mbits=23, conventions=NAN_CONVENTIONS):
    """Custom float Formats: any valid mix of ebits, mbits, NaN convention, subnormals and a bias
    near the default."""
    nan = draw(st.sampled_from(conventions))
    ebits = draw(st.integers(2 if nan == "ieee" else 1, max_ebits))
    mbits = draw(st.integers(1 if nan == "ieee" else 0, max_mbits))
    subnormals = draw(st.booleans())
    default_bias = 2 ** (ebits - 1) - (0 if nan == "fnuz" else 1)
    bias = draw(st.one_of(st.just(default_bias), st.integers(default_bias - 3, default_bias + 3)))
    try:
        return Format(f"e{ebits}m{mbits}_{nan}_b{bias}{'' if subnormals else '_nosub'}", ebits,
                      mbits, bias=bias, nan=nan, subnormals=subnormals)
    except ValueError:  # the range does not fit in float64 (or has no normal numbers)
        assume(False)


def fixed_points(*, max_bits=16):
    """FixedPoint descriptors qM.N / uqM.N with at most max_bits magnitude bits."""
    return st.tuples(st.integers(0, max_bits), st.integers(0, max_bits), st.booleans()).filter(
        lambda t: 1 <= t[0] + t[1] <= max_bits).map(lambda t: FixedPoint(t[0], t[1], signed=t[2]))


__all__ = ["bit_patterns", "values", "ties", "near_ties", "subnormal_boundary",
           "overflow_boundary", "raw_float64s", "float64s_for", "formats", "fixed_points"]


@st.composite
def quantizer_params(draw, *, min_bits=2, max_bits=16, schemes=("symmetric", "asymmetric"),
                     min_exponent=-40, max_exponent=40):
    """(bits, signed, scheme, scale, zero_point): a valid combination for
    numprec.quant.quantize. Symmetric: zero point 0 (signed) or 2^(bits-1) (unsigned);
    asymmetric: any integer zero point in [qmin, qmax]. scale: a positive finite float64 in
    [2^min_exponent, 2^max_exponent], a power of two, a float32 value, or any float there."""
    bits = draw(st.integers(min_bits, max_bits))
    signed = draw(st.booleans())
    scheme = draw(st.sampled_from(schemes))
    qmin, qmax = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if scheme == "symmetric":
        zero_point = 0 if signed else 1 << (bits - 1)
    else:
        zero_point = draw(st.integers(qmin, qmax))
    lo, hi = math.ldexp(1.0, min_exponent), math.ldexp(1.0, max_exponent)
    scale = draw(st.one_of(
        st.integers(min_exponent, max_exponent).map(lambda e: math.ldexp(1.0, e)),
        st.floats(lo, hi, width=32).map(float),
        st.floats(lo, hi)))
    return bits, signed, scheme, scale, zero_point


__all__.append("quantizer_params")


@st.composite
def mx_edge_blocks(draw, elem, *, block=32, allow_nonfinite=False):
    """A block of `block` float64 values for an MX / block-floating-point encoder with element
    format `elem`: its amax sits on a boundary a scale rule or an element rounding cares about
    (a power of two, one float64 ulp either side of it, the element's max times a power of two
    and just above it, float64's subnormals and its top binade) or anywhere, and the other
    values spread below it (both signs, signed zeros, exact halves that are element ties, values
    too small for the element); sometimes all zeros; with allow_nonfinite, NaN or inf inside."""
    top = get_format(elem).max
    k = draw(st.integers(-1074, 1023))
    p = math.ldexp(1.0, max(k, -1074))
    candidates = [p, float(np.nextafter(p, 0)), float(np.nextafter(p, np.inf))]
    if -1074 <= k <= 1000:
        candidates += [math.ldexp(top, k), float(np.nextafter(math.ldexp(top, k), np.inf)),
                       math.ldexp(top, k) * 1.0625]
    candidates += [5e-324, 1.7976931348623157e308]
    kind = draw(st.sampled_from(("edge", "edge", "any", "zeros")))
    if kind == "zeros":
        sign = draw(st.sampled_from((0.0, -0.0)))
        values = [sign] * block
    else:
        amax = draw(st.sampled_from(candidates)) if kind == "edge" else draw(
            st.floats(min_value=5e-324, max_value=1.7976931348623157e308))
        fractions = st.sampled_from((0.5, 0.75, 1 / 3, 2.0 ** -20, 0.0, 0.999999, 0.5625))
        rest = [amax * draw(st.one_of(fractions, st.floats(0, 1))) for _ in range(block - 1)]
        signs = draw(st.lists(st.booleans(), min_size=block, max_size=block))
        values = [-v if neg else v for v, neg in zip([amax] + rest, signs)]
        order = draw(st.permutations(range(block)))
        values = [values[i] for i in order]
    if allow_nonfinite and draw(st.booleans()):
        values[draw(st.integers(0, block - 1))] = draw(st.sampled_from(
            (math.nan, math.inf, -math.inf)))
    return values


__all__.append("mx_edge_blocks")
