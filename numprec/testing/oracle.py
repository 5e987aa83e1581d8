"""An exact, slow, obviously-correct reference for numprec's rounding (docs/rounding.md).

Every value is a `fractions.Fraction`; nothing here shares code with numprec.kernels except the
counter-based generator that defines the stochastic-rounding draws (numprec.kernels.scalar.rng),
the names of the modes and flags (numprec.codes) and the defining fields of the descriptors
(ebits, mbits, bias, nan, subnormals, signed, zero; int_bits, frac_bits, signed, overflow). Limits
such as max and min normal are re-derived from those fields here, so a wrong derived property in
numprec.formats cannot hide a wrong rounding.

Conventions for results: a NaN *input* is returned as is; a NaN the format generates (overflow or
an infinite input in an fn/fnuz format) is the canonical float64 quiet NaN, float("nan").
"""
from __future__ import annotations

import functools
import math
import numbers
from fractions import Fraction

from ..codes import EVENT_NAMES, FLAG_NAMES, MODES, STREAM_ROUND
from ..codes import SR_MAX_BITS as SR_BITS  # the draw's random bits; rbits=k uses the top k
from ..formats import FixedPoint, get_format
from ..kernels.scalar.rng import key_from_seed, random62_py

_TWO = Fraction(2)


def _pow2(k: int) -> Fraction:
    return _TWO ** k


class Limits:
    """Exact limits of a format, derived from its defining fields as docs/rounding.md states them.

    step_at(X) is the quantum of the grid at magnitude X (the spacing of the two neighbours of X);
    max_pos / max_neg are the largest magnitudes on the positive / negative side (they differ for
    fixed point); virtual_pos / virtual_neg are the grid points one step past them.
    """

    def __init__(self, fmt):
        self.fmt = fmt = get_format(fmt)
        self.fixed = isinstance(fmt, FixedPoint)
        self.signed = fmt.signed
        self.zero = fmt.zero  # False: no zero (E8M0): below the smallest value is that value
        self.wrap = self.fixed and fmt.overflow == "wrap"
        if self.fixed:
            self.quantum = _pow2(-fmt.frac_bits)
            top = 2 ** (fmt.int_bits + fmt.frac_bits)
            self.max_pos = (top - 1) * self.quantum
            self.max_neg = top * self.quantum if fmt.signed else Fraction(0)
            self.virtual_pos = self.max_pos + self.quantum
            self.virtual_neg = self.max_neg + self.quantum
            self.min_normal = None
            self.negative_zero = False
            return
        self.mbits, self.p = fmt.mbits, fmt.mbits + 1
        all_ones = 2 ** fmt.ebits - 1
        # without a zero, the biased exponent 0 is a normal binade
        self.emin = (1 if fmt.zero else 0) - fmt.bias
        if fmt.nan == "ieee" or (fmt.nan == "fn" and fmt.mbits == 0):
            # the all-ones exponent holds no finite value (inf/NaN, or fn's NaN-only binade)
            self.emax, max_significand = all_ones - 1 - fmt.bias, 2 ** self.p - 1
        elif fmt.nan == "fn":
            self.emax, max_significand = all_ones - fmt.bias, 2 ** self.p - 2
        else:  # fnuz, none: every exponent is finite
            self.emax, max_significand = all_ones - fmt.bias, 2 ** self.p - 1
        top_quantum = _pow2(self.emax - self.mbits)
        self.max_pos = self.max_neg = max_significand * top_quantum
        self.virtual_pos = self.virtual_neg = self.max_pos + top_quantum
        self.min_normal = _pow2(self.emin)
        self.negative_zero = fmt.nan != "fnuz" and fmt.signed

    def max_for(self, negative: bool) -> Fraction:
        return self.max_neg if negative else self.max_pos

    def step_at(self, X: Fraction) -> Fraction:
        """Quantum of the grid around the positive magnitude X."""
        if self.fixed:
            return self.quantum
        if X >= self.min_normal:
            return _pow2(floor_log2(X) - self.mbits)
        if self.fmt.subnormals:
            return _pow2(self.emin - self.mbits)
        return self.min_normal  # no subnormals: the grid below min normal is {0, min_normal}


@functools.lru_cache(maxsize=128)
def _cached_limits(fmt) -> Limits:
    return Limits(fmt)


def limits_of(fmt) -> Limits:
    """Limits of a format (a name or a descriptor), cached per descriptor."""
    return _cached_limits(get_format(fmt))


