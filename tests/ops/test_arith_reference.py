"""An exact, slow reference for numprec's arithmetic (imported by the other arithmetic tests), and
the tests that check this reference itself against MPFR (gmpy2) and against numprec's rounding
oracle.

The reference shares no code with numprec.kernels: the exact result of an op is a Fraction (or,
for sqrt, the square root of one, compared through its square), rounded by the rules of
docs/rounding.md with the format limits of numprec.testing.oracle; IEEE special cases (invalid,
division by zero, signed zeros, NaN propagation) are spelled out separately here.
"""
from __future__ import annotations

import math
import random
from fractions import Fraction

import gmpy2
import numpy as np
import pytest

from numprec.kernels.scalar.rng import key_from_seed, random62_py
from numprec.testing.oracle import SR_BITS, floor_log2, limits_of, reference_round

MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto", "sr")


class Sqrt:
    """The positive square root of a positive Fraction, compared exactly through its square."""

    def __init__(self, square: Fraction):
        self.square = square


def floor_times(X, c: Fraction) -> int:
    """floor(X * c) for an exact magnitude X and c > 0."""
    if isinstance(X, Sqrt):
        return math.isqrt(math.floor(X.square * c * c))
    return math.floor(X * c)


def compare(X, v: Fraction) -> int:
    """sign(X - v) for v >= 0."""
    if isinstance(X, Sqrt):
        left, right = X.square, v * v
    else:
        left, right = X, v
    return (left > right) - (left < right)


def log2_floor(X) -> int:
    return floor_log2(X.square) // 2 if isinstance(X, Sqrt) else floor_log2(X)


def step_of(X, lim) -> Fraction:
    if lim.fixed:
        return lim.quantum
    if compare(X, lim.min_normal) >= 0:
        return Fraction(2) ** (log2_floor(X) - lim.mbits)
    if lim.fmt.subnormals:
        return Fraction(2) ** (lim.emin - lim.mbits)
    return lim.min_normal


def goes_up(X, k, step, negative, mode, draw, rbits) -> bool:
    """Whether X, strictly between k*step and (k+1)*step, rounds to the upper one."""
    if mode in ("rne", "rna"):
        c = compare(X, (k + Fraction(1, 2)) * step)
        if c:
            return c > 0
        return mode == "rna" or k % 2 == 1
    if mode == "rtz":
        return False
    if mode == "rup":
        return not negative
    if mode == "rdn":
        return negative
    if mode == "rto":
        return k % 2 == 0
    threshold = floor_times(X, Fraction(2) ** rbits / step) - k * 2 ** rbits
    return (draw >> (SR_BITS - rbits)) < threshold


def signed(magnitude: Fraction, negative: bool, lim) -> float:
    value = float(magnitude)
    return -value if negative and (value != 0.0 or lim.negative_zero) else value


def overflow(negative, mode, saturate, lim):
    to_inf = mode in ("rne", "rna", "sr") or mode == ("rdn" if negative else "rup")
    flags = {"overflow", "inexact"}
    if not to_inf:
        return signed(lim.max_for(negative), negative, lim), flags
    if saturate or lim.fixed or lim.fmt.nan == "none":
        return signed(lim.max_for(negative), negative, lim), flags | {"saturated"}
    if lim.fmt.nan == "ieee":
        return (-math.inf if negative else math.inf), flags
    return math.nan, flags


def wrapped(k: int, negative: bool, lim) -> float:
    """A wrapping fixed-point overflow: the rounded integer k (quanta) with its sign, reduced
    modulo 2^nbits into the range (two's complement, or unsigned)."""
    nbits = lim.fmt.nbits
    k = (-k if negative else k) % 2 ** nbits
    if lim.fmt.signed and k >= 2 ** (nbits - 1):
        k -= 2 ** nbits
    return float(k * lim.quantum)


