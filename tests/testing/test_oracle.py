"""The Fraction oracle on hand-worked cases from docs/rounding.md and REFERENCE.md, so that the
oracle itself is pinned to the contract (the kernels are compared with it elsewhere)."""
import math

import pytest

from numprec import FixedPoint, Format
from numprec.testing import MODES, reference_decode, reference_encode, reference_round
from numprec.kernels.scalar.rng import key_from_seed, random62_py

H = float.fromhex
NAN = math.nan
INF = math.inf
IX, UF, OF, SAT, INV, FL = "inexact", "underflow", "overflow", "saturated", "invalid", "flushed"


def same(a: float, b: float) -> bool:
    """Equal including the sign of zero; NaN equals NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


CASES = [
    # (x, fmt, mode, options, expected value, expected flags)
    # OCP E4M3FN: 464 is the tie between 448 and the missing 480 and goes to 448 (even); above it
    # overflows to NaN, or to 448 with saturation.
    (464.0, "e4m3", "rne", {}, 448.0, {IX}),
    (math.nextafter(464.0, INF), "e4m3", "rne", {}, NAN, {IX, OF}),
    (math.nextafter(464.0, INF), "e4m3", "rne", {"saturate": True}, 448.0, {IX, OF, SAT}),
    (464.0, "e4m3", "rna", {}, NAN, {IX, OF}),
    (-431.99999999999994, "e4m3", "rne", {}, -416.0, {IX}),
    (460.0, "e4m3", "rto", {}, 448.0, {IX, OF}),  # jams to the virtual 480: overflow to max
    (INF, "e4m3", "rne", {}, NAN, {INV}),
    (-INF, "e4m3", "rne", {"saturate": True}, -448.0, {SAT}),
    # E5M2 has infinities: overflow goes to inf by mode.
    (61440.0, "e5m2", "rne", {}, INF, {IX, OF}),
    (61439.0, "e5m2", "rne", {}, 57344.0, {IX}),
    # IEEE overflow by mode (fp16: max 65504, virtual neighbour 65536, tie 65520 goes up).
    (65520.0, "fp16", "rne", {}, INF, {IX, OF}),
    (65519.99, "fp16", "rne", {}, 65504.0, {IX}),
    (1e6, "fp16", "rtz", {}, 65504.0, {IX, OF}),
    (-1e6, "fp16", "rup", {}, -65504.0, {IX, OF}),
    (-1e6, "fp16", "rdn", {}, -INF, {IX, OF}),
    (1e6, "fp16", "rup", {}, INF, {IX, OF}),
    (1e6, "fp16", "rto", {}, 65504.0, {IX, OF}),
    (65535.0, "fp16", "rto", {}, 65504.0, {IX}),  # 65504 = 2047 * 32 is odd
    (INF, "fp16", "rne", {}, INF, set()),
    (-INF, "fp16", "rtz", {"saturate": True}, -65504.0, {SAT}),
    # ties and stagnation (REFERENCE.md: adding 1 stops at 2048, 256, 16, 8)
    (2049.0, "fp16", "rne", {}, 2048.0, {IX}),
    (257.0, "bf16", "rne", {}, 256.0, {IX}),
    (17.0, "e4m3", "rne", {}, 16.0, {IX}),
    (9.0, "e5m2", "rne", {}, 8.0, {IX}),
    (1 + 2 ** -11, "fp16", "rne", {}, 1.0, {IX}),
    (1 + 3 * 2 ** -11, "fp16", "rne", {}, 1 + 2 ** -9, {IX}),
    (1 + 2 ** -11, "fp16", "rna", {}, 1 + 2 ** -10, {IX}),
    (-(1 + 2 ** -11), "fp16", "rup", {}, -1.0, {IX}),
    (-(1 + 2 ** -11), "fp16", "rdn", {}, -(1 + 2 ** -10), {IX}),
    (1 + 2 ** -11, "fp16", "rto", {}, 1 + 2 ** -10, {IX}),
    (1 + 2 ** -10 + 2 ** -12, "fp16", "rto", {}, 1 + 2 ** -10, {IX}),
    # subnormals and signed zeros (fp16 min subnormal 2^-24)
    (2.0 ** -25, "fp16", "rne", {}, 0.0, {IX, UF}),
    (-(2.0 ** -25), "fp16", "rne", {}, -0.0, {IX, UF}),
    (1.5 * 2.0 ** -25, "fp16", "rne", {}, 2.0 ** -24, {IX, UF}),
    (3 * 2.0 ** -24, "fp16", "rne", {}, 3 * 2.0 ** -24, set()),  # exact subnormal: no underflow
    (5e-324, "fp16", "rup", {}, 2.0 ** -24, {IX, UF}),
    (-5e-324, "fp16", "rup", {}, -0.0, {IX, UF}),
    # tininess after rounding: 2^-14 - 2^-26 rounds (unbounded, 11 bits) to 2^-14, not tiny;
    # 2^-14 - 2^-25 is exact with 11 bits, so tiny; both round to min normal here.
    (2.0 ** -14 - 2.0 ** -26, "fp16", "rne", {}, 2.0 ** -14, {IX}),
    (2.0 ** -14 - 2.0 ** -25, "fp16", "rne", {}, 2.0 ** -14, {IX, UF}),
    (2.0 ** -14 - 2.0 ** -26, "fp16", "rtz", {}, 2.0 ** -14 - 2.0 ** -24, {IX, UF}),
    (2.0 ** -14 - 2.0 ** -60, "fp16", "rto", {}, 2.0 ** -14 - 2.0 ** -24, {IX, UF}),
    # ftz: subnormal results become signed zero (fnuz: +0)
    (2.0 ** -20, "fp16", "rne", {"ftz": True}, 0.0, {IX, UF, FL}),
    (-(2.0 ** -20), "fp16", "rne", {"ftz": True}, -0.0, {IX, UF, FL}),
    (-(2.0 ** -9), "fp8_e4m3fnuz", "rne", {"ftz": True}, 0.0, {IX, UF, FL}),
    (2.0 ** -14, "fp16", "rne", {"ftz": True}, 2.0 ** -14, set()),
    (2.0 ** -14 - 2.0 ** -26, "fp16", "rne", {"ftz": True}, 2.0 ** -14, {IX}),
    # fnuz: no negative zero
    (-(2.0 ** -12), "fp8_e4m3fnuz", "rne", {}, 0.0, {IX, UF}),
    (-0.0, "fp8_e4m3fnuz", "rne", {}, 0.0, set()),
    (-0.0, "fp16", "rne", {}, -0.0, set()),
    (INF, "fp8_e5m2fnuz", "rne", {}, NAN, {INV}),
    (250.0, "fp8_e4m3fnuz", "rne", {}, NAN, {IX, OF}),  # past the tie 248: to 256, overflow
    (247.0, "fp8_e4m3fnuz", "rne", {}, 240.0, {IX}),
    # formats without inf or NaN saturate always
    (7.0, "fp4_e2m1fn", "rne", {}, 6.0, {IX, OF, SAT}),
    (4.9, "fp4_e2m1fn", "rne", {}, 4.0, {IX}),
    (5.0, "fp4_e2m1fn", "rne", {}, 4.0, {IX}),
    (0.25, "fp4_e2m1fn", "rne", {}, 0.0, {IX, UF}),
    (-INF, "fp4_e2m1fn", "rne", {}, -6.0, {SAT}),
    (1.0, "fp4_e2m1fn", "rne", {"ftz": True}, 1.0, set()),
    (0.5, "fp4_e2m1fn", "rne", {"ftz": True}, 0.0, {IX, UF, FL}),
    # no subnormals: the grid below min normal is {0, min normal}
    (0.75 * 2.0 ** -14, "e5m2_nosub", "rne", {}, 2.0 ** -14, {IX, UF}),  # tiny: exact in 3 bits
    (0.5 * 2.0 ** -14, "e5m2_nosub", "rne", {}, 0.0, {IX, UF}),
    (0.5 * 2.0 ** -14, "e5m2_nosub", "rna", {}, 2.0 ** -14, {IX, UF}),
    # no mantissa bits: every significand is 1 (odd), so ties go up and rto stays down
    (0.75, "e3m0_fn", "rne", {}, 1.0, {IX}),
    (0.75, "e3m0_fn", "rto", {}, 0.5, {IX}),
    (12.0, "e3m0_fn", "rne", {}, NAN, {IX, OF}),
    # fixed point: constant quantum, saturating, +0 only
    (0.03125, "q3.4", "rne", {}, 0.0, {IX}),
    (0.09375, "q3.4", "rne", {}, 0.125, {IX}),
    (-0.01, "q3.4", "rne", {}, 0.0, {IX}),
    (8.0, "q3.4", "rne", {}, 7.9375, {IX, OF, SAT}),
    (8.0, "q3.4", "rtz", {}, 7.9375, {IX, OF}),
    (-8.0, "q3.4", "rne", {}, -8.0, set()),
    (-8.03125, "q3.4", "rne", {}, -8.0, {IX}),
    (-8.04, "q3.4", "rne", {}, -8.0, {IX, OF, SAT}),
    (-0.04, "uq4.4", "rne", {}, 0.0, {IX, OF, SAT}),
    (-0.03, "uq4.4", "rne", {}, 0.0, {IX}),
    (-INF, "uq4.4", "rne", {}, 0.0, {SAT}),
    (127.5, "int8", "rne", {}, 127.0, {IX, OF, SAT}),
    (-128.5, "int8", "rne", {}, -128.0, {IX}),
    (2.5, "int8", "rne", {}, 2.0, {IX}),
    (3.5, "int8", "rne", {}, 4.0, {IX}),
    (2.5, "int8", "rna", {}, 3.0, {IX}),
    (2.5, "int8", "rto", {}, 3.0, {IX}),
    (1e-300, "int8", "rup", {"ftz": True}, 1.0, {IX}),
]


def _fmt(spec):
    custom = {"e5m2_nosub": Format("e5m2_nosub", 5, 2, subnormals=False),
              "e3m0_fn": Format("e3m0_fn", 3, 0, nan="fn")}
    return custom.get(spec, spec)


@pytest.mark.parametrize("x, fmt, mode, options, expected, flags", CASES)
def test_hand_worked_cases(x, fmt, mode, options, expected, flags):
    value, raised = reference_round(x, _fmt(fmt), mode, **options)
    assert same(value, expected), value
    assert raised == flags


def test_nan_input_is_returned_unchanged():
    payload = -math.nan
    for mode in MODES:
        value, raised = reference_round(payload, "fp16", mode, seed=1)
        assert value is payload and raised == frozenset()


def test_sr_draw_rule_by_hand():
    # 1 + 2^-11 is halfway between fp16 neighbours: with rbits=1 the threshold is floor(0.5 * 2)
    # = 1, so the upper neighbour is chosen exactly when the top bit of the draw is 0.
    x = 1 + 2 ** -11
    key = key_from_seed(42)
    for index in range(64):
        expected = 1 + 2 ** -10 if random62_py(key, index) >> 61 == 0 else 1.0
        assert reference_round(x, "fp16", "sr", seed=42, index=index, rbits=1)[0] == expected
    # a quarter of the way: rbits=1 gives threshold floor(0.25 * 2) = 0 -> always down
    quarter = 1 + 2 ** -12
    assert {reference_round(quarter, "fp16", "sr", seed=1, index=i, rbits=1)[0]
            for i in range(64)} == {1.0}
    assert {reference_round(quarter, "fp16", "sr", seed=1, index=i, rbits=2)[0]
            for i in range(64)} == {1.0, 1 + 2 ** -10}


def test_sr_overflow_and_tininess():
    # sr past max to the virtual neighbour overflows like rne; tininess is |x| < min normal.
    values = {reference_round(65535.0, "fp16", "sr", seed=3, index=i) for i in range(64)}
    assert {v for v, _ in values} == {65504.0, INF}
    assert reference_round(2.0 ** -14 - 2.0 ** -60, "fp16", "sr", seed=3)[1] >= {UF, IX}


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: reference_round(1.0, "fp16", "nearest"), ValueError, "valid modes: rne, rna"),
    (lambda: reference_round(1.0, "fp16", "rne", rbits=4), ValueError, "only applies"),
    (lambda: reference_round(1.0, "fp16", "sr"), ValueError, "explicit seed"),
    (lambda: reference_round(1.0, "fp16", "sr", seed=1, rbits=63), ValueError, "1..62"),
    (lambda: reference_round(1j, "fp16"), TypeError, "real number"),
    (lambda: reference_round("1", "fp16"), TypeError, "real number"),
    (lambda: reference_round(2 ** 53 + 1, "fp16"), ValueError, "not exactly representable"),
    (lambda: reference_round(1.0, "fp17"), ValueError, "unknown format"),
])
def test_oracle_rejects_bad_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("bits, fmt, expected", [
    (0x7E, "e4m3", 448.0), (0x7F, "e4m3", NAN), (0xFF, "e4m3", NAN), (0x80, "e4m3", -0.0),
    (0x01, "e4m3", 2.0 ** -9), (0x08, "e4m3", 2.0 ** -6),
    (0x80, "fp8_e4m3fnuz", NAN), (0x7F, "fp8_e4m3fnuz", 240.0), (0xFF, "fp8_e4m3fnuz", -240.0),
    (0x7C00, "fp16", INF), (0xFC00, "fp16", -INF), (0x7E00, "fp16", NAN), (0x7BFF, "fp16", 65504.0),
    (0x7B, "e5m2", 57344.0), (0x7C, "e5m2", INF), (0x7D, "e5m2", NAN),
    (0x7, "fp4_e2m1fn", 6.0), (0xF, "fp4_e2m1fn", -6.0), (0x1, "fp4_e2m1fn", 0.5),
    (0x1F, "fp6_e3m2fn", 28.0), (0x1F, "fp6_e2m3fn", 7.5),
    (0xFF, "int8", -1.0), (0x80, "int8", -128.0), (0x7F, "q3.4", 7.9375), (0xFF, "uq4.4", 15.9375),
])
def test_reference_decode_by_hand(bits, fmt, expected):
    assert same(reference_decode(bits, fmt), expected)


def test_reference_decode_without_subnormals_gives_zero():
    nosub = Format("nosub", 4, 3, subnormals=False)
    assert same(reference_decode(0x01, nosub), 0.0) and same(reference_decode(0x81, nosub), -0.0)
    fnuz = Format("fnuz_nosub", 4, 3, nan="fnuz", subnormals=False)
    assert same(reference_decode(0x81, fnuz), 0.0)  # fnuz has no -0


@pytest.mark.parametrize("value, fmt, expected", [
    (448.0, "e4m3", 0x7E), (-0.0, "e4m3", 0x80), (NAN, "e4m3", 0x7F), (-NAN, "e4m3", 0xFF),
    (NAN, "fp8_e4m3fnuz", 0x80), (-0.0, "fp8_e4m3fnuz", 0x00), (NAN, "fp16", 0x7E00),
    (-INF, "fp16", 0xFC00), (2.0 ** -24, "fp16", 0x0001), (-1.0, "int8", 0xFF),
    (-8.0, "q3.4", 0x80), (6.0, "fp4_e2m1fn", 0x7), (-0.0, "q3.4", 0x00),
])
def test_reference_encode_by_hand(value, fmt, expected):
    assert reference_encode(value, fmt) == expected


@pytest.mark.parametrize("value, fmt, pattern", [
    (NAN, "fp4_e2m1fn", "no NaN"), (INF, "e4m3", "no infinity"), (1.1, "fp16", "not representable"),
    (480.0, "e4m3", "beyond"), (-1.0, "uq4.4", "not representable"),
    (INF, "int8", "no bit pattern"),
    (2.0 ** -10, Format("nosub", 4, 3, subnormals=False), "not representable"),
])
def test_reference_encode_refuses_unrepresentable_values(value, fmt, pattern):
    with pytest.raises(ValueError, match=pattern):
        reference_encode(value, fmt)


def test_reference_decode_rejects_out_of_range_patterns():
    with pytest.raises(ValueError, match="out of range"):
        reference_decode(256, "e4m3")
    with pytest.raises(ValueError, match="out of range"):
        reference_decode(-1, FixedPoint(3, 4))
    with pytest.raises(TypeError, match="must be an int"):
        reference_decode(1.0, "e4m3")
