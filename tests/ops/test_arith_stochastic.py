"""Stochastic rounding of arithmetic results uses the exact distance to the neighbours.

A random draw almost never lands next to the threshold floor(frac * 2^62), so here the compiled
scalar kernels are called with chosen draws: the exact threshold T (from Fractions) and its
neighbours T - 1 and T + 1, where an error of a single unit in the computed distance changes the
result. Also: the public ops' streams, reproducibility by seed, and unbiasedness.
"""
import math
from fractions import Fraction

import numpy as np
import pytest

import numprec
from numprec.codes import MODE_CODE, NCOUNTS, STREAM_ARITH as STREAMS
from numprec.kernels import cpu
from numprec.kernels.cpu.scalars import S
from numprec.kernels.scalar.rng import key_from_seed
from test_arith_random import cases
from test_arith_reference import Sqrt, compare, floor_times, limits_of, reference_op, same, step_of

SCALARS = {"add": S.add_round, "sub": S.sub_round, "mul": S.mul_round, "div": S.div_round,
           "sqrt": S.sqrt_round, "fma": S.fma_round}
SR = MODE_CODE["sr"]


def exact_value(op, args):
    """The exact nonzero finite result as (magnitude, negative), or None."""
    if not all(math.isfinite(x) for x in args):
        return None
    f = [Fraction(x) for x in args]
    if op == "sqrt":
        return (Sqrt(f[0]), False) if f[0] > 0 else None
    if op == "div" and f[1] == 0:
        return None
    value = {"add": lambda: f[0] + f[1], "sub": lambda: f[0] - f[1], "mul": lambda: f[0] * f[1],
             "div": lambda: f[0] / f[1], "fma": lambda: f[0] * f[1] + f[2]}[op]()
    return (abs(value), value < 0) if value != 0 else None


def threshold(X, fmt):
    """floor(frac * 2^62) of the exact magnitude X between its neighbours."""
    step = step_of(X, limits_of(fmt))
    k = floor_times(X, 1 / step)
    if compare(X, k * step) == 0:
        return None
    return floor_times(X, Fraction(2) ** 62 / step) - k * 2 ** 62


def draws_near_threshold(op, fmt, seed, width):
    """(args, draw) pairs: for each case with an inexact result, the draws T - width, T,
    T + width around its exact threshold T."""
    for args in cases(op, fmt, seed):
        exact = exact_value(op, args)
        T = None if exact is None else threshold(exact[0], fmt)
        if T is not None:
            for draw in (T - width, T, T + width):
                if 0 <= draw < 2 ** 62:
                    yield args, draw


def check_draws(op, fmt, pairs):
    P = numprec.get_format(fmt).kernel_params
    checked = 0
    for args, draw in pairs:
        got, _ = SCALARS[op](*args, P, SR, False, False, np.int64(draw), 62)
        expected, _ = reference_op(op, args, fmt, "sr", draw=draw)
        assert same(got, expected), (op, fmt, args, draw, got, expected)
        checked += 1
    assert checked > 100


EXACT_SR = [(op, fmt) for op in SCALARS for fmt in ("fp16", "bf16", "fp32", "fp8_e5m2", "q10.5",
                                                    "fp64")
            if not (fmt == "fp64" and op in ("div", "sqrt"))]


@pytest.mark.parametrize("op,fmt", EXACT_SR)
def test_draws_next_to_the_exact_threshold(op, fmt):
    check_draws(op, fmt, draws_near_threshold(op, fmt, 3, 1))


@pytest.mark.parametrize("op", ["div", "sqrt"])
def test_fp64_quotients_and_roots_resolve_the_threshold_to_2_to_the_minus_53(op):
    """The documented limit: into fp64, div and sqrt know the distance to within 2^9 of the
    2^62 threshold units (their tail is known to 53 bits, not exactly)."""
    check_draws(op, "fp64", draws_near_threshold(op, "fp64", 3, 2 ** 9))


def test_each_op_has_its_own_stream_and_is_reproducible():
    x = np.random.default_rng(0).standard_normal(2000)
    fmt = numprec.get_format("bf16")

    def rounded_with_stream(stream):
        out, counts = np.empty_like(x), np.zeros(NCOUNTS, dtype=np.int64)
        cpu.kernel_set().round_into(x, out, fmt.kernel_params, SR, False, False,
                         np.uint64(key_from_seed(5, stream)), 0, 62, False, counts)
        return out

    via_add = numprec.add(x, 0.0, fmt, "sr", seed=5)  # x + 0 and x * 1 are x exactly
    via_mul = numprec.mul(x, 1.0, fmt, "sr", seed=5)
    assert np.array_equal(via_add, rounded_with_stream(STREAMS["add"]))
    assert np.array_equal(via_mul, rounded_with_stream(STREAMS["mul"]))
    assert not np.array_equal(via_add, via_mul)
    assert np.array_equal(via_add, numprec.add(x, 0.0, fmt, "sr", seed=5))
    assert not np.array_equal(via_add, numprec.add(x, 0.0, fmt, "sr", seed=6))


def test_stochastic_rounding_is_unbiased():
    """The mean of many sr roundings of a fixed quotient approaches the exact quotient."""
    a = np.full(200_000, 1.0)
    b = np.full(200_000, 3.0)
    q = numprec.div(a, b, "fp8_e4m3fn", "sr", seed=11)
    lo, hi = 0.3125, 0.34375  # e4m3 neighbours of 1/3: 1/3 is 2/3 of the way from lo to hi
    assert set(np.unique(q)) == {lo, hi}
    share = np.mean(q == hi)
    # binomial standard deviation sqrt(p(1-p)/n) ~ 0.001: 6 sigma
    assert abs(share - (1 / 3 - lo) / (hi - lo)) < 0.006
