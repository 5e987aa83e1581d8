"""numprec.quant.quantize / dequantize against an exact reference written with Fraction.

The reference divides the rationals x / scale exactly, rounds in each mode by its definition
(docs/rounding.md), adds the zero point before or after rounding, and clamps; it shares no code
with numprec.quant. Inputs: every int8 code times a scale, the midpoints between codes and their
float64 neighbours, hypothesis-drawn float64 and float32 values and scales (quantizer_params).
"""
from fractions import Fraction
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import numprec
from numprec.codes import STREAM_ARITH
from numprec.kernels.scalar.rng import key_from_seed, random62_py
from numprec.quant import Quantized, dequantize, make_observer, quantize
from numprec.testing import quantizer_params

DETERMINISTIC = ("rne", "rna", "rtz", "rup", "rdn", "rto")


# ---------------------------------------------------------------- the exact reference

def qrange(bits, signed):
    return (-2 ** (bits - 1), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)


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


def sr_int(v: Fraction, draw: int, rbits: int) -> int:
    """numprec's sr of v to an integer: the magnitude goes up iff draw >> (62 - k) <
    floor(frac * 2^k) (docs/rounding.md)."""
    mag = abs(v)
    lo = math.floor(mag)
    up = (draw >> (62 - rbits)) < math.floor((mag - lo) * 2 ** rbits)
    out = lo + 1 if up else lo
    return -out if v < 0 else out


def ref_quantize(x, scale, zp, bits, signed, mode, before, draw=None, rbits=62):
    qmin, qmax = qrange(bits, signed)
    t = Fraction(float(x)) / Fraction(float(scale))
    if mode == "sr":
        r = sr_int(t + zp, draw, rbits) if before else sr_int(t, draw, rbits) + zp
    else:
        r = round_int(t + zp, mode) if before else round_int(t, mode) + zp
    return min(max(r, qmin), qmax)


def ref_array(x, scale, zp, bits, signed, mode, before):
    flat = np.asarray(x).reshape(-1)
    return np.array([ref_quantize(v, scale, zp, bits, signed, mode, before) for v in flat],
                    dtype=np.int64).reshape(np.shape(x))


# ---------------------------------------------------------------- exhaustive int8 sweeps

SCALES = [0.375, 2.0 ** -7, 0.1, 1 / 3, float(np.float32(0.0157)), 3.7e-5, 1e-300, 7.0e200]


def int8_inputs(scale):
    """Every int8 code (and a little beyond) times the scale, the midpoints between codes, and
    the float64 neighbours of both."""
    k = np.arange(-131, 132, dtype=np.float64)
    codes = k * scale
    mids = (k + 0.5) * scale
    base = np.concatenate([codes, mids])
    return np.concatenate([base, np.nextafter(base, np.inf), np.nextafter(base, -np.inf),
                           [0.0, -0.0]])


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_every_int8_code_and_midpoint_every_mode(scale, mode):
    x = int8_inputs(scale)
    for zp, before in [(0, False), (3, False), (3, True), (-6, True), (-128, False),
                       (127, True)]:
        got = quantize(x, 8, scale=scale, zero_point=zp, mode=mode,
                       zero_point_before_rounding=before)
        assert got.q.dtype == np.int8
        expected = ref_array(x, scale, zp, 8, True, mode, before)
        bad = np.flatnonzero(got.q != expected)
        assert bad.size == 0, (zp, before, x[bad[:5]], got.q[bad[:5]], expected[bad[:5]])


@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_every_uint8_code_and_midpoint(mode):
    scale = 0.375
    x = np.concatenate([int8_inputs(scale), int8_inputs(scale) + 128 * scale])
    for zp, before in [(128, False), (128, True), (7, False), (7, True), (0, True)]:
        got = quantize(x, 8, signed=False, scale=scale, zero_point=zp, mode=mode,
                       zero_point_before_rounding=before)
        assert got.q.dtype == np.uint8
        assert np.array_equal(got.q, ref_array(x, scale, zp, 8, False, mode, before))


