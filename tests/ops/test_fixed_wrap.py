"""Fixed point that wraps on overflow (FixedPoint(..., overflow="wrap"), named qM.N_wrap): every
rounding, arithmetic op and accumulation reduces the exactly rounded integer k (value k * 2^-N)
modulo 2^nbits into the range, as integer hardware does, and counts overflow and inexact (not
saturated). Checked against exact Python-integer references: the table oracle's and the
Fraction oracle's rounding on every input class of small formats, test_arith_reference for
the arithmetic (hand-built cases and hypothesis data), and test_accumulate_models' reference
loops for sum, dot and matmul with a wrapping accumulator."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import numprec
from numprec import FixedPoint
from numprec.codes import P_WRAP
from numprec.testing import (TableOracle, assert_bits_equal, assert_flags_per_element,
                             event_flags, exhaustive_inputs, reference_round)
from numprec.testing import strategies as nps
from test_accumulate_models import flag_totals, reference_rows
from test_arith_reference import reference_op, same

MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto", "sr")
SWEPT = ("q3.4_wrap", "uq4.4_wrap", "int8_wrap", "q0.7_wrap")
ARITH = ("q3.4_wrap", "q7.0_wrap", "uq8.0_wrap", "q15.0_wrap")


def _python_wrap(k, fmt):
    """k (an integer of quanta) reduced modulo 2^nbits into fmt's range."""
    k %= 2 ** fmt.nbits
    if fmt.signed and k >= 2 ** (fmt.nbits - 1):
        k -= 2 ** fmt.nbits
    return k * fmt.resolution


def test_names_and_descriptors():
    wrap = numprec.get_format("q7.0_wrap")
    assert wrap == FixedPoint(7, 0, overflow="wrap") and wrap.name == "q7.0_wrap"
    assert wrap.wraps and wrap.kernel_params[P_WRAP] == 1
    for saturating in ("q7.0", "int8", "uq8.0", "q3.4"):
        fmt = numprec.get_format(saturating)
        assert fmt.overflow == "saturate" and not fmt.wraps and fmt.kernel_params[P_WRAP] == 0
    int8 = numprec.get_format("int8_wrap")
    assert int8.name == "int8_wrap" and (int8.int_bits, int8.frac_bits, int8.wraps) == (7, 0, True)
    assert numprec.get_format("uint8_wrap") == FixedPoint(8, 0, signed=False, overflow="wrap",
                                                          name="uint8_wrap")
    assert numprec.get_format("UQ4.4_WRAP").name == "uq4.4_wrap"
    assert "wraps on overflow" in wrap.describe_encoding()
    with pytest.raises(ValueError, match="overflow='clamp' is not valid"):
        FixedPoint(7, 0, overflow="clamp")
    with pytest.raises(ValueError, match="reserved"):
        numprec.register_format(numprec.Format("int8_wrap", 4, 3))


def test_hand_built_cases():
    flags = numprec.Flags()
    x = np.array([127.0, 128.0, 200.0, -129.0, -200.5, 255.5, 256.0, 1e20, -1e300, 3.0])
    got = numprec.round(x, "int8_wrap", flags=flags)
    assert got.tolist() == [127.0, -128.0, -56.0, 127.0, 56.0, 0.0, 0.0, 0.0, 0.0, 3.0]
    assert flags.as_dict() == dict(flags.as_dict(), overflow=8, inexact=8, saturated=0)
    assert flags.zeroed == 0  # a wrap to zero is an overflow, not an underflow to zero
    # saturate=True asks for saturation, wrap format or not
    assert numprec.round(200.0, "int8_wrap", saturate=True) == 127.0
    # inf has no integer: it saturates, as in every fixed-point format
    assert numprec.round(np.array([np.inf, -np.inf]), "int8_wrap").tolist() == [127.0, -128.0]
    assert numprec.round(np.array([-1.0, 256.4, 511.6]), "uq8.0_wrap").tolist() == [
        255.0, 0.0, 0.0]
    assert numprec.round(np.array([8.0, -8.0625, 9.96875]), "q3.4_wrap").tolist() == [
        -8.0, 7.9375, -6.0]
    assert numprec.encode(np.array([200.0, -1.0]), "int8_wrap").tolist() == [200, 255]
    assert numprec.add(100, 100, "int8_wrap") == -56.0
    assert numprec.mul(16, 16, "int8_wrap") == 0.0 and numprec.mul(17, 17, "int8_wrap") == 33.0
    assert numprec.sub(-128, 1, "int8_wrap") == 127.0
    assert numprec.fma(100, 2, 100, "int8_wrap") == 44.0
    assert numprec.div(127, 0.5, "int8_wrap") == -2.0
    assert numprec.sqrt(20000.0, "q7.0_wrap", mode="rtz") == -115.0  # floor(141.42) = 141
    assert numprec.round(200.0, "q7.0") == 127.0  # the saturating twin is unchanged


