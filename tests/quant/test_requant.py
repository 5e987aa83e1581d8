"""requantize against exact Fraction arithmetic; quantize_multiplier and requantize_fixed
against a direct pure-Python transcription of TFLite's QuantizeMultiplier and gemmlowp's
fixedpoint.h (SaturatingRoundingDoublingHighMul, RoundingDivideByPOT)."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import numprec
from numprec.quant.requant import (multiply_by_quantized_multiplier, quantize_multiplier,
                                   requantize, requantize_fixed, rounding_divide_by_pot,
                                   saturating_rounding_doubling_high_mul)

DETERMINISTIC = ("rne", "rna", "rtz", "rup", "rdn", "rto")
INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1


# ---------------------------------------------------------------- exact references

def round_int(t: Fraction, mode: str) -> int:
    """t rounded to an integer by the definition of each deterministic mode."""
    lo = math.floor(t)
    if t == lo:
        return lo
    hi = lo + 1
    d = t - lo
    if mode == "rdn":
        return lo
    if mode == "rup":
        return hi
    if mode == "rtz":
        return lo if t > 0 else hi
    if mode == "rto":
        return lo if lo % 2 else hi
    if d != Fraction(1, 2):
        return lo if d < Fraction(1, 2) else hi
    if mode == "rne":
        return lo if lo % 2 == 0 else hi
    if mode == "rna":
        return hi if t > 0 else lo
    raise AssertionError(mode)


def int_range(bits, signed):
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def ref_requantize(acc, scale, bits, signed, zp, mode):
    """(codes, saturated) by the definition, Python ints and Fractions."""
    qmin, qmax = int_range(bits, signed)
    acc = np.asarray(acc)
    scale = np.broadcast_to(scale, acc.shape)
    zp = np.broadcast_to(zp, acc.shape)
    out, sat = [], 0
    for a, s, z in zip(acc.reshape(-1).tolist(), scale.reshape(-1).tolist(),
                       zp.reshape(-1).tolist()):
        v = round_int(Fraction(int(a)) * Fraction(float(s)), mode) + int(z)
        sat += not qmin <= v <= qmax
        out.append(min(max(v, qmin), qmax))
    return np.array(out, dtype=np.int64).reshape(acc.shape), sat


def to_int32(v: int) -> int:
    """static_cast<int32_t>, two's complement."""
    return ((v + 2 ** 31) % 2 ** 32) - 2 ** 31