def test_exact_ties_land_where_each_mode_says():
    # hand-checked: x / scale = -2.5, -1.5, -0.5, 0.5, 1.5, 2.5 (scale 0.375: all exact)
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]) * 0.375
    table = {"rne": [-2, -2, 0, 0, 2, 2], "rna": [-3, -2, -1, 1, 2, 3],
             "rtz": [-2, -1, 0, 0, 1, 2], "rup": [-2, -1, 0, 1, 2, 3],
             "rdn": [-3, -2, -1, 0, 1, 2], "rto": [-3, -1, -1, 1, 1, 3]}
    for mode, expected in table.items():
        assert quantize(x, scale=0.375, mode=mode).q.tolist() == expected


# ---------------------------------------------------------------- the zero-point order

def test_zero_point_order_differs_on_a_tie():
    # x / scale = 0.5, zero point 3: after rounding rne(0.5) + 3 = 3; before, rne(3.5) = 4
    x = np.array([0.5])
    assert quantize(x, scale=1.0, zero_point=3).q.tolist() == [3]
    assert quantize(x, scale=1.0, zero_point=3, zero_point_before_rounding=True).q.tolist() == [4]
    # an even zero point: rne(0.5) + 2 = 2 = rne(2.5) both ways
    assert quantize(x, scale=1.0, zero_point=2).q.tolist() == [2]
    assert quantize(x, scale=1.0, zero_point=2, zero_point_before_rounding=True).q.tolist() == [2]
    # rtz across zero: rtz(-1.5) + 3 = 2, rtz(1.5) = 1; rna: rna(-0.5) + 1 = 0, rna(0.5) = 1
    y = np.array([-1.5])
    assert quantize(y, scale=1.0, zero_point=3, mode="rtz").q.tolist() == [2]
    assert quantize(y, scale=1.0, zero_point=3, mode="rtz",
                    zero_point_before_rounding=True).q.tolist() == [1]
    z = np.array([-0.5])
    assert quantize(z, scale=1.0, zero_point=1, mode="rna").q.tolist() == [0]
    assert quantize(z, scale=1.0, zero_point=1, mode="rna",
                    zero_point_before_rounding=True).q.tolist() == [1]


def test_the_quotient_is_exact_not_a_float64_division():
    # x = 0.25, s = 0.1 (the double 0.1000000000000000055...): the float64 division gives the
    # tie 2.5, the exact quotient is 2.49999999999999986...
    s = 0.1
    x = 0.25
    assert Fraction(x) / Fraction(s) < Fraction(5, 2) and x / s == 2.5
    assert quantize(np.array([x]), scale=s, mode="rna").q.tolist() == [2]  # float64 division: 3
    assert quantize(np.array([x]), scale=s, mode="rup").q.tolist() == [3]


# ---------------------------------------------------------------- hypothesis: float64, float32

@st.composite
def quantize_cases(draw, width=64):
    bits, signed, scheme, scale, zp = draw(quantizer_params())
    if width == 32:
        scale = float(np.float32(scale))
    qmin, qmax = qrange(bits, signed)
    # values around the integer grid (ties and their neighbours) and arbitrary floats
    ks = draw(st.lists(st.integers(qmin - zp - 3, qmax - zp + 3), min_size=1, max_size=8))
    halves = [(k + draw(st.sampled_from([0.0, 0.5, 0.25, -0.5]))) * scale for k in ks]
    bound = float(np.float32(1e6 * scale)) if width == 32 else 1e6 * scale
    free = draw(st.lists(st.floats(-bound, bound, width=width), max_size=8))
    x = np.array(halves + [float(v) for v in free], dtype=np.float64)
    nudge = draw(st.sampled_from([0, 1, -1]))
    if nudge:
        x = np.nextafter(x, nudge * np.inf)
    if width == 32:
        x = x.astype(np.float32)
        x = x[np.isfinite(x)]
    mode = draw(st.sampled_from(DETERMINISTIC))
    before = draw(st.booleans())
    return x, bits, signed, scheme, scale, zp, mode, before


