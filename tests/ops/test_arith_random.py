"""add, sub, mul, div, sqrt and fma on random and adversarial float64 operands for the wide
formats (fp16, bf16, tf32, fp32, fp64, fixed point, a format without subnormals), every mode,
against the exact Fraction reference of test_arith_reference, bit for bit, flags per element.

Adversarial operands put the exact result on a tie between two neighbours of the format, or a
hair (far below float64's precision) off it, on the overflow and subnormal boundaries, at
cancellations, and use float64 operands across the whole exponent range (the scaling paths).
"""
import math
import random

import numpy as np
import pytest

import numprec
from numprec.formats import Format
from numprec.kernels.scalar.rng import key_from_seed, random62_py
from numprec.codes import STREAM_ARITH as STREAMS
from numprec.testing import assert_bits_equal, assert_flags_per_element
from numprec.testing.oracle import FLAG_NAMES
from test_arith_reference import reference_op

FORMATS = ["fp16", "bf16", "tf32", "fp32", "fp64", "q10.5", Format("e5m3_nosub", 5, 3,
                                                                    subnormals=False)]
MODES = ["rne", "rna", "rtz", "rup", "rdn", "rto", "sr"]
ARITY = {"add": 2, "sub": 2, "mul": 2, "div": 2, "sqrt": 1, "fma": 3}
N_CASES = 160


def limits(fmt):
    fmt = numprec.get_format(fmt)
    if fmt.is_fixed:
        return 2 * fmt.frac_bits + fmt.int_bits, -fmt.frac_bits, fmt.int_bits, fmt.max, fmt.eps
    return fmt.mbits, fmt.emin, fmt.emax, fmt.max, fmt.min_subnormal


def grid_value(rng, fmt):
    """A random value of the format's grid (or just outside its range)."""
    mbits, emin, emax, _, _ = limits(fmt)
    e = rng.randint(emin - 2, emax)
    return math.ldexp(rng.getrandbits(mbits + 1) | (1 << mbits), e - mbits) * rng.choice((-1, 1))


def quantum(x, fmt):
    """The grid step of the format around x (normal range)."""
    mbits = limits(fmt)[0]
    return math.ldexp(1.0, math.frexp(x)[1] - 1 - mbits)


def hair(x, rng):
    """A nudge far below x's float64 precision but not zero, of random sign (0 half the time)."""
    if rng.random() < 0.5:
        return 0.0
    return math.ldexp(abs(x), -rng.randint(60, 200)) * rng.choice((-1, 1))


def midpoint_factors(rng, fmt):
    """(a, b), float64s whose product is an odd integer of p + 1 bits (a midpoint of the grid
    once scaled), possibly nudged by one float64 ulp; for fp64 both factors stay in 27 bits."""
    p = limits(fmt)[0] + 1
    while True:
        bits_a = rng.randint(1, p)
        a = rng.getrandbits(bits_a) | 1 | (1 << (bits_a - 1))
        b = rng.getrandbits(p + 1 - bits_a + 1) | 1
        if (a * b).bit_length() == p + 1 and max(a.bit_length(), b.bit_length()) <= 53:
            break
    a = math.ldexp(a, rng.randint(-30, 0))
    if rng.random() < 0.3:
        a = math.nextafter(a, rng.choice((-math.inf, math.inf)))
    return a * rng.choice((-1, 1)), math.ldexp(b, rng.randint(-5, 5))


def near_midpoint_quotient(rng, fmt):
    """(a, b) with a / b = M / 2^(p+1) -+ 1 / (2^(p+1) b) for a random odd M of p + 1 bits: a
    midpoint of the grid plus or minus a relative 2^-(2p+2) or so (b = M^-1 mod 2^(p+1))."""
    p = limits(fmt)[0] + 1
    while True:  # until A and B fit in float64's 53 bits
        M = rng.getrandbits(p + 1) | 1 | (1 << p)
        sign = rng.choice((-1, 1))
        B = pow(M, -1, 1 << (p + 1)) * sign % (1 << (p + 1))  # M * B = sign (mod 2^(p+1))
        A = (M * B - sign) >> (p + 1)
        if max(A, B) < 2 ** 53:
            break
    e = rng.randint(-20, 20)
    return math.ldexp(A, e), math.ldexp(B, e - rng.randint(-3, 3))


def random_float(rng, fmt, spread=4):
    mbits, emin, emax, _, _ = limits(fmt)
    e = min(max(rng.randint(emin - mbits - spread, emax + spread), -1074), 1023)
    return math.ldexp(rng.random() + 0.5, e) * rng.choice((-1, 1))


def extreme_float(rng):
    return rng.choice([5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e300, 1e-300,
                       math.ldexp(1.0, rng.randint(-1074, 1023))]) * rng.choice((-1, 1))


def pick_float(rng, fmt):
    return rng.choice([random_float(rng, fmt), extreme_float(rng)])