def srdhm(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul, line by line."""
    overflow = a == b and a == INT32_MIN
    ab_64 = a * b
    nudge = (1 << 30) if ab_64 >= 0 else (1 - (1 << 30))
    num = ab_64 + nudge
    quotient = abs(num) // (1 << 31)  # C++ integer division truncates toward zero
    quotient = quotient if num >= 0 else -quotient
    ab_x2_high32 = to_int32(quotient)
    return INT32_MAX if overflow else ab_x2_high32


def rdbpot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT, line by line (Python's & and >> on negative ints are
    those of two's complement)."""
    assert 0 <= exponent <= 31
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mbqm(x: int, quantized_multiplier: int, shift: int) -> int:
    """TFLite MultiplyByQuantizedMultiplier (double rounding)."""
    left_shift = shift if shift > 0 else 0
    right_shift = 0 if shift > 0 else -shift
    return rdbpot(srdhm(to_int32(x * (1 << left_shift)), quantized_multiplier), right_shift)


def ref_quantize_multiplier(m: float):
    """TFLite QuantizeMultiplier from the definition, without frexp: m = q 2^e with
    1/2 <= q < 1 found on the exact rational, q_fixed = round half away (q 2^31)."""
    r = Fraction(m)
    e = r.numerator.bit_length() - r.denominator.bit_length()
    while r >= Fraction(2) ** e:
        e += 1
    while r < Fraction(2) ** (e - 1):
        e -= 1
    q = r / Fraction(2) ** e
    assert Fraction(1, 2) <= q < 1
    q_fixed = math.floor(q * 2 ** 31 + Fraction(1, 2))
    assert q_fixed <= 2 ** 31
    if q_fixed == 2 ** 31:
        q_fixed //= 2
        e += 1
    if e < -31:
        e, q_fixed = 0, 0
    return q_fixed, e


# ---------------------------------------------------------------- requantize

int32s = st.one_of(st.integers(INT32_MIN, INT32_MAX), st.integers(-3000, 3000),
                   st.sampled_from([INT32_MIN, INT32_MAX, 0, 1, -1]))
scales = st.one_of(st.floats(1e-12, 1e3), st.floats(1e-3, 1.0),
                   st.integers(-40, 4).map(lambda k: 2.0 ** k),
                   st.sampled_from([0.1, 1 / 3, 0.375, float(np.float32(0.0157)), 5e-324]))


@given(hnp.arrays(np.int32, st.integers(0, 12), elements=int32s), scales,
       st.sampled_from(DETERMINISTIC), st.sampled_from([4, 8, 12, 16]), st.booleans(),
       st.data())
def test_requantize_matches_fractions(acc, scale, mode, bits, signed, data):
    qmin, qmax = int_range(bits, signed)
    zp = data.draw(st.integers(qmin, qmax))
    want, sat = ref_requantize(acc, scale, bits, signed, zp, mode)
    flags = numprec.Flags()
    got = requantize(acc, scale, bits=bits, signed=signed, zero_point=zp, mode=mode,
                     flags=flags)
    assert got.dtype == np.dtype(f"{'' if signed else 'u'}int{8 if bits <= 8 else 16}")
    np.testing.assert_array_equal(got.astype(np.int64), want)
    assert flags.saturated == sat and flags.inexact == 0


@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_requantize_ties_at_one_half(mode):
    acc = np.arange(-9, 10, dtype=np.int32)
    for scale in (0.5, 0.25, 2.0 ** -20):
        a = acc * np.int32(round(0.5 / scale)) if scale < 0.5 else acc  # k + 1/2 exactly
        want, _ = ref_requantize(a, scale, 16, True, 0, mode)
        np.testing.assert_array_equal(requantize(a, scale, bits=16, mode=mode), want)
    got = requantize(np.array([1, 3, 5, -1, -3, -5]), 0.5, mode=mode).tolist()
    expected = {"rne": [0, 2, 2, 0, -2, -2], "rna": [1, 2, 3, -1, -2, -3],
                "rtz": [0, 1, 2, 0, -1, -2], "rup": [1, 2, 3, 0, -1, -2],
                "rdn": [0, 1, 2, -1, -2, -3], "rto": [1, 1, 3, -1, -1, -3]}[mode]
    assert got == expected


def test_requantize_rounds_the_exact_product_not_a_float64_one():
    # 0.1 is 0x1.999999999999ap-4, slightly above 1/10: 5 * 0.1 is slightly above 1/2, but
    # the float64 product rounds to exactly 0.5 (a tie, which rne would send to 0).
    assert float(np.float64(5) * np.float64(0.1)) == 0.5
    assert requantize(np.array([5, -5]), 0.1).tolist() == [1, -1]
    # 0.3 is slightly below 3/10: -5 * 0.3 lies just above -1.5
    assert requantize(np.array([-5]), 0.3, mode="rna").tolist() == [-1]


def test_requantize_per_channel_scales_and_zero_points():
    acc = np.array([[100, -100, 7], [2 ** 31 - 1, -2 ** 31, 0]], dtype=np.int32)
    scale = np.array([0.01, 0.5, 1e-9])
    zp = np.array([0, -3, 5])
    flags = numprec.Flags()
    got = requantize(acc, scale, zero_point=zp, flags=flags)
    want, sat = ref_requantize(acc, scale, 8, True, zp, "rne")
    np.testing.assert_array_equal(got, want)
    assert got.tolist() == [[1, -53, 5], [127, -128, 5]]
    assert flags.saturated == sat == 2
    col = requantize(acc, np.array([[1.0], [0.5]]), bits=16)  # any broadcasting shape
    assert col.tolist() == [[100, -100, 7], [32767, -32768, 0]]


def test_requantize_saturation_counts_and_huge_or_tiny_scales():
    acc = np.array([2 ** 31 - 1, -2 ** 31, 1, -1, 0], dtype=np.int32)
    flags = numprec.Flags()
    assert requantize(acc, 1e300, flags=flags).tolist() == [127, -128, 127, -128, 0]
    assert flags.saturated == 4
    assert requantize(acc, 5e-324).tolist() == [0, 0, 0, 0, 0]
    assert requantize(acc, 5e-324, mode="rup").tolist() == [1, 0, 1, 0, 0]
    assert requantize(acc, 1e300, signed=False, zero_point=128).tolist() == [255, 0, 255, 0,
                                                                             128]
    scalar = requantize(np.int32(300), 0.5, bits=8)
    assert scalar == 127 and isinstance(scalar, np.int8)


def test_requantize_stochastic_rounding():
    acc = np.full(4000, 1, dtype=np.int32)
    a = requantize(acc, 0.25, mode="sr", seed=7)
    b = requantize(acc, 0.25, mode="sr", seed=7)
    np.testing.assert_array_equal(a, b)
    assert set(a.tolist()) == {0, 1}
    assert abs(a.mean() - 0.25) < 0.05
    exact = requantize(np.arange(-50, 50, dtype=np.int32), 2.0, mode="sr", seed=3, bits=16)
    assert exact.tolist() == list(range(-100, 100, 2))
    rng = np.random.default_rng(0)
    acc = rng.integers(-10 ** 6, 10 ** 6, 500).astype(np.int32)
    got = requantize(acc, 0.001, mode="sr", seed=1, bits=16).astype(np.int64)
    down = requantize(acc, 0.001, mode="rdn", bits=16).astype(np.int64)
    assert np.all((got == down) | (got == down + 1))


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((np.array([1.0]), 0.5), {}, TypeError, "acc must be integers"),
    ((np.array([True]), 0.5), {}, TypeError, "acc must be integers"),
    ((np.array([2 ** 60]), 0.5), {}, ValueError, "outside"),
    ((np.array([1]), 0.0), {}, ValueError, "positive and finite, got 0.0"),
    ((np.array([1]), -0.5), {}, ValueError, "got -0.5"),
    ((np.array([1]), np.nan), {}, ValueError, "got nan"),
    ((np.array([1]), np.inf), {}, ValueError, "got inf"),
    ((np.array([1]), "0.5"), {}, TypeError, "scale must be real numbers"),
    ((np.ones((2, 3), np.int32), np.ones(2)), {}, ValueError, "does not broadcast"),
    ((np.array([1]), 0.5), {"zero_point": 128}, ValueError, r"zero_point=128 .*-128\.\.127"),
    ((np.array([1]), 0.5), {"zero_point": 0.5}, TypeError, "zero_point must be integers"),
    ((np.array([1]), 0.5), {"bits": 1}, ValueError, "bits=1"),
    ((np.array([1]), 0.5), {"bits": 17}, ValueError, "bits=17"),
    ((np.array([1]), 0.5), {"mode": "round"}, ValueError, "invalid rounding mode 'round'"),
    ((np.array([1]), 0.5), {"signed": 1}, TypeError, "signed must be True or False"),
    ((np.array([1]), 0.5), {"flags": 3}, TypeError, "flags must be a numprec.Flags"),
])
def test_requantize_refuses_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        requantize(*args, **kwargs)


