"""Cross-check against GNU MPFR (gmpy2): for IEEE-like formats, rounding the float64 to
precision p with the format's exponent range and subnormalize is IEEE conversion. MPFR supplies
RNDN (= rne), RNDZ (= rtz), RNDU (= rup), RNDD (= rdn) and RNDA, which is *directed* away from
zero, not rna; rna and rto are built from MPFR's directed results here. Both the Fraction oracle and
numprec.round are compared with MPFR, values and the inexact/underflow/overflow flags."""
from fractions import Fraction

import gmpy2
import numpy as np
from hypothesis import given, strategies as st

import numprec
from numprec import Format
from numprec.testing import reference_round, strategies as nps

MPFR_MODES = {"rne": gmpy2.RoundToNearest, "rtz": gmpy2.RoundToZero, "rup": gmpy2.RoundUp,
              "rdn": gmpy2.RoundDown}
IEEE = ["fp16", "bf16", "tf32", "fp32", "fp8_e5m2", "fp64", Format("e6m9", 6, 9),
        Format("e3m1", 3, 1)]
ieee_formats = st.one_of(
    st.sampled_from(IEEE),
    nps.formats(max_ebits=11, max_mbits=52, conventions=("ieee",)).filter(lambda f: f.subnormals),
).map(numprec.get_format)


def mpfr_round(x: float, fmt, rnd):
    """(value, {flags}) of x rounded by MPFR to fmt's precision and exponent range."""
    min_subnormal_exponent = fmt.emin - fmt.mbits
    ctx = gmpy2.context(precision=fmt.precision, emin=min_subnormal_exponent + 1,
                        emax=fmt.emax + 1, subnormalize=True, round=rnd)
    value = float(ctx.plus(gmpy2.mpfr(x, 53)))
    flags = {name for name in ("inexact", "underflow", "overflow") if getattr(ctx, name)}
    if "inexact" not in flags:  # MPFR flags tiny exact results too; IEEE (and numprec) do not
        flags.discard("underflow")
    return value, flags


def same(a, b):
    return np.float64(a).view(np.uint64) == np.float64(b).view(np.uint64)


@st.composite
def format_and_inputs(draw):
    fmt = draw(ieee_formats)
    finite = nps.float64s_for(fmt).filter(np.isfinite)
    return fmt, draw(st.lists(finite, min_size=1, max_size=30))


def _checked_flags(flags):
    return set(flags) & {"inexact", "underflow", "overflow"}


@given(format_and_inputs(), st.sampled_from(sorted(MPFR_MODES)))
def test_oracle_and_kernel_agree_with_mpfr(case, mode):
    fmt, xs = case
    got = numprec.round(np.array(xs), fmt, mode)
    for x, kernel_value in zip(xs, got):
        expected, mpfr_flags = mpfr_round(x, fmt, MPFR_MODES[mode])
        value, flags = reference_round(x, fmt, mode)
        assert same(value, expected), (fmt, mode, x, value, expected)
        assert _checked_flags(flags) == mpfr_flags, (fmt, mode, x, flags, mpfr_flags)
        assert same(kernel_value, expected), (fmt, mode, x, kernel_value, expected)


@given(format_and_inputs())
def test_rna_is_rndn_except_at_ties_where_it_is_rnda(case):
    fmt, xs = case
    got = numprec.round(np.array(xs), fmt, "rna")
    for x, kernel_value in zip(xs, got):
        down, _ = mpfr_round(x, fmt, gmpy2.RoundToZero)
        away, _ = mpfr_round(x, fmt, gmpy2.RoundAwayZero)
        nearest, _ = mpfr_round(x, fmt, gmpy2.RoundToNearest)
        is_tie = np.isfinite(away) and 2 * Fraction(x) == Fraction(down) + Fraction(away)
        expected = away if is_tie else nearest
        assert same(reference_round(x, fmt, "rna")[0], expected), (fmt, x, expected)
        assert same(kernel_value, expected), (fmt, x, kernel_value, expected)


@given(format_and_inputs())
def test_rto_picks_the_directed_neighbour_with_an_odd_significand(case):
    fmt, xs = case
    xs = [x for x in xs if abs(x) <= fmt.max]
    got = numprec.round(np.array(xs, dtype=np.float64), fmt, "rto")
    for x, kernel_value in zip(xs, got):
        toward, _ = mpfr_round(x, fmt, gmpy2.RoundToZero)
        away, _ = mpfr_round(x, fmt, gmpy2.RoundAwayZero)
        if toward == away:
            expected = toward
        elif not np.isfinite(away):  # jamming toward the virtual neighbour: overflow to max
            expected = toward if (Fraction(abs(toward)) / Fraction(fmt.max - _below_max(fmt))) % 2 \
                else np.copysign(fmt.max, x)
        else:
            step = abs(Fraction(away) - Fraction(toward))
            expected = toward if (abs(Fraction(toward)) / step) % 2 == 1 else away
        assert same(reference_round(x, fmt, "rto")[0], expected), (fmt, x, expected)
        assert same(kernel_value, expected), (fmt, x, kernel_value, expected)


def _below_max(fmt):
    return float(np.nextafter(fmt.max, 0)) if fmt.name == "fp64" else \
        fmt.max - 2.0 ** (fmt.emax - fmt.mbits)


def test_rnda_differs_from_rna_off_ties():
    x = 1 + 2 ** -12  # a quarter of the way between fp16 neighbours 1 and 1 + 2^-10
    fp16 = numprec.get_format("fp16")
    assert mpfr_round(x, fp16, gmpy2.RoundAwayZero)[0] == 1 + 2 ** -10
    assert numprec.round(x, "fp16", "rna") == reference_round(x, "fp16", "rna")[0] == 1.0


def test_mpfr_tininess_is_after_rounding_like_the_contract():
    fp16 = numprec.get_format("fp16")
    not_tiny, tiny = 2.0 ** -14 - 2.0 ** -26, 2.0 ** -14 - 2.0 ** -25
    assert mpfr_round(not_tiny, fp16, gmpy2.RoundToNearest) == (2.0 ** -14, {"inexact"})
    assert mpfr_round(tiny, fp16, gmpy2.RoundToNearest) == (2.0 ** -14, {"inexact", "underflow"})
    for x, flags in [(not_tiny, {"inexact"}), (tiny, {"inexact", "underflow"})]:
        counted = numprec.Flags()
        numprec.round(x, "fp16", flags=counted)
        assert {k for k, v in counted.as_dict().items() if v} == flags