@given(quantize_cases())
def test_float64_against_the_exact_reference(case):
    x, bits, signed, scheme, scale, zp, mode, before = case
    got = quantize(x, bits, signed=signed, scheme=scheme, scale=scale, zero_point=zp, mode=mode,
                   zero_point_before_rounding=before)
    assert got.q.dtype == np.dtype(f"{'' if signed else 'u'}int{8 if bits <= 8 else 16}")
    assert np.array_equal(got.q, ref_array(x, scale, zp, bits, signed, mode, before))


@given(quantize_cases(width=32))
def test_float32_against_the_exact_reference(case):
    x, bits, signed, scheme, scale, zp, mode, before = case
    assert x.dtype == np.float32
    got = quantize(x, bits, signed=signed, scale=np.float32(scale), zero_point=zp, mode=mode,
                   zero_point_before_rounding=before)
    assert np.array_equal(got.q, ref_array(x, scale, zp, bits, signed, mode, before))
    # the same values in float64 give the same codes
    assert np.array_equal(got.q, quantize(x.astype(np.float64), bits, signed=signed,
                                          scale=scale, zero_point=zp, mode=mode,
                                          zero_point_before_rounding=before).q)


@given(quantizer_params())
def test_quantizer_params_draws_valid_combinations(params):
    bits, signed, scheme, scale, zp = params
    qmin, qmax = qrange(bits, signed)
    assert 2 <= bits <= 16 and qmin <= zp <= qmax
    assert math.isfinite(scale) and 2.0 ** -40 <= scale <= 2.0 ** 40
    if scheme == "symmetric":
        assert zp == (0 if signed else 2 ** (bits - 1))
    got = quantize(np.array([qmax * scale, -qmax * scale, 0.0]), bits, signed=signed,
                   scheme=scheme, scale=scale, zero_point=zp)
    assert got.q.tolist() == [min(qmax, qmax + zp), max(qmin, min(qmax, zp - qmax)), zp]


def test_quantizer_params_covers_both_schemes_and_signs():
    seen = set()

    @given(quantizer_params(max_bits=4))
    def collect(params):
        seen.add((params[1], params[2], params[0]))

    collect()
    assert {(s, sch) for s, sch, _ in seen} == {(True, "symmetric"), (False, "symmetric"),
                                                 (True, "asymmetric"), (False, "asymmetric")}
    assert {b for _, _, b in seen} == {2, 3, 4}


# ---------------------------------------------------------------- granularity

def test_per_channel_equals_per_tensor_on_each_slice():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 4)) * np.array([1.0, 10.0, 0.01, 3.0])
    for axis in (0, 1, 2, -1):
        got = quantize(x, 6, axis=axis, scheme="asymmetric")
        n = x.shape[axis]
        assert got.scale.shape == tuple(n if i == axis % 3 else 1 for i in range(3))
        for c in range(n):
            part = np.take(x, c, axis=axis)
            ref = quantize(part, 6, scheme="asymmetric")
            assert np.take(got.scale, c, axis=axis).item() == ref.scale.item()
            assert np.take(got.zero_point, c, axis=axis).item() == ref.zero_point.item()
            assert np.array_equal(np.take(got.q, c, axis=axis), ref.q)
        assert np.array_equal(got.dequantize(), (got.q.astype(np.int64) - got.zero_point)
                              * got.scale)


def test_per_group_equals_per_tensor_on_each_block():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 8, 2)) * np.exp(rng.normal(size=(3, 8, 2)))
    got = quantize(x, 4, axis=1, group=4, mode="rna")
    assert got.scale.shape == (3, 2, 2) and got.q.shape == x.shape
    deq = got.dequantize()
    for i in range(3):
        for g in range(2):
            for j in range(2):
                block = x[i, 4 * g:4 * g + 4, j]
                ref = quantize(block, 4, mode="rna")
                assert got.scale[i, g, j] == ref.scale
                assert np.array_equal(got.q[i, 4 * g:4 * g + 4, j], ref.q)
                assert np.array_equal(deq[i, 4 * g:4 * g + 4, j], ref.dequantize())