# ---------------------------------------------------------------- quantize_multiplier

positive = st.floats(min_value=5e-324, max_value=1e308, allow_nan=False, allow_infinity=False)


@given(st.one_of(positive, st.floats(2.0 ** -34, 2.0 ** -30), st.floats(0.0, 1.0,
                                                                         exclude_min=True)))
def test_quantize_multiplier_matches_tflite(m):
    assert quantize_multiplier(m) == ref_quantize_multiplier(m)
    q, e = quantize_multiplier(np.array([m, m]))
    assert q.dtype == np.int32 and [int(q[0]), int(e[0])] == list(ref_quantize_multiplier(m))


def test_quantize_multiplier_hand_cases():
    assert quantize_multiplier(0.5) == (2 ** 30, 0)
    assert quantize_multiplier(1.0) == (2 ** 30, 1)
    assert quantize_multiplier(0.75) == (3 * 2 ** 29, 0)
    assert quantize_multiplier(1 - 2.0 ** -40) == (2 ** 30, 1)  # q 2^31 rounds up to 2^31
    assert quantize_multiplier(0.5 + 2.0 ** -32) == (2 ** 30 + 1, 0)  # a tie: away from 0
    assert quantize_multiplier(0.5 + 2.0 ** -33) == (2 ** 30, 0)  # below the tie
    assert quantize_multiplier(2.0 ** -31) == (2 ** 30, -30)
    assert quantize_multiplier(2.0 ** -32) == (2 ** 30, -31)
    assert quantize_multiplier(2.0 ** -32 * (1 - 2.0 ** -40)) == (2 ** 30, -31)  # the fixup
    assert quantize_multiplier(2.0 ** -32 * (1 - 2.0 ** -30)) == (0, 0)          # e = -32
    assert quantize_multiplier(2.0 ** -33) == (0, 0)
    assert quantize_multiplier(5e-324) == (0, 0)
    assert quantize_multiplier(2.0 ** 40) == (2 ** 30, 41)
    assert quantize_multiplier(np.float32(0.1)) == ref_quantize_multiplier(float(np.float32(0.1)))


