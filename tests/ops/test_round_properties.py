"""Property tests of numprec.round for formats too large to sweep (fp32, tf32, fp64 and formats
next to it, random custom formats and fixed point), on float64 inputs drawn as bit patterns and
from the delicate regions: it matches the Fraction oracle in every deterministic mode (values and
per-element flags), and its results are representable, monotone and bracketed by RD and RU."""
import numpy as np
from hypothesis import given, strategies as st

import numprec
from numprec import Format
from numprec.testing import (FLAG_NAMES, assert_bits_equal, assert_flags_per_element,
                             limits_of, reference_round, strategies as nps)

DETERMINISTIC = ["rne", "rna", "rtz", "rup", "rdn", "rto"]
NAMED = ["fp32", "tf32", "fp64", Format("e11m51", 11, 51),
         Format("e11m50_fn", 11, 50, nan="fn", bias=1024),
         Format("e10m52_nosub", 10, 52, subnormals=False), Format("e8m23_fnuz", 8, 23, nan="fnuz")]
any_format = st.one_of(st.sampled_from(NAMED), nps.formats(max_ebits=11, max_mbits=52),
                       nps.fixed_points(max_bits=52)).map(numprec.get_format)


@st.composite
def format_and_inputs(draw, formats=any_format):
    fmt = draw(formats)
    xs = draw(st.lists(nps.float64s_for(fmt), min_size=1, max_size=40))
    return fmt, np.array(xs, dtype=np.float64)


def oracle_arrays(x, fmt, mode, **options):
    results = [reference_round(v, fmt, mode, **options) for v in x.tolist()]
    values = np.array([value for value, _ in results], dtype=np.float64)
    flags = {name: np.array([name in raised for _, raised in results]) for name in FLAG_NAMES}
    return values, flags


@given(format_and_inputs(), st.sampled_from(DETERMINISTIC), st.booleans(), st.booleans())
def test_round_matches_the_fraction_oracle(case, mode, saturate, ftz):
    fmt, x = case
    expected, flags = oracle_arrays(x, fmt, mode, saturate=saturate, ftz=ftz)
    context = f"{fmt} {mode} saturate={saturate} ftz={ftz}"
    assert_bits_equal(numprec.round(x, fmt, mode, saturate=saturate, ftz=ftz), expected, x,
                      context)

    def run(subset, counted):
        numprec.round(subset, fmt, mode, saturate=saturate, ftz=ftz, flags=counted)
    assert_flags_per_element(run, x, flags, context)


@given(format_and_inputs(), st.sampled_from(DETERMINISTIC + ["sr"]))
def test_results_are_representable(case, mode):
    fmt, x = case
    once = numprec.round(x, fmt, mode, seed=3 if mode == "sr" else None)
    counted = numprec.Flags()
    again = numprec.round(once, fmt, "rne", flags=counted)
    assert_bits_equal(again, once, x, f"{fmt} {mode}: rounding a result again changed it")
    assert counted.inexact == 0 and counted.underflow == 0


@given(format_and_inputs(), st.sampled_from(DETERMINISTIC))
def test_rounding_is_monotone(case, mode):
    fmt, x = case
    x = np.sort(x[~np.isnan(x)])
    out = numprec.round(x, fmt, mode, saturate=True)
    assert np.all(np.diff(out) >= 0), (fmt, mode, x, out)


@given(format_and_inputs(), st.sampled_from(DETERMINISTIC + ["sr"]))
def test_every_mode_lies_between_round_down_and_round_up(case, mode):
    fmt, x = case
    x = x[~np.isnan(x)]
    options = dict(saturate=True)
    down, up = numprec.round(x, fmt, "rdn", **options), numprec.round(x, fmt, "rup", **options)
    out = numprec.round(x, fmt, mode, seed=17 if mode == "sr" else None, **options)
    assert np.all((down <= out) & (out <= up)), (fmt, mode, x, down, out, up)
    lim = limits_of(fmt)
    finite = (x >= -float(lim.max_neg)) & (x <= float(lim.max_pos))
    assert np.all((down[finite] <= x[finite]) & (x[finite] <= up[finite]))


@given(st.lists(nps.raw_float64s(), min_size=1, max_size=50))
def test_rounding_to_fp64_is_the_identity(xs):
    x = np.array(xs, dtype=np.float64)
    counted = numprec.Flags()
    for mode in DETERMINISTIC:
        assert_bits_equal(numprec.round(x, "fp64", mode, flags=counted), x, x, mode)
    assert counted.as_dict() == {name: 0 for name in FLAG_NAMES}


@given(st.lists(st.floats(width=32, allow_nan=False), min_size=1, max_size=50))
def test_fp32_rne_agrees_with_numpy(xs):
    x = np.array(xs, dtype=np.float64)
    assert_bits_equal(numprec.round(x, "fp32", "rne"), x.astype(np.float32).astype(np.float64), x)
    wide = x * 1.0000001
    with np.errstate(over="ignore"):
        numpy_fp32 = wide.astype(np.float32).astype(np.float64)
    assert_bits_equal(numprec.round(wide, "fp32", "rne"), numpy_fp32, wide)
