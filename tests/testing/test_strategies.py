"""The public hypothesis strategies draw what they promise."""
from fractions import Fraction
import math

import pytest
from hypothesis import given, settings, strategies as st

import numprec
from numprec import Format
import numprec.testing
from numprec.testing import limits_of, reference_decode, reference_encode, strategies as nps

FORMATS = ["fp32", "fp16", "bf16", "e4m3", "fp8_e5m2fnuz", "fp4_e2m1fn", "fp64", "q3.4", "uq4.4",
           Format("e5m2_nosub", 5, 2, subnormals=False), Format("e3m0_fn", 3, 0, nan="fn")]
fmts = st.sampled_from(FORMATS).map(numprec.get_format)


def is_representable(x, fmt) -> bool:
    try:
        reference_encode(x, fmt)
    except ValueError:
        return False
    return True


def grid_neighbours(magnitude: Fraction, fmt, negative: bool):
    lim = limits_of(fmt)
    step = lim.step_at(magnitude)
    lo = (magnitude // step) * step
    return lo, lo + step, lim.max_for(negative)


@given(st.data(), fmts)
def test_bit_patterns_and_values(data, fmt):
    bits = data.draw(nps.bit_patterns(fmt))
    assert 0 <= bits < 2 ** fmt.nbits
    finite = data.draw(nps.bit_patterns(fmt, allow_nan=False, allow_infinity=False))
    assert math.isfinite(reference_decode(finite, fmt))
    value = data.draw(nps.values(fmt))
    assert math.isfinite(value) and is_representable(value, fmt)
    special = data.draw(nps.values(fmt, allow_nan=True, allow_infinity=True))
    assert math.isnan(special) or is_representable(special, fmt)


@given(st.data(), fmts.filter(lambda f: f.name != "fp64"))
def test_ties_are_exact_midpoints(data, fmt):
    tie = data.draw(nps.ties(fmt))
    X = Fraction(abs(tie))
    lo, hi, top = grid_neighbours(X, fmt, tie < 0)
    assert 2 * X == lo + hi and lo <= top
    near = data.draw(nps.near_ties(fmt))
    lo, hi, _ = grid_neighbours(Fraction(abs(near)), fmt, near < 0)
    distance = abs(2 * Fraction(abs(near)) - (lo + hi)) / 2
    assert 0 < distance <= 2 * Fraction(math.ulp(near))


def test_ties_refuse_fp64():
    with pytest.raises(ValueError, match="not float64 values"):
        nps.ties("fp64")


@given(st.data(), fmts)
def test_subnormal_boundary_stays_near_zero_and_min_normal(data, fmt):
    x = abs(data.draw(nps.subnormal_boundary(fmt)))
    lim = limits_of(fmt)
    quarter = max(lim.step_at(Fraction(0)) / 4, Fraction(2) ** -1074)  # the strategy's grid
    anchor = 8 * quarter if lim.fixed else lim.min_normal
    assert Fraction(x) <= anchor + 16 * quarter + Fraction(math.ulp(x))


@given(st.data(), fmts)
def test_overflow_boundary_stays_near_max_or_beyond(data, fmt):
    x = data.draw(nps.overflow_boundary(fmt))
    lim = limits_of(fmt)
    top = lim.max_for(math.copysign(1, x) < 0)
    if math.isfinite(x):
        assert Fraction(abs(x)) >= top - 2 * lim.step_at(top) - Fraction(math.ulp(x))


def collect_classes(strategy, classify):
    seen = set()

    @settings(max_examples=400)
    @given(strategy)
    def collect(x):
        seen.add(classify(x))
    collect()
    return seen


def test_raw_float64s_cover_every_class():
    seen = collect_classes(nps.raw_float64s(), lambda x: (
        "nan" if math.isnan(x) else "zero" if x == 0 else "inf" if math.isinf(x) else
        "subnormal" if abs(x) < 2.0 ** -1022 else "normal"))
    assert {"normal", "nan", "zero"} <= seen


def test_float64s_for_mixes_the_delicate_regions():
    fmt = numprec.get_format("e4m3")

    def classify(x):
        if math.isnan(x) or math.isinf(x):
            return "special"
        if abs(x) > 464:
            return "beyond"
        if is_representable(x, fmt):
            return "value"
        lo, hi, _ = grid_neighbours(Fraction(abs(x)), fmt, x < 0)
        return "tie" if 2 * Fraction(abs(x)) == lo + hi else "between"
    assert collect_classes(nps.float64s_for(fmt), classify) == {
        "special", "beyond", "value", "tie", "between"}


@given(nps.formats())
def test_formats_are_valid_custom_formats(fmt):
    assert isinstance(fmt, Format)
    assert fmt.ebits <= 8 and fmt.mbits <= 23
    assert fmt.min_subnormal <= fmt.min_normal <= fmt.max


@given(nps.fixed_points(max_bits=12))
def test_fixed_points(fmt):
    assert 1 <= fmt.int_bits + fmt.frac_bits <= 12


def test_package_exports_the_strategies_lazily():
    assert numprec.testing.float64s_for is nps.float64s_for
    assert numprec.testing.strategies is nps
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        numprec.testing.nope
