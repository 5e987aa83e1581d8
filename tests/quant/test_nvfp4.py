"""NVFP4 encoding against an independent transcription of the recipe: every float32 step rounded
exactly with Fractions (numprec.testing's oracle), not with numpy's float32 arithmetic."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from numprec.quant.nvfp4 import global_scales, nvfp4_decode, nvfp4_encode, nvfp4_quantize
from numprec.testing import reference_encode, reference_round
from numprec.testing.oracle import limits_of, neighbours, pick

F32 = limits_of("fp32")
FLT_MAX = float(np.finfo(np.float32).max)


def fl(q) -> float:
    """The exact rational q rounded to float32, nearest even (inf beyond the range)."""
    q = Fraction(q)
    if q == 0:
        return 0.0
    negative, X = q < 0, abs(q)
    lo, hi = neighbours(X, F32.step_at(X))
    R = pick(X, lo, hi, F32.step_at(X), negative, "rne")
    value = math.inf if R > F32.max_pos else float(R)
    return -value if negative else value


def reference(x: np.ndarray, global_amax=None):
    """(codes, scale codes, d) of a 2-D float32 array in blocks of 16 along the last axis."""
    rows = [[float(v) for v in row] for row in x]
    if global_amax is None:
        global_amax = max((abs(v) for row in rows for v in row), default=0.0)
    g = fl(Fraction(448 * 6) / Fraction(global_amax)) if global_amax else math.inf
    g = min(g, FLT_MAX)
    g = 1.0 if g == 0 else g
    d = fl(1 / Fraction(g))
    multiplier = fl(Fraction(g) * Fraction(fl(Fraction(1, 6))))
    codes, scales = [], []
    for row in rows:
        row_codes, row_scales = [], []
        for b in range(0, len(row), 16):
            block = row[b:b + 16]
            amax = max(abs(v) for v in block)
            wanted = min(fl(Fraction(amax) * Fraction(multiplier)), 448.0)
            s_b, _ = reference_round(wanted, "e4m3")
            row_scales.append(reference_encode(s_b, "e4m3"))
            product = Fraction(s_b) * Fraction(d)
            e_b = FLT_MAX if product == 0 else min(fl(1 / product), FLT_MAX)
            for v in block:
                scaled = fl(Fraction(v) * Fraction(e_b))
                scaled = math.copysign(scaled, v)  # IEEE: -0.0 * e stays -0.0 (so do
                # hardware conversions; TE's Python reference gives -0.0 the code of +0)
                p, _ = reference_round(scaled, "fp4_e2m1fn", saturate=True)
                row_codes.append(reference_encode(p, "fp4_e2m1fn"))
        codes.append(row_codes)
        scales.append(row_scales)
    return np.array(codes), np.array(scales), d


def _check(x, global_amax=None):
    codes, scales, d = nvfp4_encode(x, global_amax=global_amax)
    ref_codes, ref_scales, ref_d = reference(x.astype(np.float32), global_amax)
    assert d == ref_d
    np.testing.assert_array_equal(scales, ref_scales)
    np.testing.assert_array_equal(codes, ref_codes)


@pytest.mark.parametrize("magnitude", [1e-30, 1e-6, 1.0, 3.0, 1e4, 1e30])
def test_random_tensors_match_the_recipe(magnitude):
    rng = np.random.default_rng(int(math.log10(magnitude)) + 40)
    x = (rng.standard_normal((4, 64)) * np.exp2(rng.integers(-12, 12, size=(4, 4)).repeat(16, 1))
         * magnitude).astype(np.float32)
    _check(x)


@given(st.lists(st.floats(-1e6, 1e6, width=32), min_size=32, max_size=32))
def test_hypothesis_blocks_match_the_recipe(values):
    _check(np.array(values, dtype=np.float32).reshape(1, 32))


def test_zero_blocks_tiny_blocks_and_a_smaller_global_amax():
    x = np.zeros((2, 48), dtype=np.float32)
    x[0, 16:32] = np.float32(1e-40)  # a float32 subnormal block beside zeros
    x[1, 32:] = np.linspace(-5, 7, 16, dtype=np.float32)
    _check(x)
    _check(x, global_amax=1.0)  # elements beyond the scaled range saturate at 6
    _check(np.zeros((1, 16), dtype=np.float32))


def test_decode_is_the_exact_product():
    x = np.random.default_rng(0).standard_normal((3, 32)).astype(np.float32)
    codes, scales, d = nvfp4_encode(x)
    out = nvfp4_decode(codes, scales, d)
    e2m1 = np.array([0, .5, 1, 1.5, 2, 3, 4, 6, -0., -.5, -1, -1.5, -2, -3, -4, -6])
    from numprec import decode
    s_b = decode(scales, "e4m3")
    expected = e2m1[codes] * np.repeat(s_b, 16, axis=1) * d
    np.testing.assert_array_equal(out, expected)
    assert np.abs(out - x).max() <= np.abs(x).max() / 4  # coarse: FP4 keeps 2 bits


def test_along_another_axis_and_float64_input():
    x = np.random.default_rng(1).standard_normal((32, 3))
    a = nvfp4_quantize(x, axis=0)
    b = nvfp4_quantize(x.T.astype(np.float32)).T
    np.testing.assert_array_equal(a, b)


def test_global_scales():
    g, d = global_scales(2688.0)  # 448 * 6: g = 1
    assert (float(g), float(d)) == (1.0, 1.0)
    assert float(global_scales(0.0)[0]) == FLT_MAX


@pytest.mark.parametrize("call, message", [
    (lambda: nvfp4_encode(np.ones(24)), "do not divide"),
    (lambda: nvfp4_encode(np.array([np.nan] + [1.0] * 15)), "NaN or inf"),
    (lambda: nvfp4_encode(np.full(16, 1e39)), "float32's"),
    (lambda: nvfp4_encode(np.ones(16), global_amax=-1.0), "global_amax"),
    (lambda: nvfp4_encode(np.ones(16), axis=1), "out of range"),
    (lambda: nvfp4_decode(np.zeros(16, int), np.zeros(1, int), 0.1), "float32 value"),
    (lambda: nvfp4_decode(np.full(16, 16), np.zeros(1, int), 1.0), "lie in 0..15"),
    (lambda: nvfp4_decode(np.zeros(16, int), np.zeros(2, int), 1.0), "do not match"),
    (lambda: nvfp4_decode(np.zeros(16, int), np.full(1, 0x7F), 1.0), "NaN"),
])
def test_bad_input_names_the_problem(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
