"""OCP MX block encoding against the exact rational reference (numprec.testing.blocks), on
hand-built edge blocks, on hypothesis-drawn blocks, and against gfloat on float32 data."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import numprec
from numprec.quant.mx import (MX_FORMATS, NONFINITE_RULES, SCALE_RULES, bfp_decode, bfp_encode,
                              block_stats,
                              e8m0_decode, element_emax, mx_decode, mx_encode, mx_quantize,
                              shared_exponents)
from numprec.testing import mx_edge_blocks, reference_mx_block, reference_mx_decode

ELEMENTS = sorted(set(MX_FORMATS.values()))
BLOCK = 8


def _max(elem):
    return numprec.get_format(elem).max


def edge_blocks(elem):
    """Blocks whose amax sits on every boundary a scale rule or an element rounding cares
    about, each padded with a spread of smaller values (both signs, zeros, ties)."""
    top = _max(elem)
    amaxes = []
    for k in (-130, -126, -10, -1, 0, 1, 7, 30, 120):
        p = math.ldexp(1.0, k)
        amaxes += [p, np.nextafter(p, 0), np.nextafter(p, np.inf), 1.5 * p,
                   math.ldexp(top, k), np.nextafter(math.ldexp(top, k), np.inf),
                   math.ldexp(top, k) * 1.0625]
    amaxes += [5e-324, 1e-310, 2.0 ** -1074 * 3, 1e300, 2.0 ** 135, 2.0 ** 140, 1.7e308]
    blocks = []
    for a in amaxes:
        rest = [a / 2, -a / 3, a / 7 * 3, -a * 0.75, 0.0, -0.0, a / 2 ** 20]
        blocks.append([a] + rest[:BLOCK - 1])
        blocks.append([-a] + [-r for r in rest[:BLOCK - 1]])
    blocks.append([0.0] * BLOCK)
    blocks.append([-0.0] * BLOCK)
    return blocks


def _check_block(block, elem, **options):
    codes, scales = mx_encode(np.array(block), elem, block=BLOCK, **options)
    scale, elements, ref_codes = reference_mx_block(block, elem, **options)
    assert int(scales[0]) == scale, (block, options)
    np.testing.assert_array_equal(codes, np.array(ref_codes, dtype=codes.dtype),
                                  err_msg=f"{block} {options}")
    decoded = mx_decode(codes, scales, elem, block=BLOCK)
    expected = reference_mx_decode(scale, elements)
    assert np.array_equal(decoded, expected, equal_nan=True)
    assert np.array_equal(np.signbit(decoded), np.signbit(expected))


@pytest.mark.parametrize("elem", ELEMENTS)
@pytest.mark.parametrize("scale_rule", SCALE_RULES)
@pytest.mark.parametrize("scale_overflow", ["nan", "clamp"])
def test_edge_blocks_match_the_exact_reference(elem, scale_rule, scale_overflow):
    for block in edge_blocks(elem):
        _check_block(block, elem, scale_rule=scale_rule, scale_overflow=scale_overflow)


@pytest.mark.parametrize("elem", ELEMENTS)
@pytest.mark.parametrize("mode", ["rne", "rna", "rtz", "rup", "rdn", "rto"])
def test_every_deterministic_element_mode(elem, mode):
    for block in edge_blocks(elem)[::3]:
        _check_block(block, elem, mode=mode)


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def blocks(draw, width=64):
    """A block of BLOCK values: a random magnitude, values spread over a few binades below it."""
    scale = draw(st.integers(-1074, 1023))
    mags = draw(st.lists(st.floats(0, 1, allow_subnormal=False), min_size=BLOCK,
                         max_size=BLOCK))
    signs = draw(st.lists(st.booleans(), min_size=BLOCK, max_size=BLOCK))
    out = []
    for m, s in zip(mags, signs):
        v = math.ldexp(m, scale) if scale < 1023 or m < 1 else 1.7e308
        v = float(np.float32(min(v, 3.4e38))) if width == 32 else v
        out.append(-v if s else v)
    return out


@pytest.mark.parametrize("elem", ELEMENTS)
@given(data=st.data())
def test_random_blocks_match_the_exact_reference(elem, data):
    block = data.draw(st.one_of(blocks(64), blocks(32),
                                st.lists(finite_floats, min_size=BLOCK, max_size=BLOCK)))
    rule = data.draw(st.sampled_from(SCALE_RULES))
    _check_block(block, elem, scale_rule=rule)


@pytest.mark.parametrize("elem", ELEMENTS)
@given(data=st.data())
def test_public_edge_block_strategy_against_the_exact_reference(elem, data):
    block = data.draw(mx_edge_blocks(elem, block=BLOCK, allow_nonfinite=True))
    assert len(block) == BLOCK
    options = dict(scale_rule=data.draw(st.sampled_from(SCALE_RULES)),
                   scale_overflow=data.draw(st.sampled_from(["nan", "clamp"])))
    if not all(math.isfinite(v) for v in block):
        options["nonfinite"] = "nan-scale"
    _check_block(block, elem, **options)


@pytest.mark.parametrize("elem", ["fp8_e4m3fn", "fp8_e5m2", "fp4_e2m1fn", "q1.6"])
@pytest.mark.parametrize("nonfinite", NONFINITE_RULES)
def test_nan_and_inf_in_a_block(elem, nonfinite):
    has_nan = numprec.get_format(elem).has_nan
    cases = [[1.0, np.inf, 0.5, -2.0, 0, 0, 0, 0], [1.0, -np.inf, 3.0, 0, 0, 0, 0, 0],
             [np.nan, 1.0, 0.25, 0, 0, 0, 0, 0]]
    for block in cases:
        bad_nan = nonfinite == "ignore" and any(np.isnan(block)) and not has_nan
        if nonfinite == "error" or bad_nan:
            with pytest.raises(ValueError, match="NaN"):
                mx_encode(np.array(block), elem, block=BLOCK, nonfinite=nonfinite)
            with pytest.raises(ValueError):
                reference_mx_block(block, elem, nonfinite=nonfinite)
            continue
        _check_block(block, elem, nonfinite=nonfinite)
        decoded = mx_quantize(np.array(block), elem, block=BLOCK, nonfinite=nonfinite)
        if nonfinite == "nan-scale":
            assert np.isnan(decoded).all()
        else:  # the finite values keep the scale the finite ones give; inf saturates
            finite = np.isfinite(block)
            assert np.isfinite(decoded[finite]).all()


def test_nan_scale_block_beside_normal_blocks():
    x = np.array([1.0, 2.0, np.nan, 4.0, 1.0, 2.0, 3.0, 4.0])
    codes, scales = mx_encode(x, "e4m3", block=4)
    assert scales[0] == 0xFF and scales[1] == 127 + 2 - 8
    out = mx_decode(codes, scales, "e4m3", block=4)
    assert np.isnan(out[:4]).all() and np.array_equal(out[4:], x[4:])


def test_all_zero_block_takes_the_smallest_scale():
    codes, scales = mx_encode(np.zeros(32), "mxfp4")
    assert scales.tolist() == [0] and codes.tolist() == [0] * 32


def test_scale_overflow_choices():
    x = np.full(4, 2.0 ** 140)  # floor: 140 - 8 = 132 > 127
    _, nan_scales = mx_encode(x, "e4m3", block=4)
    assert nan_scales.tolist() == [0xFF]
    codes, clamped = mx_encode(x, "e4m3", block=4, scale_overflow="clamp")
    assert clamped.tolist() == [254]  # 2^127; the elements saturate at 448
    assert mx_decode(codes, clamped, "e4m3", block=4).tolist() == [448 * 2.0 ** 127] * 4


def test_floor_takes_the_exponent_from_bits_not_a_float_log2():
    just_below = np.nextafter(2.0 ** 10, 0)  # np.log2 gives exactly 10.0 here
    assert math.floor(np.log2(just_below)) == 10
    e, _ = shared_exponents(np.array([just_below]), "e4m3")
    assert e.tolist() == [9 - 8]


# amax just above E4M3's max 448: (shared exponent, what amax itself decodes to) per rule,
# the table of docs/quantization.md
ABOVE_MAX = {449.0: {"floor": (0, 448.0), "ceil": (1, 448.0), "even": (0, 448.0),
                     "rceil": (1, 448.0)},
             470.0: {"floor": (0, 448.0), "ceil": (1, 480.0), "even": (0, 448.0),
                     "rceil": (1, 480.0)},
             496.0: {"floor": (0, 448.0), "ceil": (1, 512.0), "even": (1, 512.0),
                     "rceil": (1, 512.0)}}


@pytest.mark.parametrize("amax", sorted(ABOVE_MAX))
def test_rules_on_a_block_just_above_the_element_max(amax):
    for rule, (exponent, decoded) in ABOVE_MAX[amax].items():
        assert int(shared_exponents(np.array([amax]), "e4m3", rule)[0][0]) == exponent
        out = mx_quantize(np.array([amax, 1.0, 1.0, 1.0]), "e4m3", block=4, scale_rule=rule)
        assert out[0] == decoded, rule


def test_ceil_and_rceil_never_clip():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 32)) * np.exp2(rng.integers(-20, 20, size=(64, 1)))
    for elem in ELEMENTS:
        for rule in ("ceil", "rceil"):
            codes, scales = mx_encode(x, elem, scale_rule=rule)
            top = _max(elem) * e8m0_decode(scales)
            assert (np.abs(x).max(axis=1) <= top[:, 0]).all()


def test_along_any_axis():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3, 5))
    codes, scales = mx_encode(x, "mxfp6_e2m3", axis=0)
    assert codes.shape == x.shape and scales.shape == (2, 3, 5)
    moved = np.moveaxis(x, 0, -1)
    codes_last, scales_last = mx_encode(moved, "mxfp6_e2m3")
    np.testing.assert_array_equal(np.moveaxis(codes, 0, -1), codes_last)
    np.testing.assert_array_equal(np.moveaxis(scales, 0, -1), scales_last)
    np.testing.assert_array_equal(mx_decode(codes, scales, "mxfp6_e2m3", axis=0),
                                  np.moveaxis(mx_decode(codes_last, scales_last, "mxfp6_e2m3"),
                                              -1, 0))


def test_float32_input_encodes_like_its_float64_values():
    x = np.random.default_rng(2).standard_normal(256).astype(np.float32)
    for elem in ELEMENTS:
        a = mx_encode(x, elem)
        b = mx_encode(x.astype(np.float64), elem)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_element_flags_are_counted():
    """X = 1 for both blocks (floor(log2 amax) = 8 = E4M3's emax): 460 rounds to 448 (below
    the rounding boundary 464), 500 is beyond it and saturates."""
    flags = numprec.Flags()
    mx_encode(np.array([460.0, 1.0, 0.3, 0.0]), "e4m3", block=4, flags=flags)
    assert (flags.saturated, flags.inexact) == (0, 2)
    flags = numprec.Flags()
    mx_encode(np.array([500.0, 1.0, 0.3, 0.0]), "e4m3", block=4, flags=flags)
    assert (flags.saturated, flags.inexact) == (1, 2)


def test_element_emax_of_the_ocp_formats():
    assert {e: element_emax(numprec.get_format(e)) for e in ELEMENTS} == {
        "fp8_e4m3fn": 8, "fp8_e5m2": 15, "fp6_e3m2fn": 4, "fp6_e2m3fn": 2, "fp4_e2m1fn": 2,
        "q1.6": 0}


def test_gfloat_agrees_on_float32_blocks():
    gfloat = pytest.importorskip("gfloat")  # a test dependency: importorskip only names it
    from gfloat import formats as gf
    pairs = {"fp8_e4m3fn": gf.format_info_mxfp8_e4m3, "fp8_e5m2": gf.format_info_mxfp8_e5m2,
             "fp6_e3m2fn": gf.format_info_mxfp6_e3m2, "fp6_e2m3fn": gf.format_info_mxfp6_e2m3,
             "fp4_e2m1fn": gf.format_info_mxfp4_e2m1}
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((40, 32)) * np.exp2(rng.integers(-30, 30, size=(40, 1)))
         ).astype(np.float32).astype(np.float64)  # float32 data (gfloat's float log2 is exact
    # enough there), handed over as float64
    x[0] = 0.0
    for elem, info in pairs.items():
        ours = mx_quantize(x, elem, scale_overflow="clamp")
        theirs = np.stack([gfloat.quantize_block(info, row, gfloat.compute_scale_amax)
                           for row in x])
        np.testing.assert_array_equal(ours, theirs, err_msg=elem)


@pytest.mark.parametrize("call, message", [
    (lambda: mx_encode(np.ones(30), "e4m3"), "mx_encode: block 32 does not divide"),
    (lambda: mx_encode(np.ones(32), "e4m3", scale_rule="round"), "unknown scale rule"),
    (lambda: mx_encode(np.ones(32), "e4m3", nonfinite="zero"), "unknown nonfinite"),
    (lambda: mx_encode(np.ones(32), "e4m3", scale_overflow="wrap"), "unknown scale_overflow"),
    (lambda: mx_encode(np.ones(32), "uq1.6"), "unsigned"),
    (lambda: mx_encode(np.ones(32), "fp32"), "at most 16 bits"),
    (lambda: mx_encode(np.ones(32), "e9m9"), "unknown format"),
    (lambda: mx_encode(np.ones(32), "e4m3", block=0), "positive integer"),
    (lambda: mx_encode(np.ones(32), "e4m3", axis=2), "out of range"),
    (lambda: mx_encode(np.float64(1.0), "e4m3"), "scalar"),
    (lambda: mx_decode(np.zeros(32, np.uint8), np.zeros(2, np.uint8), "e4m3"), "do not match"),
    (lambda: mx_decode(np.full(32, 300), np.zeros(1, np.uint8), "e4m3"), "codes lie in"),
    (lambda: mx_decode(np.zeros(32, np.uint8), np.full(1, 256), "e4m3"), "mx_decode: 8-bit scale codes lie in 0..255"),
])
def test_bad_input_names_the_problem(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# Generic block floating point: other scale widths, other elements (int mantissas among them)
BFP_CASES = [("q0.7", 4), ("q0.7", 8), ("q3.4", 5), ("q0.3", 10), ("fp8_e4m3fn", 4),
             ("fp4_e2m1fn", 6), (numprec.Format("e3m4", 3, 4), 8)]


@pytest.mark.parametrize("elem, scale_bits", BFP_CASES, ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("scale_rule", SCALE_RULES)
def test_block_floating_point_matches_the_reference(elem, scale_bits, scale_rule):
    for block in edge_blocks(elem)[::2]:
        options = dict(scale_rule=scale_rule, scale_bits=scale_bits)
        codes, scales = bfp_encode(np.array(block), elem, block=BLOCK, **options)
        scale, elements, ref_codes = reference_mx_block(block, elem, **options)
        assert int(scales[0]) == scale, block
        np.testing.assert_array_equal(codes, ref_codes)
        decoded = bfp_decode(codes, scales, elem, block=BLOCK, scale_bits=scale_bits)
        assert np.array_equal(decoded, reference_mx_decode(scale, elements, scale_bits),
                              equal_nan=True)


def test_bfp_with_eight_bit_scales_is_mx():
    x = np.random.default_rng(9).standard_normal((4, 64))
    a = bfp_encode(x, "e5m2", block=32)
    b = mx_encode(x, "e5m2")
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_narrow_scales_clamp_their_range():
    codes, scales = bfp_encode(np.full(4, 1e6), "q0.7", block=4, scale_bits=4,
                               scale_overflow="clamp")
    assert scales.tolist() == [14]  # E = 7 (bias 7), the elements saturate at 127/128
    assert bfp_decode(codes, scales, "q0.7", block=4, scale_bits=4).tolist() == [127.0] * 4
    _, scales = bfp_encode(np.full(4, 1e6), "q0.7", block=4, scale_bits=4)
    assert scales.tolist() == [15]  # NaN
    with pytest.raises(ValueError, match="scale_bits"):
        bfp_encode(np.ones(4), "q0.7", block=4, scale_bits=1)
    with pytest.raises(ValueError, match="scale codes lie in 0..15"):
        bfp_decode(np.zeros(4, np.uint8), np.full(1, 16), "q0.7", block=4, scale_bits=4)


def test_block_stats_by_hand():
    x = np.array([[500.0, 1.0, 0.0, -2.0],    # floor: E = 0, 500 clips (> 448), range log2 500
                  [0.0, 0.0, 0.0, 0.0],       # zero block: E = -127
                  [0.25, 0.5, -0.125, 1.0],   # E = 0 - 8 = -8, nothing clips, range 3
                  [np.nan, 1.0, 1.0, 1.0]])   # NaN scale
    stats = block_stats(x, "e4m3", block=4)
    assert stats["shared_exponents"] == {-127: 1, -8: 1, 0: 1}
    assert stats["nan_scales"] == 1 and stats["zero_blocks"] == 1
    assert stats["clipped_frac"] == 1 / 16
    spread = stats["dynamic_range_log2"]
    assert spread[0] == np.log2(500.0) and np.isnan(spread[1]) and spread[2] == 3.0
    assert np.isnan(spread[3])
    # the clipped elements are exactly those that encode saturates
    rng = np.random.default_rng(4)
    y = rng.standard_normal((50, 32)) * 10.0 ** rng.integers(-3, 3, size=(50, 1))
    flags = numprec.Flags()
    codes, scales = mx_encode(y, "fp4_e2m1fn", flags=flags)
    clipped = block_stats(y, "fp4_e2m1fn")["clipped_frac"] * y.size
    top = 6.0 * e8m0_decode(scales)
    assert clipped == (np.abs(y) > top).sum() > 0