def test_wrapping_every_mode_agrees_with_integer_arithmetic():
    x = np.array([200.25, -200.5, 300.75, -129.5, 1e20 + 2.0 ** 20 * 3, 2.0 ** 60 + 2.0 ** 8])
    for mode in MODES[:-1]:
        got = numprec.round(x, "q7.0_wrap", mode)
        for xi, gi in zip(x.tolist(), got.tolist()):
            k = {"rne": round(xi), "rtz": math.trunc(xi), "rup": math.ceil(xi),
                 "rdn": math.floor(xi)}.get(mode)
            if mode == "rna":
                k = math.floor(abs(xi) + 0.5) * (1 if xi > 0 else -1)
            if mode == "rto":
                t = math.trunc(xi)
                k = t if t % 2 or t == xi else t + (1 if xi > 0 else -1)
            assert gi == _python_wrap(k, numprec.get_format("q7.0_wrap")), (mode, xi, gi)


@pytest.mark.parametrize("name", SWEPT)
@pytest.mark.parametrize("mode", MODES)
def test_round_is_bit_exact_on_every_input_class(name, mode):
    fmt = numprec.get_format(name)
    oracle, x = TableOracle(fmt), exhaustive_inputs(fmt)
    seed = 11 if mode == "sr" else None
    for saturate, ftz in itertools.product((False, True), repeat=2):
        context = f"{name} {mode} saturate={saturate} ftz={ftz}"
        expected, flags = oracle.round(x, mode, saturate=saturate, ftz=ftz, seed=seed)
        got = numprec.round(x, fmt, mode, saturate=saturate, ftz=ftz, seed=seed)
        assert_bits_equal(got, expected, x, context)
        codes = numprec.encode(x[~np.isnan(x)], fmt, mode, saturate=saturate, ftz=ftz, seed=seed)
        assert np.array_equal(numprec.decode(codes, fmt), got[~np.isnan(x)]), context
        if mode != "sr":
            flags.update(event_flags(x, expected, fmt, flags))

            def run(subset, counted):
                numprec.round(subset, fmt, mode, saturate=saturate, ftz=ftz, flags=counted)
            assert_flags_per_element(run, x, flags, context)


@pytest.mark.parametrize("name", SWEPT)
def test_table_oracle_agrees_with_the_fraction_oracle(name):
    fmt = numprec.get_format(name)
    oracle = TableOracle(fmt)
    x = exhaustive_inputs(fmt)
    x = x[np.random.default_rng(5).permutation(x.size)[:600]]
    for mode in MODES:
        seed = 2 if mode == "sr" else None
        values, flags = oracle.round(x, mode, seed=seed)
        for i, xi in enumerate(x.tolist()):
            value, raised = reference_round(xi, fmt, mode, seed=seed, index=i)
            assert same(value, values[i]), (name, mode, xi, value, values[i])
            assert raised == {f for f in flags if flags[f][i]}, (name, mode, xi)


_OPS = {"add": 2, "sub": 2, "mul": 2, "div": 2, "sqrt": 1, "fma": 3}


def _check_op(op, args, fmt, mode, seed=0):
    """numprec's op against the exact reference (value bits and flags), element by element."""
    from numprec.kernels.scalar.rng import key_from_seed, random62_py
    from numprec.codes import STREAM_ARITH
    arrays = [np.array(a, dtype=np.float64) for a in args]
    for i in range(arrays[0].size):
        counted = numprec.Flags()
        one = [a[i:i + 1] for a in arrays]
        got = getattr(numprec, op)(*one, fmt, mode=mode, seed=seed, flags=counted)
        draw = random62_py(key_from_seed(seed, STREAM_ARITH[op]), 0) if mode == "sr" else None
        value, flags = reference_op(op, [float(a[0]) for a in one], fmt, mode, draw=draw)
        assert same(got[0], value), (op, fmt, mode, [float(a[0]) for a in one], got[0], value)
        raised = {k for k, v in counted.as_dict().items() if v}
        assert raised == set(flags), (op, fmt, mode, [float(a[0]) for a in one], raised, flags)


@pytest.mark.parametrize("name", ARITH)
def test_arithmetic_on_hand_built_operands(name):
    fmt = numprec.get_format(name)
    big, q = fmt.max, fmt.resolution
    a = [big, big, -big - q, big / 2 + q, 3 * q, 2.0 ** 70 + 5 * q, -1e30, big * 0.75]
    b = [q, big, -big - q, big / 2 + q * 3, -q, 7 * q, 3.0, big * 0.75]
    c = [big, -big - q, q, big * 0.25, 0.0, big, 2.0 ** 80 + q, -0.0]
    for mode in MODES:
        for op, arity in _OPS.items():
            args = [a, b, c][:arity]
            if op == "sqrt":
                args = [np.abs(a)]
            _check_op(op, args, fmt, mode, seed=4)


