"""Error-analysis helpers: the references, the errors and the classic bounds."""
import math

import numpy as np
import pytest

import numprec
from numprec.ops import bound_probability, gamma, probabilistic_bound, unit_roundoff


def test_bound_formulas():
    u = 2.0 ** -11
    assert gamma(100, u) == 100 * u / (1 - 100 * u)
    assert gamma(4096, u) == math.inf  # n*u >= 1: no bound
    assert probabilistic_bound(400, u, 2.0) == 2.0 * 20 * u
    assert bound_probability(3.0, 0.0) == pytest.approx(1 - 2 * math.exp(-4.5))
    assert bound_probability(1.0, u) == 0.0  # 1 - 2 exp(-1/2) < 0: no guarantee


def test_unit_roundoff_by_mode():
    assert unit_roundoff("fp16") == 2.0 ** -11
    assert unit_roundoff("bf16", "rna") == 2.0 ** -8
    assert unit_roundoff("fp16", "rtz") == unit_roundoff("fp16", "sr") == 2.0 ** -10
    with pytest.raises(ValueError, match="fixed-point format q3.4"):
        unit_roundoff("q3.4")


def test_sum_error_reference_is_exact_not_float64():
    """The exact sum 1 + 2^-11 + 2^-70 rounds up in fp16, though its float64 value is a tie."""
    x = np.array([1.0, 2.0 ** -11, 2.0 ** -70])
    report = numprec.sum_error(x, "fp16", acc="fp32")
    assert report.reference == 1.0 + 2.0 ** -10
    assert report.exact == math.fsum(x)
    assert report.computed == numprec.sum(x, "fp16", acc="fp32")
    assert report.n == 3 and report.u == 2.0 ** -24


@pytest.mark.parametrize("fmt,mode", [("fp16", "rne"), ("bf16", "rtz"), ("fp16", "sr")])
def test_recursive_summation_stays_within_gamma_n(fmt, mode):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (20, 200))
    report = numprec.sum_error(x, fmt, mode=mode, seed=1, lam=3.0)
    assert report.computed.shape == (20,)
    assert np.all(report.scaled_error <= report.gamma)
    assert report.max_scaled_error > 0
    assert report.probabilistic_bound == 3.0 * math.sqrt(200) * report.u
    exact = np.array([math.fsum(row) for row in x])
    assert np.array_equal(report.exact, exact)
    with np.errstate(divide="ignore"):
        assert np.allclose(report.relative_error, np.abs(report.computed - exact) / np.abs(exact))


def test_dot_error_uses_exact_products():
    a = np.array([[1.0 + 2.0 ** -30, 1.0], [3.0, -3.0]])
    b = np.array([[1.0 - 2.0 ** -30, -1.0], [1.0, 1.0]])
    report = numprec.dot_error(a, b, "fp32")
    assert report.exact.tolist() == [-(2.0 ** -60), 0.0]  # 1 - 2^-60 - 1, exactly
    assert report.reference.tolist() == [-(2.0 ** -60), 0.0]
    assert report.relative_error[1] == 0.0


def test_matmul_error_against_float64():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((6, 64)), rng.standard_normal((64, 5))
    report = numprec.matmul_error(a, b, acc="bf16", out_fmt="fp32", order="pairwise")
    assert np.array_equal(report.exact, a @ b)
    assert np.array_equal(report.reference, numprec.round(a @ b, "fp32"))
    assert np.all(report.scaled_error <= gamma(64, 2.0 ** -8))
    assert report.computed.shape == (6, 5)


def test_inputs_must_be_given_rounded():
    with pytest.raises(ValueError, match="round them first"):
        numprec.sum_error(np.ones(4), "fp16", in_fmt="fp8_e4m3fn")
