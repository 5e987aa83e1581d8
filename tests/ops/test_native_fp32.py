"""The fp64 order's rounding to fp32 by the CPU's own conversion (numprec.ops.native_fp32)
against numprec's fp32 kernel: the same bits for every float64, NaN payloads included, and the
kernel whenever the floating-point environment is not IEEE's or flags are wanted."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numprec
from numprec.ops import accumulate
from numprec.ops import native_fp32

EDGES = np.array([0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 2.0 ** -149, 2.0 ** -150,
                  -(2.0 ** -150), 1.5 * 2.0 ** -149, 2.5 * 2.0 ** -149, 2.0 ** -126,
                  2.0 ** -126 * (1 - 2.0 ** -24), 1.0 + 2.0 ** -24, 1.0 + 3 * 2.0 ** -24,
                  -(1.0 + 2.0 ** -24), 3.4028234663852886e38, 3.4028235677973366e38,
                  3.4028235677973362e38, -3.4028235677973366e38, 1e300, -1e300, 1.7e308])
NAN_BITS = [0x7FF8000000000000, 0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001,
            0x7FF4000000000000, 0xFFFC000000001000]


def kernel_fp32_bits(values):
    return numprec.round(np.asarray(values, dtype=np.float64), "fp32").view(np.uint64)


def native_bits(values):
    return native_fp32.round_fp32_in_place(np.array(values, dtype=np.float64)).view(np.uint64)


def test_the_environment_probe_expects_what_the_kernel_computes():
    np.testing.assert_array_equal(kernel_fp32_bits(native_fp32._PROBE),
                                  np.frombuffer(native_fp32._EXPECTED, dtype=np.uint64))


def test_edges_and_nan_payloads_match_the_kernel():
    x = np.concatenate([EDGES, np.array(NAN_BITS, dtype=np.uint64).view(np.float64)])
    np.testing.assert_array_equal(native_bits(x), kernel_fp32_bits(x))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2 ** 64 - 1), min_size=1, max_size=64))
def test_any_float64_bits_match_the_kernel(patterns):
    x = np.array(patterns, dtype=np.uint64).view(np.float64)
    np.testing.assert_array_equal(native_bits(x), kernel_fp32_bits(x))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True,
                          min_value=None, max_value=None), min_size=1, max_size=64))
def test_any_float64_values_match_the_kernel(values):
    np.testing.assert_array_equal(native_bits(values), kernel_fp32_bits(values))


def _matmul_inputs():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 7)) * 2.0 ** rng.integers(-80, 80, (9, 7))
    b = rng.standard_normal((7, 5)) * 2.0 ** rng.integers(-80, 80, (7, 5))
    a[0, 0], a[1, 1], b[2, 2] = np.nan, np.inf, 1e-320
    return a, b


@pytest.mark.parametrize("native", [True, False])
def test_the_fp64_order_gives_the_kernels_bits_with_or_without_the_native_path(
        monkeypatch, native):
    a, b = _matmul_inputs()
    calls = []
    original = accumulate.round_fp32_in_place
    monkeypatch.setattr(accumulate, "ieee_environment", lambda: native)
    monkeypatch.setattr(accumulate, "round_fp32_in_place",
                        lambda values: calls.append(1) or original(values))
    a_before, b_before = a.copy(), b.copy()
    with np.errstate(invalid="ignore", over="ignore"):
        got = numprec.matmul(a, b, acc="fp32", order="fp64")
        want = kernel_fp32_bits(np.matmul(a, b))
        np.testing.assert_array_equal(got.view(np.uint64), want)
        vector = numprec.matmul(a, b[:, 0], acc="fp32", order="fp64")
        np.testing.assert_array_equal(vector.view(np.uint64), want[:, 0])
        rows = numprec.sum(a, "fp32", order="fp64")
        np.testing.assert_array_equal(rows.view(np.uint64), kernel_fp32_bits(np.sum(a, axis=-1)))
        dots = numprec.dot(a[:, :5], a[:, 2:], "fp32", order="fp64")
        np.testing.assert_array_equal(
            dots.view(np.uint64), kernel_fp32_bits(np.einsum("ij,ij->i", a[:, :5], a[:, 2:])))
    assert bool(calls) == native  # the CPU's conversion only where the environment is IEEE's
    np.testing.assert_array_equal(a.view(np.uint64), a_before.view(np.uint64))  # inputs kept
    np.testing.assert_array_equal(b.view(np.uint64), b_before.view(np.uint64))


def test_flags_and_other_modes_take_the_kernel(monkeypatch):
    a, b = _matmul_inputs()
    a, b = np.nan_to_num(a, nan=1.0, posinf=2.0), b
    monkeypatch.setattr(accumulate, "round_fp32_in_place", lambda values: pytest.fail(
        "the native path cannot count flags or round in another mode"))
    flags = numprec.Flags()
    got = numprec.matmul(a, b, acc="fp32", order="fp64", flags=flags)
    np.testing.assert_array_equal(got.view(np.uint64), kernel_fp32_bits(np.matmul(a, b)))
    assert flags.inexact
    for kwargs in (dict(mode="rtz"), dict(saturate=True), dict(ftz=True)):
        numprec.matmul(a, b, acc="fp32", order="fp64", **kwargs)
    numprec.matmul(a, b, acc="fp32", out_fmt="bf16", order="fp64")


def test_threads_round_through_buffers_of_their_own():
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal(50_000 + 7 * k) * 2.0 ** rng.integers(-140, 120)
              for k in range(8)]

    def both(x):
        return [native_bits(x) for _ in range(20)][-1], kernel_fp32_bits(x)

    with ThreadPoolExecutor(4) as pool:
        for native, kernel in pool.map(both, arrays):
            np.testing.assert_array_equal(native, kernel)


def test_large_results_round_without_the_buffer():
    x = np.random.default_rng(12).standard_normal(native_fp32.SCRATCH_LIMIT + 3) * 1e-39
    np.testing.assert_array_equal(native_bits(x), kernel_fp32_bits(x))