@pytest.mark.parametrize("value, error, match", [
    (0.0, ValueError, "positive and finite, got 0.0"), (-0.25, ValueError, "got -0.25"),
    (float("nan"), ValueError, "got nan"), (float("inf"), ValueError, "got inf"),
    (np.array([0.5, -1.0]), ValueError, "got -1.0"), ("0.5", TypeError, "real number"),
    (True, TypeError, "real number"), (1 + 2j, TypeError, "real number"),
])
def test_quantize_multiplier_refuses_bad_input(value, error, match):
    with pytest.raises(error, match=match):
        quantize_multiplier(value)


# ---------------------------------------------------------------- gemmlowp functions

int32_all = st.one_of(st.integers(INT32_MIN, INT32_MAX),
                      st.sampled_from([INT32_MIN, INT32_MIN + 1, INT32_MAX, 0, 1, -1, 2 ** 30,
                                       -2 ** 30]))


@given(st.lists(st.tuples(int32_all, int32_all), min_size=1, max_size=20))
def test_srdhm_matches_gemmlowp(pairs):
    a, b = (np.array(v, dtype=np.int64) for v in zip(*pairs))
    got = saturating_rounding_doubling_high_mul(a, b).tolist()
    assert got == [srdhm(x, y) for x, y in pairs]


@given(st.lists(st.tuples(int32_all, st.integers(0, 31)), min_size=1, max_size=20))
def test_rounding_divide_by_pot_matches_gemmlowp(pairs):
    x, e = (np.array(v, dtype=np.int64) for v in zip(*pairs))
    assert rounding_divide_by_pot(x, e).tolist() == [rdbpot(v, k) for v, k in pairs]


def test_gemmlowp_corner_cases():
    assert saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX
    assert saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MAX) == srdhm(INT32_MIN,
                                                                               INT32_MAX)
    assert saturating_rounding_doubling_high_mul(INT32_MIN, 1) == srdhm(INT32_MIN, 1) == -1
    # ties (2ab / 2^32 = k + 1/2) go up, toward +inf: +0.5 to 1, -0.5 to 0 (the nudge
    # 1 - 2^30 and the truncating division), -1.5 to -1
    assert srdhm(1 << 30, 1) == 1 and srdhm(-(1 << 30), 1) == 0 and srdhm(-3 << 30, 1) == -1
    assert srdhm(-(1 << 30) - 1, 1) == -1
    assert saturating_rounding_doubling_high_mul(np.array([1 << 30, -(1 << 30), -3 << 30]),
                                                 1).tolist() == [1, 0, -1]
    assert rounding_divide_by_pot(np.array([-3, -2, -1, 1, 2, 3]), 1).tolist() == \
        [-2, -1, -1, 1, 1, 2]
    assert rounding_divide_by_pot(np.array([INT32_MIN, INT32_MAX]), 31).tolist() == [-1, 1]


@given(st.lists(st.tuples(int32_all, int32_all, st.integers(-31, 30)), min_size=1,
                max_size=20), st.sampled_from([8, 16]), st.booleans(), st.data())
def test_requantize_fixed_matches_tflite(triples, bits, signed, data):
    acc, mult, shift = (np.array(v, dtype=np.int64) for v in zip(*triples))
    raw = [mbqm(x, m, s) for x, m, s in triples]
    assert multiply_by_quantized_multiplier(acc, mult, shift).tolist() == raw
    qmin, qmax = int_range(bits, signed)
    zp = data.draw(st.integers(qmin, qmax))
    flags = numprec.Flags()
    got = requantize_fixed(acc.astype(np.int32), mult.astype(np.int32), shift, bits=bits,
                           signed=signed, zero_point=zp, flags=flags)
    want = [min(max(v + zp, qmin), qmax) for v in raw]
    assert got.tolist() == want
    assert flags.saturated == sum(not qmin <= v + zp <= qmax for v in raw)