def test_given_per_channel_and_per_group_scales():
    x = np.arange(12.0).reshape(3, 4) - 5.0
    scales = np.array([0.5, 1.0, 2.0, 4.0])
    got = quantize(x, scale=scales, zero_point=np.array([0, 1, -1, 2]), axis=1)
    expected = np.array([[ref_quantize(x[i, j], scales[j], [0, 1, -1, 2][j], 8, True, "rne",
                                       False) for j in range(4)] for i in range(3)])
    assert np.array_equal(got.q, expected)
    grouped = quantize(x, scale=[[0.5, 1.0], [2.0, 4.0], [8.0, 16.0]], axis=1, group=2)
    gscale = np.repeat(np.array([[0.5, 1.0], [2.0, 4.0], [8.0, 16.0]]), 2, axis=1)
    assert np.array_equal(grouped.q, np.vectorize(
        lambda v, s: ref_quantize(v, s, 0, 8, True, "rne", False))(x, gscale))
    assert np.array_equal(dequantize(grouped.q, grouped.scale, axis=1, group=2),
                          grouped.q * gscale)


# ---------------------------------------------------------------- qparams through quantize

def test_minmax_qparams_hand_checked():
    # symmetric int8: amax 15.9375 = 127.5 / 8 -> scale exactly 0.125, zero point 0
    got = quantize(np.array([-15.9375, 1.0, 3.0]))
    assert got.scale == 0.125 and got.zero_point == 0
    assert got.q.tolist() == [-128, 8, 24]  # -127.5 rounds to even -128
    # the scale is computed in float32, as PyTorch's observers do: 1 / 127.5 = 2^-7 * 256/255
    # rounds to 2^-7 (1 + 2^-8 + 2^-16 + 2^-23) (bit 24 of 256/255 is set, more bits follow)
    got = quantize(np.array([1.0, -0.25]))
    assert got.scale == 2.0 ** -7 * (1 + 2.0 ** -8 + 2.0 ** -16 + 2.0 ** -23)
    assert got.scale != 1 / 127.5
    # asymmetric uint8: [-2.5, 252.5] spans 255 -> scale 1, zero point 0 - rne(-2.5) = 2
    got = quantize(np.array([-2.5, 0.0, 252.5]), signed=False, scheme="asymmetric")
    assert (got.scale, got.zero_point) == (1.0, 2)
    assert got.q.tolist() == [0, 2, 254]  # rne(-2.5) + 2 = 0; rne(252.5) + 2 = 252 + 2
    got = quantize(np.array([-2.5, 252.5]), scheme="asymmetric")  # int8: -128 + 2
    assert (got.scale, got.zero_point) == (1.0, -126)
    # the range always includes 0: positive data keeps min at 0
    got = quantize(np.array([1.0, 255.0]), signed=False, scheme="asymmetric")
    assert (got.scale, got.zero_point) == (1.0, 0)
    # unsigned symmetric: zero point 2^(bits-1) (PyTorch's 128 for quint8), 4 bits -> 8
    got = quantize(np.array([-1.0, 7.5]), 4, signed=False)
    assert (got.scale, got.zero_point) == (1.0, 8) and got.q.tolist() == [7, 15]
    # an all-zero tensor: the scale floors at float32 eps = 2^-23
    got = quantize(np.zeros(4), scheme="asymmetric")
    assert (got.scale, got.zero_point) == (2.0 ** -23, -128)