def cases(op, fmt, seed):
    rng = random.Random(f"{op}-{numprec.get_format(fmt).name}-{seed}")
    _, _, _, fmax, smallest = limits(fmt)
    out = []
    for i in range(N_CASES):
        kind = i % 5
        v = grid_value(rng, fmt)
        half = quantum(v, fmt) / 2
        if op in ("add", "sub"):
            if kind == 0:    # a tie, or a few float64 ulps of b off it (a + b not a float64)
                b = half * rng.choice((-1, 1))
                for _ in range(rng.choice((0, 0, 1, 3))):
                    b = math.nextafter(b, rng.choice((-math.inf, math.inf)))
                args = (v, b) if rng.random() < 0.6 else (  # a float64 midpoint, a tiny b
                    v + half, math.ldexp(half, -rng.randint(60, 400)) * rng.choice((-1, 1)))
            elif kind == 1:  # cancellation
                w = v
                for _ in range(rng.randint(1, 3)):
                    w = math.nextafter(w, rng.choice((0, math.inf)))
                args = (v, -w * rng.choice((1, 1 + 2 ** -30)))
            elif kind == 2:  # the overflow and subnormal boundaries
                args = rng.choice([(fmax, math.ldexp(quantum(fmax, fmt), -1) + hair(fmax, rng)),
                                   (smallest * rng.randint(1, 9), -smallest * rng.random())])
            elif kind == 3:
                args = (random_float(rng, fmt), random_float(rng, fmt))
            else:
                args = (extreme_float(rng), pick_float(rng, fmt))
            if op == "sub":
                args = (args[0], -args[1])
        elif op in ("mul", "div"):
            if kind == 0:    # the exact result is a midpoint of the grid (or a hair off)
                a, b = midpoint_factors(rng, fmt)
                args = (a, b) if op == "mul" else (a * b, b)
            elif kind == 1:  # results at the subnormal / overflow boundary
                target = rng.choice([smallest * rng.random() * 4, fmax * (1 + rng.random() / 64)])
                b = random_float(rng, "fp16", 0)
                args = (target / b, b) if op == "mul" else (target * b, b)
            elif kind == 2:
                args = (random_float(rng, fmt), random_float(rng, fmt))
            elif kind == 3 and op == "div":
                args = near_midpoint_quotient(rng, fmt)
            else:
                args = (extreme_float(rng), pick_float(rng, fmt))
        elif op == "sqrt":
            odd = (rng.getrandbits(min(limits(fmt)[0] + 1, 25)) << 1) | 1
            if kind <= 1:    # squares of midpoints, and their float64 neighbours
                sq = math.ldexp(odd * odd, 2 * rng.randint(-30, 10))
                args = (rng.choice([sq, math.nextafter(sq, 0), math.nextafter(sq, math.inf)]),)
            elif kind == 2:
                args = (abs(random_float(rng, fmt)) * rng.choice((1, 1, 1, -1)),)
            else:
                args = (abs(extreme_float(rng)),)
        else:  # fma
            if kind == 0:    # a midpoint product and a c far below it (double-rounding trap)
                a, b = midpoint_factors(rng, fmt)
                args = (a, b, hair(a * b, rng) or math.ldexp(a * b, -rng.randint(54, 1000)))
            elif kind == 1:  # cancellation against the rounded product
                a, b = random_float(rng, fmt), random_float(rng, fmt)
                args = (a, b, -(a * b) + hair(a * b, rng))
            elif kind == 2:
                args = tuple(random_float(rng, fmt) for _ in range(3))
            else:
                args = (extreme_float(rng), pick_float(rng, fmt),
                        rng.choice([random_float(rng, fmt), extreme_float(rng), 0.0, -0.0]))
        out.append(args)
    return out


def check(op, fmt, mode, args, saturate=False, ftz=False, seed=77):
    cols = [np.array(c, dtype=np.float64) for c in zip(*args)]
    fn = getattr(numprec, op)
    got = fn(*cols, fmt, mode, saturate=saturate, ftz=ftz, seed=seed)
    key = key_from_seed(seed, STREAMS[op])
    expected = [reference_op(op, a, fmt, mode, saturate=saturate, ftz=ftz,
                             draw=random62_py(key, i)) for i, a in enumerate(args)]
    context = f"{op} {numprec.get_format(fmt).name} {mode} saturate={saturate} ftz={ftz}"
    assert_bits_equal(got, [v for v, _ in expected], np.arange(len(args)), context)
    flags = {name: np.array([name in f for _, f in expected]) for name in FLAG_NAMES}
    if mode == "sr":
        counted = numprec.Flags()
        fn(*cols, fmt, mode, saturate=saturate, ftz=ftz, seed=seed, flags=counted)
        assert counted.as_dict() == {n: int(flags[n].sum()) for n in FLAG_NAMES}, context
        return

    def run(subset, counted):
        pick = subset.astype(np.int64)
        fn(*(c[pick] for c in cols), fmt, mode, saturate=saturate, ftz=ftz, flags=counted)
    assert_flags_per_element(run, np.arange(len(args), dtype=np.float64), flags, context)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: numprec.get_format(f).name)
@pytest.mark.parametrize("op", list(ARITY))
def test_against_exact_reference(op, fmt):
    args = cases(op, fmt, 0)
    for mode in MODES:
        if mode == "sr" and op in ("div", "sqrt") and numprec.get_format(fmt).name == "fp64":
            continue  # documented: fp64's sr for div/sqrt compares with a 106-bit quotient
        check(op, fmt, mode, args)


@pytest.mark.parametrize("op", list(ARITY))
def test_saturate_and_ftz(op):
    for fmt in ("fp16", "bf16"):
        args = cases(op, fmt, 1)
        for mode in ("rne", "rtz", "rup", "sr"):
            check(op, fmt, mode, args, saturate=True, ftz=True)


def test_stochastic_rounding_with_few_random_bits():
    args = cases("fma", "fp16", 2)
    cols = [np.array(c) for c in zip(*args)]
    key = key_from_seed(9, STREAMS["fma"])
    for rbits in (1, 3, 13):
        got = numprec.fma(*cols, "fp16", "sr", seed=9, rbits=rbits)
        expected = [reference_op("fma", a, "fp16", "sr", draw=random62_py(key, i), rbits=rbits)[0]
                    for i, a in enumerate(args)]
        assert_bits_equal(got, expected, None, f"rbits={rbits}")
