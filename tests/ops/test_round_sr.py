"""Stochastic rounding: bit-exact against the oracle's draw rule (every small format, several
seeds and rbits), reproducible, indexed by flat C-order position within the call, and unbiased."""
import functools

import numpy as np
import pytest

import numprec
from numprec.testing import (TableOracle, assert_bits_equal, exhaustive_inputs, flag_counts,
                             reference_round)

SETTINGS = [(1, None), (2, 1), (3, 4), (4, 13), (2 ** 64 - 1, 62)]  # (seed, rbits)


@functools.lru_cache(maxsize=None)
def oracle_and_inputs(fmt):
    return TableOracle(fmt), exhaustive_inputs(fmt)


@pytest.mark.parametrize("seed, rbits", SETTINGS)
def test_sr_is_bit_exact_on_every_input_class(small_fmt, seed, rbits):
    oracle, x = oracle_and_inputs(small_fmt)
    for saturate, ftz in [(False, False), (True, True)]:
        context = f"{small_fmt.name} sr seed={seed} rbits={rbits} saturate={saturate} ftz={ftz}"
        expected, flags = oracle.round(x, "sr", saturate=saturate, ftz=ftz, seed=seed, rbits=rbits)
        counted = numprec.Flags()
        got = numprec.round(x, small_fmt, "sr", saturate=saturate, ftz=ftz, seed=seed,
                            rbits=rbits, flags=counted)
        assert_bits_equal(got, expected, x, context)
        assert counted.as_dict() == flag_counts(flags), context


def test_sr_matches_the_fraction_oracle_element_by_element():
    rng = np.random.default_rng(11)
    x = rng.standard_normal(300) * np.exp2(rng.integers(-30, 20, 300))
    for fmt in ["fp32", "tf32", "bf16", "e5m2"]:
        for rbits in [None, 1, 7, 30]:
            got = numprec.round(x, fmt, "sr", seed=8, rbits=rbits)
            expected = [reference_round(v, fmt, "sr", seed=8, index=i, rbits=rbits)[0]
                        for i, v in enumerate(x.tolist())]
            assert_bits_equal(got, expected, x, f"{fmt} rbits={rbits}")


def test_sr_gives_one_of_the_two_neighbours():
    x = np.random.default_rng(0).uniform(-1000, 1000, 20_000)
    got = numprec.round(x, "bf16", "sr", seed=5)
    down, up = numprec.round(x, "bf16", "rdn"), numprec.round(x, "bf16", "rup")
    assert np.all((got == down) | (got == up))
    assert 0 < np.count_nonzero(got == up) < x.size  # both neighbours occur


def test_sr_is_reproducible_and_depends_on_the_seed():
    x = np.random.default_rng(1).uniform(0, 1, 10_000)
    first = numprec.round(x, "fp16", "sr", seed=123)
    assert_bits_equal(numprec.round(x, "fp16", "sr", seed=123), first, x, "same seed")
    other = numprec.round(x, "fp16", "sr", seed=124)
    assert np.count_nonzero(other != first) > 1000
    unseeded = numprec.round(x, "fp16", "sr")
    assert np.count_nonzero(unseeded != numprec.round(x, "fp16", "sr")) > 1000


def test_sr_index_is_the_flat_c_order_position_within_the_call():
    a = np.random.default_rng(2).uniform(-4, 4, (40, 50))
    full = numprec.round(a, "e4m3", "sr", seed=9)
    assert_bits_equal(numprec.round(a.ravel(), "e4m3", "sr", seed=9), full.ravel(), a, "ravel")
    assert_bits_equal(numprec.round(np.asfortranarray(a), "e4m3", "sr", seed=9), full, a,
                      "fortran order")
    view = a[::3, 1::2]
    assert_bits_equal(numprec.round(view, "e4m3", "sr", seed=9),
                      numprec.round(np.ascontiguousarray(view), "e4m3", "sr", seed=9), view,
                      "strided view")
    # a slice is a new call: its elements are indexed from 0 again
    part = a.ravel()[700:900]
    expected = [reference_round(v, "e4m3", "sr", seed=9, index=i)[0]
                for i, v in enumerate(part.tolist())]
    assert_bits_equal(numprec.round(part, "e4m3", "sr", seed=9), expected, part, "slice")
    assert np.count_nonzero(numprec.round(part, "e4m3", "sr", seed=9) != full.ravel()[700:900]) > 0


def _mean_and_sigma(x, fmt, rbits=None):
    """Exact expectation of sr(x) and the standard deviation of one draw."""
    lo, hi = numprec.round(x, fmt, "rdn"), numprec.round(x, fmt, "rup")
    frac = (x - lo) / (hi - lo)
    if rbits is not None:
        frac = np.floor(frac * 2.0 ** rbits) / 2.0 ** rbits
    return lo + frac * (hi - lo), (hi - lo) * np.sqrt(frac * (1 - frac))


@pytest.mark.parametrize("x, fmt, rbits", [
    (1 + 0.3 * 2 ** -10, "fp16", None),
    (-(1 + 0.3 * 2 ** -10), "fp16", None),
    (0.1, "bf16", None),
    (3.3 * 2.0 ** -24, "fp16", None),  # subnormal
    (0.3, "e4m3", 3),                  # rbits=3 rounds the probability down to a multiple of 1/8
    (1 + 0.3 * 2 ** -10, "fp16", 2),
    (0.01, "q3.4", None),
])
def test_sr_is_unbiased(x, fmt, rbits):
    # 10^6 draws with a fixed seed: the sample mean lies within 6 standard errors of the exact
    # expectation (deterministic, so it cannot flake).
    n = 1_000_000
    draws = numprec.round(np.full(n, x), fmt, "sr", seed=20240601, rbits=rbits)
    mean, sigma = _mean_and_sigma(np.array(x), fmt, rbits)
    assert sigma > 0
    assert abs(draws.mean() - mean) < 6 * sigma / np.sqrt(n)
    if rbits is not None:  # truncating the probability is a real, detectable bias
        biased_by = abs(float(_mean_and_sigma(np.array(x), fmt)[0]) - mean)
        assert biased_by > 6 * sigma / np.sqrt(n)


def test_round_to_nearest_is_biased_where_sr_is_not():
    # Adding 1 to 2048 stagnates under rne in fp16 but not in expectation under sr.
    x = np.full(200_000, 2049.0)
    assert np.all(numprec.round(x, "fp16", "rne") == 2048.0)
    assert abs(numprec.round(x, "fp16", "sr", seed=4).mean() - 2049.0) < 6 * 1.0 / np.sqrt(x.size)