def test_power_of_two_scales():
    def pow2_ceil(s):  # independent: integer bit lengths of the exact rational
        f = Fraction(s)
        e = (f.numerator.bit_length() - f.denominator.bit_length())
        while Fraction(2) ** e < f:
            e += 1
        while Fraction(2) ** (e - 1) >= f:
            e -= 1
        return math.ldexp(1.0, e)

    for s in [0.3, 0.25, 3.0, 4.0, 5e-324, 1e-310, np.nextafter(0.25, 1), np.nextafter(0.25, 0),
              1 / 127.5, 7.0e200]:
        got = quantize(np.array([1.0]), scale=s, power_of_two=True)
        assert got.scale == pow2_ceil(s), s
    assert pow2_ceil(0.3) == 0.5 and pow2_ceil(np.nextafter(0.25, 0)) == 0.25
    # from the observer: amax 1 -> fl32(1 / 127.5) just above 2^-7 -> 2^-6
    got = quantize(np.array([1.0, -0.5]), power_of_two=True)
    assert got.scale == 2.0 ** -6 and got.q.tolist() == [64, -32]
    # asymmetric: the zero point is recomputed with the rounded scale
    got = quantize(np.array([-1.0, 2.0]), signed=False, scheme="asymmetric", power_of_two=True)
    assert got.scale == 2.0 ** -6 and got.zero_point == 64  # 3/255 -> 2^-6; 0 - rne(-64)


# ---------------------------------------------------------------- saturation, dtypes

def test_saturation_is_counted():
    flags = numprec.Flags()
    got = quantize(np.array([-1000.0, -3.0, 0.0, 2.0, 1000.0]), 3, scale=1.0, zero_point=1,
                   flags=flags)
    assert got.q.tolist() == [-4, -2, 1, 3, 3]  # range [-4, 3]; 2 + 1 = 3 fits, 1000 clamps
    assert flags.saturated == 2 and flags.inexact == 0
    flags = numprec.Flags()
    quantize(np.array([-0.4, 0.4, 15.4, 15.6]), 4, signed=False, scale=1.0, zero_point=0,
             flags=flags)
    assert flags.saturated == 1  # -0.4 rounds to 0: in range; 15.6 -> 16 clamps


@pytest.mark.parametrize("bits, signed, dtype", [(2, True, np.int8), (8, True, np.int8),
                                                 (9, True, np.int16), (16, True, np.int16),
                                                 (4, False, np.uint8), (8, False, np.uint8),
                                                 (12, False, np.uint16), (16, False, np.uint16)])
def test_code_dtypes_and_full_range(bits, signed, dtype):
    qmin, qmax = qrange(bits, signed)
    x = np.arange(qmin - 2, qmax + 3, dtype=np.float64)
    got = quantize(x, bits, signed=signed, scale=1.0, zero_point=0)
    assert got.q.dtype == dtype and isinstance(got, Quantized)
    assert got.q.tolist() == np.clip(x, qmin, qmax).astype(int).tolist()
    assert (got.qmin, got.qmax) == (qmin, qmax)


def test_dequantize_is_one_float64_rounding_of_the_exact_product():
    rng = np.random.default_rng(3)
    q = rng.integers(-128, 128, size=50).astype(np.int8)
    scale, zp = 0.1 / 3, 5
    got = dequantize(q, scale, zp)
    assert got.dtype == np.float64
    assert got.tolist() == [float((Fraction(int(v)) - zp) * Fraction(scale)) for v in q]
    with pytest.raises(TypeError, match="q must be integers"):
        dequantize(q.astype(float), scale)


# ---------------------------------------------------------------- stochastic rounding

def test_sr_is_reproducible_and_always_a_neighbour():
    x = np.linspace(-2.9, 2.9, 1001)  # |x / scale| + 3 stays inside int8
    scale = 0.0237
    a = quantize(x, scale=scale, mode="sr", seed=7)
    b = quantize(x, scale=scale, mode="sr", seed=7)
    c = quantize(x, scale=scale, mode="sr", seed=8)
    assert np.array_equal(a.q, b.q) and not np.array_equal(a.q, c.q)
    for before in (False, True):
        got = quantize(x, scale=scale, zero_point=3, mode="sr", seed=11,
                       zero_point_before_rounding=before)
        t = [Fraction(v) / Fraction(scale) + 3 for v in x]
        lo = np.array([math.floor(v) for v in t])
        assert np.all((got.q == lo) | (got.q == lo + 1))