def _operand(fmt):
    wide = st.floats(-2.0 ** 60, 2.0 ** 60, allow_nan=False, allow_infinity=False)
    return st.one_of(nps.values(fmt), nps.overflow_boundary(fmt), wide)


@given(st.data())
def test_arithmetic_matches_the_exact_reference(data):
    name = data.draw(st.sampled_from(ARITH))
    fmt = numprec.get_format(name)
    op = data.draw(st.sampled_from(list(_OPS)))
    mode = data.draw(st.sampled_from(MODES))
    operand = nps.values(fmt) if op in ("div", "sqrt") else _operand(fmt)
    args = [[data.draw(operand)] for _ in range(_OPS[op])]
    if op == "sqrt":
        args = [[abs(args[0][0])]]
    _check_op(op, args, fmt, mode, seed=data.draw(st.integers(0, 2 ** 32)))


def test_fma_with_addends_far_apart():
    """Addends more than 2^120 apart: the smaller one is rounded exactly when the larger is a
    whole number of quanta, a sticky bit otherwise."""
    cases = [(2.0 ** 100, 2.0 ** 100, 3.0), (2.0 ** 100, 2.0 ** 100, -3.5), (3.0, 1e-40, 2.0 ** 130),
             (3.0, -5.0, -(2.0 ** 200)), (2.0 ** 150 + 2.0 ** 98, 3.0, 2.5),
             (1.0 + 2.0 ** -52, 2.0 ** 140, 7.25), (2.0 ** -60, 3.0, 2.0 ** 70 + 1.0)]
    a, b, c = (np.array(v) for v in zip(*cases))
    for name in ("q7.0_wrap", "q3.4_wrap", "uq8.0_wrap"):
        for mode in MODES:
            _check_op("fma", [a, b, c], numprec.get_format(name), mode, seed=1)


ORDERS = {"sequential": {}, "pairwise": {}, "blocked": {"block": 4, "promote": "q15.0_wrap"},
          "kahan": {}, "fused": {"fused_terms": 4, "fused_width": 9}}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("mode", ["rne", "rtz", "rdn", "sr"])
def test_sum_dot_matmul_accumulate_with_wrap(order, mode):
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (5, 17)).astype(np.float64)
    y = rng.integers(-4, 5, (5, 17)).astype(np.float64) + rng.choice([0, 0.5], (5, 17))
    options = ORDERS[order]
    kernel_options = {k: v for k, v in options.items() if k != "promote"}
    if "promote" in options:
        kernel_options["promote"] = options["promote"]
    counted = numprec.Flags()
    got = numprec.sum(x, "int8_wrap", order=order, mode=mode, seed=3, flags=counted,
                      **kernel_options)
    expected, flags = reference_rows("sum", x, None, order, "int8_wrap", "int8_wrap", mode, 3,
                                     **options)
    assert_bits_equal(got, expected, None, f"sum {order} {mode}")
    assert counted.as_dict() == flag_totals(flags)
    assert counted.overflow > 0 and counted.saturated == 0
    got = numprec.dot(x, y, "q7.0_wrap", acc="q7.0_wrap", order=order, mode=mode, seed=5,
                      **kernel_options)
    expected, _ = reference_rows("dot", x, y, order, "q7.0_wrap", "q7.0_wrap", mode, 5, **options)
    assert_bits_equal(got, expected, None, f"dot {order} {mode}")
    a, b = x[:3, :6], y.T[:6, :4].copy()
    got = numprec.matmul(a, b, acc="q7.0_wrap", out_fmt="q15.0", order=order, mode=mode, seed=6,
                         **kernel_options)
    rows = np.repeat(a, 4, axis=0)
    cols = np.tile(b.T, (3, 1))
    expected, _ = reference_rows("matmul", rows, cols, order, "q7.0_wrap", "q15.0", mode, 6,
                                 **options)
    assert_bits_equal(got.reshape(-1), expected, None, f"matmul {order} {mode}")


def test_wrapping_sum_equals_the_integer_sum_modulo_256():
    """With integer terms every step is exact, so a wrapping int8 accumulator gives the exact sum
    modulo 2^8 (what an 8-bit integer register holds), whatever the order."""
    rng = np.random.default_rng(8)
    x = rng.integers(-128, 128, (20, 64)).astype(np.float64)
    exact = [_python_wrap(int(v), numprec.get_format("int8_wrap")) for v in x.sum(axis=1)]
    for order in ("sequential", "pairwise", "kahan"):
        assert numprec.sum(x, "int8_wrap", order=order).tolist() == exact
    assert numprec.matmul(x, np.ones((64, 1)), acc="int8_wrap", out_fmt="int8_wrap")[:, 0].tolist() \
        == exact
