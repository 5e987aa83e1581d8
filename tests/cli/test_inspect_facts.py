"""The exact grid facts behind `numprec inspect`, checked against numprec.round/encode/decode."""
import math
from fractions import Fraction

import numpy as np
import pytest

import numprec
from numprec.cli import inspect_facts as facts


def _grid(fmt):
    """Sorted distinct finite values of a small format (both zeros count as one)."""
    values = numprec.decode(np.arange(1 << fmt.nbits, dtype=np.int64), fmt)
    return np.unique(values[np.isfinite(values)])


def test_adjacent_walks_the_grid(small_fmt):
    grid = _grid(small_fmt)
    top_is_inf = getattr(small_fmt, "nan", None) == "ieee"
    # Every value of formats up to 6 bits; for wider ones both ends, around zero, and a sample.
    zero = int(np.searchsorted(grid, 0.0))
    picks = set(range(grid.size)) if small_fmt.nbits <= 6 else (
        set(range(6)) | set(range(grid.size - 6, grid.size)) | set(range(zero - 3, zero + 4))
        | set(np.random.default_rng(5).integers(0, grid.size, 40).tolist()))
    for i in sorted(i for i in picks if 0 <= i < grid.size):
        v = grid[i]
        below, above = facts.adjacent(small_fmt, float(v))
        want_below = grid[i - 1] if i > 0 else (-math.inf if top_is_inf else None)
        want_above = grid[i + 1] if i + 1 < grid.size else (math.inf if top_is_inf else None)
        if v == 0 and not small_fmt.is_fixed and small_fmt.signed:
            want_below, want_above = -small_fmt.min_subnormal, small_fmt.min_subnormal
        assert (below, above) == (want_below, want_above), (small_fmt.name, v)


@pytest.mark.parametrize("name", ["fp16", "bf16"])
def test_adjacent_on_sampled_16_bit_values(name):
    fmt = numprec.get_format(name)
    grid = _grid(fmt)
    for i in np.random.default_rng(7).integers(1, grid.size - 1, 300):
        assert facts.adjacent(fmt, float(grid[i])) == (grid[i - 1], grid[i + 1])
    assert facts.adjacent(fmt, fmt.max) == (grid[-2], math.inf)


def _sample_inputs(fmt, rng):
    """Midpoints, random points between neighbours, grid points, and values past the range."""
    grid = _grid(fmt)
    if grid.size > 4096:
        grid = np.unique(np.concatenate([grid[:1000], grid[-1000:],
                                         rng.choice(grid, 2000, replace=False)]))
    left, right = grid[:-1], grid[1:]
    between = left + (right - left) * rng.random(left.size)
    beyond = np.array([grid[-1] * 1.01, grid[-1] * 3, grid[0] * 1.01, grid[0] * 3])
    return np.concatenate([between, (left + right) / 2, grid, beyond])


def test_bracket_matches_directed_rounding(small_fmt):
    xs = _sample_inputs(small_fmt, np.random.default_rng(3))
    toward = numprec.round(xs, small_fmt, "rtz")
    away = np.where(xs > 0, numprec.round(xs, small_fmt, "rup"),
                    numprec.round(xs, small_fmt, "rdn"))
    for x, t, a in zip(xs.tolist(), toward.tolist(), away.tolist()):
        lo, hi = facts.bracket(small_fmt, x)
        largest = facts.side_max(small_fmt, x < 0)
        assert Fraction(abs(t)) == lo, (small_fmt.name, x)
        if lo == hi:
            assert t == x
            continue
        if lo == largest:  # at or past the largest value: hi is the virtual neighbour
            assert hi == largest + facts.top_step(small_fmt)
            continue
        assert lo < Fraction(abs(x)) < hi
        assert hi - lo == facts.quantum(small_fmt, Fraction(abs(x)))
        assert Fraction(abs(a)) == hi, (small_fmt.name, x)


@pytest.mark.parametrize("x, rbits, p", [
    (1 + 2 ** -12, 62, Fraction(1, 4)), (1 + 2 ** -12, 2, Fraction(1, 4)),
    (1 + 2 ** -12, 1, Fraction(0)), (1 + 3 * 2 ** -12, 1, Fraction(1, 2)),
    (-(1 + 3 * 2 ** -12), 2, Fraction(3, 4)), (1.0, 62, Fraction(0))])
def test_sr_probability_known_values(x, rbits, p):
    assert facts.sr_probability(numprec.get_format("fp16"), x, rbits) == p


@pytest.mark.parametrize("name, x, rbits", [("fp16", 0.1, 62), ("fp8_e4m3fn", -0.1, 62),
                                            ("fp8_e4m3fn", 0.1, 3), ("q3.4", 2.3, 62),
                                            ("bf16", 1 / 3, 5)])
def test_sr_probability_matches_the_rounding_frequency(name, x, rbits):
    fmt = numprec.get_format(name)
    n = 200_000
    p = float(facts.sr_probability(fmt, x, rbits))
    lo, hi = facts.bracket(fmt, x)
    rounded = numprec.round(np.full(n, x), fmt, "sr", seed=11, rbits=rbits)
    assert set(np.abs(rounded)) <= {float(lo), float(hi)}
    frequency = np.mean(np.abs(rounded) == float(hi))
    assert abs(frequency - p) <= 6 * math.sqrt(p * (1 - p) / n) + 1e-12, (frequency, p)


def test_fields_of_float_patterns():
    fp16 = numprec.get_format("fp16")
    parts, meaning = facts.fields(fp16, 0x3C00)
    assert parts == [("sign", "0"), ("exponent", "01111"), ("mantissa", "0000000000")]
    assert meaning == "normal: +1.0000000000b x 2^(15 - 15 = 0)"
    assert facts.fields(fp16, 0x8001)[1] == "subnormal: -0.0000000001b x 2^-14"
    assert facts.fields(fp16, 0x7C00)[1] == "+inf"
    assert facts.fields(fp16, 0x8000)[1] == "-0"
    e4m3 = numprec.get_format("e4m3")
    assert facts.fields(e4m3, 0x7F)[1] == "NaN"
    assert facts.fields(e4m3, 0x7E)[1] == "normal: +1.110b x 2^(15 - 7 = 8)"
    assert facts.fields(numprec.get_format("fp8_e4m3fnuz"), 0x80)[1] == "NaN"


def test_fields_of_fixed_point_patterns():
    q34 = numprec.get_format("q3.4")
    parts, meaning = facts.fields(q34, 0xDC)  # 1101 1100: -36 / 16
    assert parts == [("sign", "1"), ("integer", "101"), ("fraction", "1100")]
    assert meaning == "two's complement integer -36 x 2^-4"
    parts, meaning = facts.fields(numprec.get_format("uq4.4"), 0xDC)
    assert parts == [("integer", "1101"), ("fraction", "1100")]
    assert meaning == "unsigned integer 220 x 2^-4"


def test_hex_pattern_width_follows_the_format():
    assert facts.hex_pattern(0x1, 16) == "0x0001"
    assert facts.hex_pattern(0x1, 4) == "0x1"
    assert facts.hex_pattern(0x1, 19) == "0x00001"
