"""The sequential matmul kernel's float32 lanes against its float64 lanes, bit for bit.

The float64 lanes are checked against the exact reference loops in
tests/ops/test_accumulate_models.py; here every case runs twice, once as chosen (float32 lanes
where lane_limits and the data allow them) and once with the float32 lanes turned off, and the
results, their signs and the flag counts must be identical. The data aim at what a float32 sum
could get wrong: ties of the accumulator's format, terms far below the running sum (the sticky
bit), exact cancellations, sums leaving the normal range, overflow.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numprec
from numprec.codes import COUNT_NAMES
from numprec.kernels.cpu import sequential_matmul as seq

DETERMINISTIC = ("rne", "rna", "rtz", "rup", "rdn", "rto")
ACCUMULATORS = ["fp16", "bf16", "tf32", "fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3fnuz",
                "fp6_e2m3fn", "fp4_e2m1fn"]
LANES_FIT = seq._lanes_fit  # (the spies below replace it)


def _inputs(shape, seed, fmt, spread):
    """Values of fmt (at most 12 significant bits) with exponents over +-spread, zeros of
    both signs and exact negatives of one another."""
    rng = np.random.default_rng(seed)
    x = rng.choice([1.0, -1.0], shape) * rng.uniform(1.0, 2.0, shape) * np.exp2(
        rng.integers(-spread, spread + 1, shape))
    x = numprec.round(x, fmt)
    x[rng.random(shape) < 0.05] = 0.0
    x[rng.random(shape) < 0.03] = -0.0
    return x


def _run(a, b, acc, mode, lanes, monkeypatch):
    """numprec.matmul (sequential) with the float32 lanes allowed or not; returns (result,
    flag counts, whether the float32 lanes ran)."""
    used = []

    def spy(x, y):
        fits = lanes and LANES_FIT(x, y)
        used.append(fits)
        return fits

    monkeypatch.setattr(seq, "_lanes_fit", spy)
    counted = numprec.Flags()
    got = numprec.matmul(a, b, acc=acc, out_fmt="fp32", mode=mode, seed=2, flags=counted)
    return got, [getattr(counted, name) for name in COUNT_NAMES], any(used)


def _same_with_and_without_lanes(a, b, acc, mode, monkeypatch, expect_lanes=True):
    got32, flags32, ran32 = _run(a, b, acc, mode, True, monkeypatch)
    got64, flags64, ran64 = _run(a, b, acc, mode, False, monkeypatch)
    assert ran32 == expect_lanes and not ran64
    np.testing.assert_array_equal(got32.view(np.uint64), got64.view(np.uint64),
                                  err_msg=f"{acc} {mode}")
    assert flags32 == flags64, (acc, mode)


@pytest.mark.parametrize("acc", ACCUMULATORS)
@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_float32_lanes_give_the_float64_lanes_bits(acc, mode, monkeypatch):
    """Inputs in fp8_e5m2 (3 significant bits) over a wide exponent range: partial sums are
    ties, lose terms far below them, cancel, go subnormal and overflow."""
    a = _inputs((3, 40), 1, "fp8_e5m2", 12)
    b = _inputs((40, 300), 2, "fp8_e5m2", 12)  # 300 columns: a full strip and a partial one
    b[:, 5] = -b[:, 4]  # an exact zero sum in every row
    a[1] = np.abs(a[1]) * np.where(np.arange(40) % 2, 1.0, -1.0)
    _same_with_and_without_lanes(a, b, acc, mode, monkeypatch)


@pytest.mark.parametrize("acc", ["fp16", "bf16"])
@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_float32_lanes_with_fp16_and_bf16_inputs(acc, mode, monkeypatch):
    """The case studies' data: N(0,1) in fp16 and bf16 (11 and 8 significant bits), and terms
    2^-20 below the sum, whose sticky bit decides directed modes and ties."""
    for fmt in ("fp16", "bf16"):
        a = _inputs((4, 64), 3, fmt, 3)
        b = _inputs((64, 33), 4, fmt, 3)
        b[1::2, :5] *= 2.0 ** -20
        _same_with_and_without_lanes(a, b, acc, mode, monkeypatch)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ACCUMULATORS), st.sampled_from(DETERMINISTIC),
       st.sampled_from(["fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2"]), st.integers(0, 40),
       st.integers(1, 24), st.integers(1, 20), st.integers(0, 2**31))
def test_float32_lanes_hypothesis(acc, mode, in_fmt, spread, k, n, seed):
    with pytest.MonkeyPatch.context() as monkeypatch:
        a = _inputs((2, k), seed, in_fmt, spread)
        b = _inputs((k, n), seed + 1, in_fmt, spread)
        fits = seq.lane_limits(numprec.get_format(acc).kernel_params) is not None and \
            LANES_FIT(a.reshape(-1), b.reshape(-1))
        _same_with_and_without_lanes(a, b, acc, mode, monkeypatch, expect_lanes=fits)


def test_lanes_are_taken_only_where_they_give_the_same_bits(monkeypatch):
    normal = np.random.default_rng(5).standard_normal((8, 8))
    x = numprec.round(normal, "fp16")
    for acc, mode, a, expected in [
            ("fp16", "rne", x, True), ("bf16", "rtz", x, True),
            ("fp32", "rne", x, False),  # 23 mantissa bits: a float32 sum cannot be rounded
            ("fp16", "sr", x, False),  # (sr keeps float64 lanes)
            ("fp8_ue4m3", "rne", x, False),  # unsigned
            ("q3.4", "rne", x, False),  # fixed point
            ("fp16", "rne", numprec.round(normal, "fp32"), False),  # 24-bit inputs
            ("bf16", "rne", x * 2.0 ** 126, False),  # products beyond float32's range
            ("bf16", "rne", x * 2.0 ** -126, False)]:  # products below its normal range
        _, _, ran = _run(a, x, acc, mode, True, monkeypatch)
        assert ran == expected, (acc, mode)


def test_lane_exponents():
    ok, lo, hi = seq.lane_exponents(np.array([0.0, -0.0, 1.5, -2.0 ** -30, 2.0 ** 40]))
    assert (ok, lo, hi) == (True, -30, 40)
    assert seq.lane_exponents(np.array([0.0]))[0] and seq.lane_exponents(np.array([]))[0]
    assert not seq.lane_exponents(np.array([1.0, np.inf]))[0]
    assert not seq.lane_exponents(np.array([np.nan]))[0]
    assert not seq.lane_exponents(np.array([1.0 + 2.0 ** -12]))[0]  # 13 significant bits
    assert seq.lane_exponents(np.array([1.0 + 2.0 ** -11]))[0]  # 12
    # a float64 subnormal reports -1023 (then no product of it is a normal float32)
    assert seq.lane_exponents(np.array([2.0 ** -1030])) == (True, -1023, -1023)