def round_magnitude(X, negative, fmt, mode, *, saturate=False, ftz=False, draw=None, rbits=62):
    """(value, flags): the exact positive magnitude X (a Fraction or a Sqrt) with a sign, rounded
    once to fmt as docs/rounding.md specifies."""
    lim = limits_of(fmt)
    if negative and not lim.fixed and not lim.signed:  # an unsigned float format
        return math.nan, frozenset({"invalid"})
    step = step_of(X, lim)
    k = floor_times(X, 1 / step)
    exact = compare(X, k * step) == 0
    up = not exact and goes_up(X, k, step, negative, mode, draw, rbits)
    R = (k + up) * step
    if R == 0 and not lim.zero:  # no zero (E8M0): the smallest value, in every mode
        R = lim.min_normal
    if R > lim.max_for(negative):
        if lim.wrap and not saturate:
            return wrapped(k + up, negative, lim), frozenset({"overflow", "inexact"})
        value, flags = overflow(negative, mode, saturate, lim)
        return value, frozenset(flags)
    flags = set()
    if not exact:
        flags.add("inexact")
        if not lim.fixed and compare(X, lim.min_normal) < 0:
            tiny = True
            if mode != "sr":
                unbounded = Fraction(2) ** (log2_floor(X) - lim.mbits)
                kk = floor_times(X, 1 / unbounded)
                up = compare(X, kk * unbounded) != 0 and goes_up(X, kk, unbounded, negative, mode,
                                                                  draw, rbits)
                tiny = (kk + up) * unbounded < lim.min_normal
            if tiny:
                flags.add("underflow")
    if ftz and not lim.fixed and 0 < R < lim.min_normal:
        R = Fraction(0)
        flags |= {"flushed", "underflow", "inexact"}
    return signed(R, negative, lim), frozenset(flags)


def _zero(negative, fmt):
    lim = limits_of(fmt)
    if not lim.zero:  # E8M0 has no zero
        return math.nan, frozenset({"invalid"})
    return signed(Fraction(0), negative, lim), frozenset()


def _infinite(negative, fmt, mode, saturate, ftz):
    return reference_round(-math.inf if negative else math.inf, fmt, "rne", saturate=saturate,
                           ftz=ftz)


def _exact(value, fmt, mode, options, rdn_zero=True):
    """Round an exact Fraction; an exact zero from nonzero operands is +0 (rdn: -0)."""
    if value == 0:
        return _zero(mode == "rdn", fmt)
    return round_magnitude(abs(value), value < 0, fmt, mode, **options)


def reference_op(op, args, fmt, mode="rne", *, saturate=False, ftz=False, draw=None, rbits=62):
    """(value, flags) of op in add, sub, mul, div, sqrt, fma on float64 operands `args`."""
    options = dict(saturate=saturate, ftz=ftz, draw=draw, rbits=rbits)
    for x in args:
        if math.isnan(x):
            return x, frozenset()
    neg = [math.copysign(1.0, x) < 0 for x in args]
    if op == "sub":
        a, b = args
        return reference_op("add", (a, -b), fmt, mode, saturate=saturate, ftz=ftz, draw=draw,
                            rbits=rbits)
    if op == "add":
        a, b = args
        if math.isinf(a) or math.isinf(b):
            if math.isinf(a) and math.isinf(b) and neg[0] != neg[1]:
                return math.nan, frozenset({"invalid"})
            return _infinite(neg[0] if math.isinf(a) else neg[1], fmt, mode, saturate, ftz)
        if a == 0 and b == 0:
            return _zero(neg[0] and neg[1] or (neg[0] != neg[1] and mode == "rdn"), fmt)
        return _exact(Fraction(a) + Fraction(b), fmt, mode, options)
    if op == "mul":
        a, b = args
        if math.isinf(a) or math.isinf(b):
            if a == 0 or b == 0:
                return math.nan, frozenset({"invalid"})
            return _infinite(neg[0] != neg[1], fmt, mode, saturate, ftz)
        if a == 0 or b == 0:
            return _zero(neg[0] != neg[1], fmt)
        return _exact(Fraction(a) * Fraction(b), fmt, mode, options)
    if op == "div":
        a, b = args
        negative = neg[0] != neg[1]
        if math.isinf(a):
            if math.isinf(b):
                return math.nan, frozenset({"invalid"})
            return _infinite(negative, fmt, mode, saturate, ftz)
        if b == 0:
            if a == 0:
                return math.nan, frozenset({"invalid"})
            value, flags = _infinite(negative, fmt, mode, saturate, ftz)
            return value, flags | {"divbyzero"}
        if a == 0 or math.isinf(b):
            return _zero(negative, fmt)
        return _exact(Fraction(a) / Fraction(b), fmt, mode, options)
    if op == "sqrt":
        (a,) = args
        if a == 0:
            return _zero(neg[0], fmt)
        if a < 0:
            return math.nan, frozenset({"invalid"})
        if math.isinf(a):
            return _infinite(False, fmt, mode, saturate, ftz)
        square = Fraction(a)
        root = math.isqrt(square.numerator * square.denominator)
        if root * root == square.numerator * square.denominator:  # a perfect square: exact
            return round_magnitude(Fraction(root, square.denominator), False, fmt, mode, **options)
        return round_magnitude(Sqrt(square), False, fmt, mode, **options)
    if op == "fma":
        a, b, c = args
        pneg = neg[0] != neg[1]
        if math.isinf(a) or math.isinf(b):
            if a == 0 or b == 0 or (math.isinf(c) and neg[2] != pneg):
                return math.nan, frozenset({"invalid"})
            return _infinite(pneg, fmt, mode, saturate, ftz)
        if math.isinf(c):
            return _infinite(neg[2], fmt, mode, saturate, ftz)
        if (a == 0 or b == 0) and c == 0:
            return _zero(pneg and neg[2] or (pneg != neg[2] and mode == "rdn"), fmt)
        return _exact(Fraction(a) * Fraction(b) + Fraction(c), fmt, mode, options)
    raise ValueError(f"unknown op {op!r}")