def test_requantize_fixed_per_channel():
    acc = np.array([[1000, -1000, 77], [INT32_MAX, INT32_MIN, -7]], dtype=np.int32)
    mult, shift = quantize_multiplier(np.array([0.02, 0.5, 3.0]))
    got = requantize_fixed(acc, mult, shift, zero_point=np.array([0, 1, -2]))
    want = [[min(max(mbqm(int(x), int(m), int(s)) + z, -128), 127)
             for x, m, s, z in zip(row, mult, shift, [0, 1, -2])] for row in acc.tolist()]
    assert got.tolist() == want == [[20, -128, 127], [127, -128, -23]]


def test_requantize_fixed_is_within_one_of_the_exact_rounding():
    """For multipliers in (0, 1): |requantize_fixed(acc, *quantize_multiplier(s)) -
    round(acc s)| <= 1 (the multiplier's rounding and the two roundings of gemmlowp), as long
    as acc * 2^shift stays in int32: s above 1 - 2^-32 quantizes to (2^30, 1), i.e. 1.0, and
    acc * 2 wraps for |acc| >= 2^30 (test_requantize_fixed_wraps_as_tflite_does)."""
    rng = np.random.default_rng(5)
    ss = np.concatenate([np.arange(1, 1024) / 1024, rng.uniform(0, 1, 600),
                         2.0 ** -rng.uniform(0, 40, 300), [1 - 2.0 ** -53, 2.0 ** -32,
                                                           2.0 ** -33, 0.5 + 2.0 ** -32]])
    ss = ss[(ss > 0) & (ss < 1)]
    edge = [INT32_MIN, INT32_MIN + 1, INT32_MAX, 0, 1, -1, 2, -2, 3, 1000, -1000]
    for s in ss:
        acc = np.array(edge + rng.integers(INT32_MIN, INT32_MAX, 8, endpoint=True).tolist(),
                       dtype=np.int64)
        m, e = quantize_multiplier(float(s))
        acc = acc[np.abs(acc * 2 ** max(e, 0) + 0.5) < 2 ** 31]
        got = multiply_by_quantized_multiplier(acc, m, e).tolist()
        exact = [Fraction(int(a)) * Fraction(float(s)) for a in acc.tolist()]
        assert all(abs(g - round_int(x, "rne")) <= 1 for g, x in zip(got, exact)), s
        assert all(abs(g - x) < Fraction(3, 2) for g, x in zip(got, exact)), s
        clamped = requantize_fixed(acc.astype(np.int32), m, e, bits=16).tolist()
        assert all(abs(c - min(max(round_int(x, "rne"), -32768), 32767)) <= 1
                   for c, x in zip(clamped, exact)), s


def test_requantize_fixed_wraps_as_tflite_does():
    """acc * (1 << left_shift) is a C++ int32 multiply: it wraps (in the code compilers emit;
    undefined behaviour in the standard). 1 - 2^-53 quantizes to multiplier 2^30, shift 1."""
    m, e = quantize_multiplier(1 - 2.0 ** -53)
    assert (m, e) == (2 ** 30, 1)
    acc = np.array([2 ** 30 - 1, 2 ** 30, -2 ** 30, -2 ** 30 - 1])
    raw = multiply_by_quantized_multiplier(acc, m, e).tolist()
    assert raw == [mbqm(int(a), m, e) for a in acc] == [2 ** 30 - 1, -2 ** 30, -2 ** 30,
                                                        2 ** 30 - 1]
    assert requantize_fixed(acc, m, e).tolist() == [127, -128, -128, 127]


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((np.array([1.0]), 2 ** 30, 0), {}, TypeError, "acc must be integers"),
    ((np.array([2 ** 31]), 2 ** 30, 0), {}, ValueError, "acc holds 2147483648"),
    ((np.array([1]), 2 ** 31, 0), {}, ValueError, "multiplier=2147483648 is out of range"),
    ((np.array([1]), 0.5, 0), {}, TypeError, "multiplier must be integers"),
    ((np.array([1]), 2 ** 30, 31), {}, ValueError, r"shift=31 is out of range; valid: -31\.\.30"),
    ((np.array([1]), 2 ** 30, -32), {}, ValueError, "shift=-32"),
    ((np.array([1]), 2 ** 30, np.array([0, 1])), {}, ValueError, "does not broadcast"),
    ((np.array([1]), 2 ** 30, 0), {"zero_point": 256, "signed": False}, ValueError,
     "zero_point=256"),
    ((np.array([1]), 2 ** 30, 0), {"bits": 32}, ValueError, "bits=32"),
])
def test_requantize_fixed_refuses_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        requantize_fixed(*args, **kwargs)