def floor_log2(X: Fraction) -> int:
    """floor(log2 X) for a positive Fraction, exactly."""
    e = X.numerator.bit_length() - X.denominator.bit_length()
    return e if _pow2(e) <= X else e - 1


def neighbours(X: Fraction, step: Fraction) -> tuple[Fraction, Fraction]:
    """lo <= X < hi, consecutive multiples of step."""
    lo = (X // step) * step
    return lo, lo + step


def pick(X, lo, hi, step, negative, mode, draw=None, rbits=SR_BITS) -> Fraction:
    """Choose between the magnitudes lo < X < hi (step = hi - lo) by the rounding mode."""
    if X == lo:
        return lo
    lo_is_even = (lo / step).numerator % 2 == 0  # lo / step is the integer significand of lo
    if mode in ("rne", "rna"):
        twice = 2 * (X - lo)
        if twice != step:
            return hi if twice > step else lo
        if mode == "rna":
            return hi
        return lo if lo_is_even else hi
    if mode == "rtz":
        return lo
    if mode == "rup":
        return lo if negative else hi
    if mode == "rdn":
        return hi if negative else lo
    if mode == "rto":
        return hi if lo_is_even else lo
    threshold = math.floor((X - lo) / step * 2 ** rbits)
    return hi if (draw >> (SR_BITS - rbits)) < threshold else lo


def _exact_float(x) -> float:
    """x as a float64, refusing non-real input and integers float64 cannot hold exactly."""
    if isinstance(x, (str, bytes, complex)) or not isinstance(x, numbers.Real):
        raise TypeError(f"x must be a real number, got {type(x).__name__} {x!r}")
    value = float(x)
    exact = (int(x) == int(value)) if isinstance(x, numbers.Integral) else (
        not isinstance(x, Fraction) or Fraction(value) == x)
    if not exact:
        raise ValueError(f"x={x} is not exactly representable in float64")
    return value


def _check_mode(mode, seed, rbits):
    if mode not in MODES:
        raise ValueError(f"invalid rounding mode {mode!r}; valid modes: {', '.join(MODES)}")
    if rbits is not None and mode != "sr":
        raise ValueError(f"rbits={rbits} only applies to mode 'sr'")
    if mode != "sr":
        return SR_BITS
    if seed is None:
        raise ValueError("the reference needs an explicit seed for mode 'sr'")
    rbits = SR_BITS if rbits is None else rbits
    if isinstance(rbits, bool) or not isinstance(rbits, int) or not 1 <= rbits <= SR_BITS:
        raise ValueError(f"rbits={rbits!r} is out of range; valid: 1..{SR_BITS}")
    return rbits


def _signed(magnitude: Fraction, negative: bool, lim: Limits) -> float:
    value = float(magnitude)
    if negative and (value != 0.0 or lim.negative_zero):
        return -value
    return value


def _wrapped(R, negative, lim):
    """A wrapping fixed-point overflow: the rounded magnitude R (a multiple of the quantum) with
    its sign, as an integer k of quanta reduced modulo 2^nbits into the format's range."""
    nbits = lim.fmt.nbits
    k = int(R / lim.quantum) * (-1 if negative else 1) % 2 ** nbits
    if lim.fmt.signed and k >= 2 ** (nbits - 1):
        k -= 2 ** nbits
    return float(k * lim.quantum), frozenset({"overflow", "inexact"})


def _overflow(negative, mode, saturate, lim):
    """(result, flags) for a rounded magnitude beyond the largest finite one."""
    to_inf = mode in ("rne", "rna", "sr") or (mode == "rup" and not negative) or (
        mode == "rdn" and negative)
    flags = {"overflow", "inexact"}
    if not to_inf:
        return _signed(lim.max_for(negative), negative, lim), flags
    if saturate or lim.fixed or lim.fmt.nan == "none":
        return _signed(lim.max_for(negative), negative, lim), flags | {"saturated"}
    if lim.fmt.nan == "ieee":
        return (-math.inf if negative else math.inf), flags
    return math.nan, flags


def _is_tiny(X, negative, mode, lim) -> bool:
    """Tininess after rounding: X rounded to p bits with an unbounded exponent range (same mode)
    is below min normal; for sr, X itself is below min normal."""
    if X >= lim.min_normal:
        return False
    if mode == "sr":
        return True
    lo, hi = neighbours(X, _pow2(floor_log2(X) - lim.mbits))
    return pick(X, lo, hi, hi - lo, negative, mode) < lim.min_normal


def reference_round(x, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, index=0,
                    rbits=None):
    """Round the float64 x to fmt exactly as docs/rounding.md specifies.

    Returns (value, flags): the float64 result and a frozenset of flag names (numprec.Flags
    names). For mode "sr", `seed` is required and `index` is the element's flat C-order index in
    the call being modelled; the draw is random62_py(key_from_seed(seed, STREAM_ROUND), index).
    """
    lim = limits_of(fmt)
    rbits = _check_mode(mode, seed, rbits)
    x = _exact_float(x)
    negative = math.copysign(1.0, x) < 0
    if math.isnan(x):
        return x, frozenset()
    if x == 0.0 and not lim.zero:  # no zero (E8M0): a zero is invalid
        return math.nan, frozenset({"invalid"})
    if negative and x != 0.0 and not lim.fixed and not lim.signed:
        return math.nan, frozenset({"invalid"})  # an unsigned float format has no negatives
    if math.isinf(x):
        if saturate or lim.fixed or lim.fmt.nan == "none":
            return _signed(lim.max_for(negative), negative, lim), frozenset({"saturated"})
        if lim.fmt.nan == "ieee":
            return x, frozenset()
        return math.nan, frozenset({"invalid"})
    if x == 0.0:
        return _signed(Fraction(0), negative, lim), frozenset()

    X = Fraction(abs(x))
    step = lim.step_at(X)
    lo, hi = neighbours(X, step)
    draw = random62_py(key_from_seed(seed, STREAM_ROUND), index) if mode == "sr" else None
    R = pick(X, lo, hi, step, negative, mode, draw, rbits)
    if R == 0 and not lim.zero:
        R = lim.min_normal  # no zero: every mode gives the smallest value
    if R > lim.max_for(negative):
        if lim.wrap and not saturate:
            return _wrapped(R, negative, lim)
        value, flags = _overflow(negative, mode, saturate, lim)
        return value, frozenset(flags)
    flags = set()
    if R != X:
        flags.add("inexact")
        if not lim.fixed and _is_tiny(X, negative, mode, lim):
            flags.add("underflow")
    if ftz and not lim.fixed and 0 < R < lim.min_normal:
        R = Fraction(0)
        flags |= {"flushed", "underflow", "inexact"}
    return _signed(R, negative, lim), frozenset(flags)


def reference_events(exact, value, fmt, flags=frozenset()) -> frozenset:
    """The events numprec's kernels count besides the flags, for a result `value` whose exact
    value is `exact` in format fmt and which raised `flags`: "zeroed" (exact nonzero, the result a
    zero that is not an overflow's clamp: underflow to zero, ftz flushes included) and
    "subnormal" (a nonzero result below the smallest normal number of a float format). NaN and
    infinite exact values raise none. ("swamped" belongs to a whole accumulation, not to one
    rounding: tests/ops/test_accumulate_models.py's reference loops mark it.)"""
    exact, value = float(exact), float(value)
    if not math.isfinite(exact) or math.isnan(value):
        return frozenset()
    lim = limits_of(fmt)
    if value == 0.0:
        zeroed = exact != 0.0 and "overflow" not in flags  # (unsigned fixed point clamps to 0)
        return frozenset({"zeroed"}) if zeroed else frozenset()
    if not lim.fixed and math.isfinite(value) and Fraction(abs(value)) < lim.min_normal:
        return frozenset({"subnormal"})
    return frozenset()


def reference_decode(bits, fmt) -> float:
    """float64 value of the right-aligned bit pattern `bits` (a Python int) in fmt."""
    lim = limits_of(fmt)
    fmt = lim.fmt
    if isinstance(bits, bool) or not isinstance(bits, int):
        if not (hasattr(bits, "__index__") and not isinstance(bits, float)):
            raise TypeError(f"bits must be an int, got {type(bits).__name__} {bits!r}")
        bits = bits.__index__()
    if not 0 <= bits < 2 ** fmt.nbits:
        raise ValueError(f"bit pattern {bits} is out of range for {fmt.name} "
                         f"({fmt.nbits} bits: 0..{2 ** fmt.nbits - 1})")
    sign_bit = 2 ** (fmt.nbits - 1) if fmt.signed else 2 ** fmt.nbits  # (unsigned: none)
    if lim.fixed:
        k = bits - 2 ** fmt.nbits if fmt.signed and bits >= sign_bit else bits
        return float(k * lim.quantum)
    negative = bits >= sign_bit
    biased = (bits >> fmt.mbits) & (2 ** fmt.ebits - 1)
    mant = bits & (2 ** fmt.mbits - 1)
    top = biased == 2 ** fmt.ebits - 1
    if fmt.nan == "ieee" and top:
        return math.nan if mant else (-math.inf if negative else math.inf)
    if fmt.nan == "fn" and top and mant == 2 ** fmt.mbits - 1:
        return math.nan
    if fmt.nan == "fnuz" and bits == sign_bit:
        return math.nan
    if biased == 0 and fmt.zero:
        magnitude = mant * _pow2(lim.emin - fmt.mbits) if fmt.subnormals else Fraction(0)
    else:  # (without a zero the biased exponent 0 is a normal binade too)
        magnitude = (2 ** fmt.mbits + mant) * _pow2(biased - fmt.bias - fmt.mbits)
    return _signed(magnitude, negative, lim)


def reference_encode(value, fmt) -> int:
    """Bit pattern (a Python int) of a value that is exactly representable in fmt (NaN and +-inf
    where the format has them). Raises ValueError for anything else."""
    lim = limits_of(fmt)
    fmt = lim.fmt
    value = _exact_float(value)
    negative = math.copysign(1.0, value) < 0
    sign = 2 ** (fmt.nbits - 1) if negative and fmt.signed else 0
    if lim.fixed:
        if not math.isfinite(value):
            raise ValueError(f"{fmt.name} has no bit pattern for {value!r}")
        k = Fraction(value) / lim.quantum
        if k.denominator != 1 or not -lim.max_neg <= Fraction(value) <= lim.max_pos:
            raise ValueError(f"{value!r} is not representable in {fmt.name}")
        return int(k) % 2 ** fmt.nbits
    all_ones = 2 ** fmt.ebits - 1
    if math.isnan(value):
        if fmt.nan == "ieee":
            return sign | (all_ones << fmt.mbits) | 2 ** (fmt.mbits - 1)
        if fmt.nan == "fn":  # all ones below the sign bit (all ones when unsigned)
            return sign | (2 ** (fmt.nbits - int(fmt.signed)) - 1)
        if fmt.nan == "fnuz":
            return 2 ** (fmt.nbits - 1)
        raise ValueError(f"{fmt.name} has no NaN")
    if negative and not fmt.signed and value != 0.0:
        raise ValueError(f"{fmt.name} is unsigned: it has no pattern for {value!r}")
    if math.isinf(value):
        if fmt.nan == "ieee":
            return sign | (all_ones << fmt.mbits)
        raise ValueError(f"{fmt.name} has no infinity")
    if value == 0.0:
        if not fmt.zero:
            raise ValueError(f"{fmt.name} has no zero")
        return sign if lim.negative_zero else 0
    X = Fraction(abs(value))
    if X > lim.max_pos:
        raise ValueError(f"{value!r} is beyond the range of {fmt.name}")
    if X >= lim.min_normal:
        E = floor_log2(X)
        M = X / _pow2(E - fmt.mbits)
        if M.denominator == 1:
            return sign | ((E + fmt.bias) << fmt.mbits) | (int(M) - 2 ** fmt.mbits)
    elif fmt.subnormals:
        M = X / _pow2(lim.emin - fmt.mbits)
        if M.denominator == 1:
            return sign | int(M)
    raise ValueError(f"{value!r} is not representable in {fmt.name}")


def representable_values(fmt, max_bits: int = 20):
    """All finite values of fmt as a sorted, read-only float64 numpy array (zero once, as +0.0).

    Enumerates every bit pattern, so formats wider than `max_bits` bits are refused."""
    fmt = get_format(fmt)
    if fmt.nbits > max_bits:
        raise ValueError(f"{fmt.name} has {fmt.nbits}-bit patterns; enumerating more than "
                         f"2**{max_bits} is refused (raise max_bits to insist)")
    return _representable_values(fmt)


@functools.lru_cache(maxsize=64)
def _representable_values(fmt):
    import numpy as np

    values = {reference_decode(b, fmt) for b in range(2 ** fmt.nbits)}
    finite = np.array(sorted(v for v in values if math.isfinite(v)), dtype=np.float64)
    out = np.unique(finite + 0.0)  # +0.0 turns -0.0 into +0.0; unique merges the zeros
    out.setflags(write=False)
    return out


__all__ = ["MODES", "FLAG_NAMES", "EVENT_NAMES", "SR_BITS", "Limits", "limits_of",
           "reference_events", "reference_round",
           "reference_encode", "reference_decode", "representable_values", "floor_log2",
           "neighbours", "pick"]