def test_sr_matches_its_exact_definition_both_orders():
    # zero point after: the div stream, 62 random bits; before: the add stream, 32 bits
    x = np.array([0.3, -0.3, 1.7, -1.7, 2.05, -2.05, 0.0, 5.5, -40.0, 1e-9])
    scale, zp, seed = 0.1, -3, 12345
    after = quantize(x, scale=scale, zero_point=zp, mode="sr", seed=seed)
    before = quantize(x, scale=scale, zero_point=zp, mode="sr", seed=seed,
                      zero_point_before_rounding=True)
    kdiv = key_from_seed(seed, STREAM_ARITH["div"])
    kadd = key_from_seed(seed, STREAM_ARITH["add"])
    for i, v in enumerate(x):
        assert after.q[i] == ref_quantize(v, scale, zp, 8, True, "sr", False,
                                          draw=random62_py(kdiv, i))
        assert before.q[i] == ref_quantize(v, scale, zp, 8, True, "sr", True,
                                           draw=random62_py(kadd, i), rbits=32)


def test_sr_rounds_up_with_probability_the_fraction():
    # 2000 seeds; the exact quotients have fractions 0.1, 0.5, 0.9 (scale 0.125: exact)
    scale = 0.125
    t = np.array([2.1, -2.5, 3.9, 1.0])
    x = t * scale
    fracs = np.array([float(Fraction(v) / Fraction(scale) - math.floor(Fraction(v)
                                                                      / Fraction(scale)))
                      for v in x])
    for before in (False, True):
        ups = np.zeros(len(x))
        for seed in range(2000):
            q = quantize(x, scale=scale, zero_point=1, mode="sr", seed=seed,
                         zero_point_before_rounding=before).q
            ups += q == np.floor(t) + 2
        freq = ups / 2000
        # binomial sd <= sqrt(0.25 / 2000) ~ 0.011: 5 sd
        assert np.all(np.abs(freq - fracs) < 0.056), (before, freq, fracs)
    assert fracs.tolist()[3] == 0.0


# ---------------------------------------------------------------- non-finite values

def test_nonfinite_error_names_the_count_and_the_first_index():
    x = np.array([[1.0, 2.0, np.nan], [np.inf, -np.inf, np.nan]])
    with pytest.raises(ValueError) as err:
        quantize(x)
    message = str(err.value)
    assert "2 NaN, 1 +inf and 1 -inf" in message and "index (0, 2)" in message
    with pytest.raises(ValueError, match=r"index \(3,\)"):
        quantize(np.array([0.0, 1.0, 2.0, -np.inf]), scale=1.0)


def test_nonfinite_clamp_maps_and_counts():
    x = np.array([np.nan, np.inf, -np.inf, 1.0, -2.0, np.nan])
    flags = numprec.Flags()
    got = quantize(x, scale=0.5, zero_point=-3, nonfinite="clamp", flags=flags)
    assert got.q.tolist() == [-3, 127, -128, -1, -7, -3]
    assert got.nonfinite_counts == {"nan": 2, "posinf": 1, "neginf": 1}
    assert flags.saturated == 2  # the two infinities clamp
    # the observer ignores them: the scale is that of the finite values alone
    observed = quantize(x, nonfinite="clamp", scheme="asymmetric", signed=False)
    finite = quantize(np.array([1.0, -2.0]), scheme="asymmetric", signed=False)
    assert (observed.scale, observed.zero_point) == (finite.scale, finite.zero_point)
    assert observed.q.tolist() == [finite.zero_point, 255, 0, *finite.q.tolist(),
                                   finite.zero_point]
    # per channel, a channel of NaN alone gets scale 1, zero point 0
    y = np.array([[np.nan, 1.0], [np.nan, -2.0]])
    got = quantize(y, axis=1, nonfinite="clamp")
    assert got.scale.tolist() == [[1.0, float(np.float32(2.0) / np.float32(127.5))]]
    assert got.q[:, 0].tolist() == [0, 0]
    # without non-finite values the counts are zero
    assert quantize(np.array([1.0]), nonfinite="clamp").nonfinite_counts == {
        "nan": 0, "posinf": 0, "neginf": 0}