def same(x: float, y: float) -> bool:
    """Equal as float64 bit patterns."""
    return np.float64(x).view(np.uint64) == np.float64(y).view(np.uint64)


# --- tests of the reference itself -----------------------------------------------------------

_MPFR_MODES = {"rne": gmpy2.RoundToNearest, "rtz": gmpy2.RoundToZero, "rup": gmpy2.RoundUp,
               "rdn": gmpy2.RoundDown}
_MPFR_OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
             "div": lambda a, b: a / b}


def mpfr_round(op, args, fmt_name, mode):
    """MPFR with the format's precision, exponent range and subnormals (IEEE formats only)."""
    lim = limits_of(fmt_name)
    p = lim.mbits + 1
    operands = [gmpy2.mpfr(x, 53) for x in args]  # exact, made in the full-range context
    context = gmpy2.context(precision=p, emin=lim.emin - p + 2, emax=lim.emax + 1,
                            subnormalize=True, round=_MPFR_MODES[mode])
    with context:
        if op == "sqrt":
            value = gmpy2.sqrt(operands[0])
        elif op == "fma":
            value = gmpy2.fma(*operands)
        else:
            value = _MPFR_OPS[op](*operands)
        return float(value)


def _random_operand(rng: random.Random) -> float:
    return math.ldexp(rng.random() + 0.5, rng.randint(-30, 30)) * rng.choice((-1, 1))


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp32"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "sqrt", "fma"])
def test_reference_agrees_with_mpfr(fmt, op):
    rng = random.Random(f"{fmt}-{op}")
    arity = {"sqrt": 1, "fma": 3}.get(op, 2)
    for _ in range(150):
        args = tuple(_random_operand(rng) for _ in range(arity))
        if op == "sqrt":
            args = (abs(args[0]),)
        if op in ("add", "sub") and rng.random() < 0.5:  # cancellation
            args = (args[0], math.nextafter(args[0], math.inf) * (1 if op == "sub" else -1))
        for mode in _MPFR_MODES:
            expected = mpfr_round(op, args, fmt, mode)
            got, _ = reference_op(op, args, fmt, mode)
            assert same(got, expected), (op, args, mode, got, expected)


def test_reference_rounding_of_float64_matches_the_rounding_oracle():
    """Rounding an exact float64 value through the Fraction path is numprec's round contract."""
    rng = random.Random(7)
    for fmt in ("fp16", "fp8_e4m3fn", "fp8_e5m2fnuz", "q3.4", "fp6_e2m3fn"):
        for _ in range(300):
            x = math.ldexp(rng.random(), rng.randint(-20, 12)) * rng.choice((-1, 1))
            for mode in MODES:
                expected = reference_round(x, fmt, mode, seed=3, index=5)
                draw = random62_py(key_from_seed(3), 5)
                got = round_magnitude(Fraction(abs(x)), x < 0, fmt, mode, draw=draw)
                assert same(got[0], expected[0]) and got[1] == expected[1], (fmt, x, mode)


def test_reference_stochastic_threshold_uses_the_exact_distance():
    """sr: hi iff the top rbits of the draw fall below floor(frac * 2^rbits), frac exact."""
    X = Fraction(1) + Fraction(1, 4) * Fraction(2) ** -10  # a quarter of the way to 1 + 2^-10
    quarter = 2 ** 60
    assert round_magnitude(X, False, "fp16", "sr", draw=quarter - 1)[0] == 1 + 2 ** -10
    assert round_magnitude(X, False, "fp16", "sr", draw=quarter)[0] == 1.0


def test_reference_sqrt_of_non_squares_is_never_exact():
    value, flags = reference_op("sqrt", (2.0,), "fp32", "rne")
    assert value == float(np.float32(math.sqrt(2.0))) and "inexact" in flags
    assert reference_op("sqrt", (0.25,), "fp32", "rne") == (0.5, frozenset())
