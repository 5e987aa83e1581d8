"""Rounding, arithmetic and accumulation into unsigned float formats (Format(..., signed=False)):
E8M0 (no zero), UE4M3 and custom unsigned formats (IEEE-style with inf, without subnormals,
without zero). Semantics (docs/rounding.md): a negative value (or result) is invalid and gives
NaN; -0 is +0; without a zero, an exact zero is invalid (NaN) and a positive value below the
smallest value 2^emin rounds to it in every mode (flags inexact, and underflow when tiny after
rounding). The registered formats are swept exhaustively by the small_fmt tests; the custom ones
here, with the table oracle, which is itself checked against the Fraction oracle."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import numprec
from numprec import Format
from numprec.codes import STREAM_ARITH
from numprec.kernels.scalar.rng import key_from_seed, random62_py
from numprec.testing import (TableOracle, assert_bits_equal, assert_flags_per_element,
                             event_flags, exhaustive_inputs, reference_round)
from numprec.testing import strategies as nps
from test_accumulate_models import flag_totals, reference_rows
from test_arith_reference import reference_op, same

MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto", "sr")
CUSTOM = (Format("ue5m2", 5, 2, signed=False), Format("ue3m1_nosub", 3, 1, nan="fn",
                                                      signed=False, subnormals=False),
          Format("ue3m0_nozero", 3, 0, nan="fn", bias=2, signed=False, subnormals=False,
                 zero=False),
          Format("ue2m2_nozero", 2, 2, nan="ieee", signed=False, subnormals=False, zero=False))
NAN = float("nan")
E = 2.0 ** -127  # the smallest E8M0 value


def _flags(counted):
    return {name for name, count in {**counted.as_dict(), **counted.events()}.items() if count}


@pytest.mark.parametrize("x, mode, saturate, value, flags", [
    (0.0, "rne", False, NAN, {"invalid"}),
    (-0.0, "rtz", True, NAN, {"invalid"}),
    (-1.0, "rup", False, NAN, {"invalid"}),
    (-1.0, "rne", True, NAN, {"invalid"}),
    (-np.inf, "rne", True, NAN, {"invalid"}),
    (np.inf, "rne", False, NAN, {"invalid"}),
    (np.inf, "rtz", True, 2.0 ** 127, {"saturated"}),
    (NAN, "rne", False, NAN, set()),
    (1.5, "rne", False, 2.0, {"inexact"}),            # a tie goes up: every significand is odd
    (3.0, "rne", False, 4.0, {"inexact"}),
    (3.0, "rtz", False, 2.0, {"inexact"}),
    (3.0, "rto", False, 2.0, {"inexact"}),            # all odd: round-to-odd truncates
    (0.75 * E, "rne", False, E, {"inexact"}),          # tiny before, not after rounding
    (0.75 * E, "rtz", False, E, {"inexact", "underflow"}),
    (2.0 ** -140, "rdn", False, E, {"inexact", "underflow"}),
    (5e-324, "rne", False, E, {"inexact", "underflow"}),
    (1.25 * 2.0 ** 127, "rne", False, 2.0 ** 127, {"inexact"}),
    (1.5 * 2.0 ** 127, "rne", False, NAN, {"inexact", "overflow"}),
    (1.5 * 2.0 ** 127, "rne", True, 2.0 ** 127, {"inexact", "overflow", "saturated"}),
    (2.0 ** 200, "rdn", False, 2.0 ** 127, {"inexact", "overflow"}),
    (2.0 ** 200, "rup", False, NAN, {"inexact", "overflow"}),
])
def test_e8m0_edge_cases(x, mode, saturate, value, flags):
    counted = numprec.Flags()
    got = numprec.round(np.array([x]), "e8m0", mode, saturate=saturate, flags=counted)[0]
    assert same(got, value) or (np.isnan(got) and np.isnan(value)), (x, mode, got)
    assert _flags(counted) == flags
    expected, raised = reference_round(x, "e8m0", mode, saturate=saturate)
    assert (np.isnan(expected) and np.isnan(value)) or same(expected, value)
    assert raised == flags - {"zeroed", "subnormal"}


def test_ue4m3_edge_cases():
    x = np.array([-0.0, 0.0, -1e-30, -3.0, 2.0 ** -10, 2.0 ** -10 * 3, 464.0, 480.0, np.inf])
    got = numprec.round(x, "ue4m3")
    expected = [0.0, 0.0, NAN, NAN, 0.0, 2.0 ** -9 * 2, 448.0, NAN, NAN]
    assert all(same(g, e) or (np.isnan(g) and np.isnan(e)) for g, e in zip(got, expected))
    assert np.signbit(got[0]) == False  # noqa: E712 (no -0)
    assert numprec.encode(np.array([-0.0, 448.0, np.nan, 2.0 ** -9]), "ue4m3").tolist() == [
        0, 0x7E, 0x7F, 1]
    assert numprec.round(-3.0, "ue4m3", "rup") != numprec.round(-3.0, "ue4m3", "rup")  # NaN
    assert numprec.round(600.0, "ue4m3", saturate=True) == 448.0


@pytest.mark.parametrize("fmt", CUSTOM, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_custom_unsigned_formats_every_input_class(fmt, mode):
    oracle, x = TableOracle(fmt), exhaustive_inputs(fmt, binades=mode == "rne")
    seed = 5 if mode == "sr" else None
    for saturate, ftz in itertools.product((False, True), repeat=2):
        context = f"{fmt.name} {mode} saturate={saturate} ftz={ftz}"
        expected, flags = oracle.round(x, mode, saturate=saturate, ftz=ftz, seed=seed)
        got = numprec.round(x, fmt, mode, saturate=saturate, ftz=ftz, seed=seed)
        assert_bits_equal(got, expected, x, context)
        codes = numprec.encode(x, fmt, mode, saturate=saturate, ftz=ftz, seed=seed)
        assert_bits_equal(numprec.decode(codes, fmt), np.where(np.isnan(got), np.nan, got),
                          x, context)
        if mode != "sr":
            flags.update(event_flags(x, expected, fmt, flags))

            def run(subset, counted):
                numprec.round(subset, fmt, mode, saturate=saturate, ftz=ftz, flags=counted)
            assert_flags_per_element(run, x, flags, context)
    sample = x[np.random.default_rng(1).permutation(x.size)[:300]]
    values, flags = oracle.round(sample, mode, seed=seed)
    for i, xi in enumerate(sample.tolist()):  # the table oracle against the Fraction oracle
        value, raised = reference_round(xi, fmt, mode, seed=seed, index=i)
        assert same(value, values[i]) or (np.isnan(value) and np.isnan(values[i])), (xi, value)
        assert raised == {f for f in flags if flags[f][i]}, (fmt.name, mode, xi)


def test_custom_formats_decode_every_pattern():
    for fmt in CUSTOM:
        patterns = np.arange(2 ** fmt.nbits)
        got = numprec.decode(patterns, fmt)
        from numprec.testing import reference_decode
        assert_bits_equal(got, [reference_decode(int(b), fmt) for b in patterns], patterns,
                          fmt.name)


_OPS = {"add": 2, "sub": 2, "mul": 2, "div": 2, "sqrt": 1, "fma": 3}
ARITH_FORMATS = ("fp8_e8m0fnu", "fp8_ue4m3") + CUSTOM


def _check_op(op, args, fmt, mode, seed):
    counted = numprec.Flags()
    got = getattr(numprec, op)(*[np.array([a]) for a in args], fmt, mode=mode, seed=seed,
                               flags=counted)[0]
    draw = random62_py(key_from_seed(seed, STREAM_ARITH[op]), 0) if mode == "sr" else None
    value, flags = reference_op(op, list(args), fmt, mode, draw=draw)
    assert same(got, value) or (np.isnan(got) and np.isnan(value)), (op, str(fmt), mode, args,
                                                                     got, value)
    assert {k for k, v in counted.as_dict().items() if v} == set(flags), (op, str(fmt), mode,
                                                                           args)


def test_arithmetic_special_cases():
    for mode in MODES:
        for op, args in [("sub", (1.0, 1.0)), ("add", (-0.0, 0.0)), ("mul", (0.0, 5.0)),
                         ("sub", (1.0, 2.0)), ("mul", (-1.0, 2.0)), ("div", (1.0, 0.0)),
                         ("div", (0.0, 3.0)), ("sqrt", (0.0,)), ("sqrt", (-4.0,)),
                         ("fma", (-2.0, 3.0, 6.0)), ("fma", (-2.0, 3.0, 7.0)),
                         ("mul", (2.0 ** -100, 2.0 ** -100)), ("div", (-1.0, -4.0))]:
            for fmt in ARITH_FORMATS:
                _check_op(op, args, numprec.get_format(fmt), mode, 3)


@given(st.data())
def test_arithmetic_matches_the_exact_reference(data):
    fmt = numprec.get_format(data.draw(st.sampled_from(ARITH_FORMATS)))
    op = data.draw(st.sampled_from(list(_OPS)))
    mode = data.draw(st.sampled_from(MODES))
    operand = st.one_of(nps.values(fmt, allow_nan=True, allow_infinity=True),
                        nps.float64s_for(fmt), nps.values(fmt).map(lambda v: -v))
    args = [data.draw(operand) for _ in range(_OPS[op])]
    _check_op(op, args, fmt, mode, data.draw(st.integers(0, 2 ** 32)))


ORDERS = {"sequential": {}, "pairwise": {}, "blocked": {"block": 4}, "kahan": {},
          "fused": {"fused_terms": 4, "fused_width": 9}}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("mode", ["rne", "rtz", "sr"])
def test_accumulation_into_unsigned_formats(order, mode):
    """Positive terms (all rows), then rows whose sum or partial sums go negative or to zero."""
    rng = np.random.default_rng(4)
    x = np.abs(rng.standard_normal((6, 9))) * np.exp2(rng.integers(-8, 8, (6, 9)))
    x[4, 3] = -x[4, :3].sum() - 1.0  # a negative partial sum
    x[5] = 0.0
    options = ORDERS[order]
    for acc, out in (("fp8_ue4m3", "fp8_ue4m3"), ("bf16", "fp8_e8m0fnu"),
                     ("fp8_e8m0fnu", "fp8_e8m0fnu")):
        counted = numprec.Flags()
        got = numprec.sum(x, out, acc=acc, order=order, mode=mode, seed=2, flags=counted,
                          **options)
        expected, flags = reference_rows("sum", x, None, order, acc, out, mode, 2, **options)
        assert_bits_equal(np.where(np.isnan(got), np.nan, got),
                          np.where(np.isnan(expected), np.nan, expected), None,
                          f"sum {order} {mode} {acc} {out}")
        assert counted.as_dict() == flag_totals(flags), (order, mode, acc, out)