# ---------------------------------------------------------------- observers through quantize

def test_observer_by_name_and_instance():
    rng = np.random.default_rng(4)
    calib = rng.normal(size=1000)
    obs = make_observer("minmax").observe(calib)
    x = np.array([0.1, -5.0, 5.0])
    got = quantize(x, observer=obs)  # a calibrated observer is used as it is
    s = np.float32(np.abs(calib).max()) / np.float32(127.5)
    assert got.scale == float(s)
    assert quantize(x, observer="minmax").scale == float(np.float32(5.0) / np.float32(127.5))
    for name in ("moving-minmax", "percentile", "mse", "kl"):
        q = quantize(calib, observer=name)
        assert q.scale > 0 and q.q.dtype == np.int8


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(bits=1), ValueError, "bits=1 is out of range"),
    (dict(bits=17), ValueError, "bits=17 is out of range"),
    (dict(bits=8.0), TypeError, "bits must be an int"),
    (dict(signed="yes"), TypeError, "signed must be True or False"),
    (dict(scheme="affine"), ValueError, "unknown scheme 'affine'"),
    (dict(observer="histogram"), ValueError, "unknown observer 'histogram'"),
    (dict(observer=3), TypeError, "observer must be a name"),
    (dict(mode="nearest"), ValueError, "invalid rounding mode 'nearest'"),
    (dict(nonfinite="skip"), ValueError, "unknown nonfinite='skip'"),
    (dict(scale=0.0), ValueError, "scale must be positive and finite, got 0.0"),
    (dict(scale=-0.5), ValueError, "scale must be positive and finite, got -0.5"),
    (dict(scale=np.inf), ValueError, "scale must be positive and finite, got inf"),
    (dict(scale=np.nan), ValueError, "scale must be positive and finite, got nan"),
    (dict(scale="1"), TypeError, "scale must be real numbers"),
    (dict(scale=1.0, zero_point=128), ValueError, r"zero_point 128 is out of .*\[-128, 127\]"),
    (dict(scale=1.0, zero_point=-129), ValueError, "zero_point -129 is out of"),
    (dict(scale=1.0, zero_point=1.5), ValueError, "zero_point must be integers, got 1.5"),
    (dict(scale=1.0, signed=False, zero_point=-1), ValueError, r"out of .*\[0, 255\]"),
    (dict(zero_point=3), ValueError, "zero_point= needs scale="),
    (dict(axis=1, group=3), ValueError, "group=3 does not divide axis 1 of length 4"),
    (dict(axis=1, group=0), ValueError, "group=0 must be a positive int"),
    (dict(group=2), ValueError, "group=2 needs axis="),
    (dict(axis=2), ValueError, r"axis=2 is out of range for an array of shape \(2, 4\)"),
    (dict(axis=0.5), TypeError, "axis must be an int"),
    (dict(axis=1, scale=[1.0, 2.0]), ValueError, r"scale of shape \(2,\) does not fit"),
    (dict(flags="f"), TypeError, "flags must be a numprec.Flags"),
])
def test_bad_input_names_the_value(kwargs, exc, match):
    x = np.arange(8.0).reshape(2, 4)
    with pytest.raises(exc, match=match):
        quantize(x, **kwargs)


def test_bad_x():
    with pytest.raises(TypeError, match="complex"):
        quantize(np.array([1j]))
    with pytest.raises(TypeError, match="must be real"):
        quantize("abc")


def test_observer_made_for_another_axis_is_refused():
    obs = make_observer("minmax", axis=0).observe(np.ones((2, 3)))
    with pytest.raises(ValueError, match="observer was made for axis=0"):
        quantize(np.ones((2, 3)), axis=1, observer=obs)
