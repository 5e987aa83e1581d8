"""Every operand pair of the 8-bit formats (and every triple of the 4- and 6-bit ones) through
add, sub, mul, div, sqrt and fma, every mode, against exact references, bit for bit, with the
flags of every element.

add, sub, mul and fma of values of these formats are exact in float64, so their reference is the
table oracle's rounding of the exact float64 result (numprec.testing.TableOracle, itself checked
against the Fraction oracle). A quotient is not: its reference is the quotient rounded to odd with
more than p + 2 bits by integer division (exact for every mode but sr), and for sr the Fraction
reference of test_arith_reference. Special operands (NaN, inf, zeros) and exact-zero results use
the IEEE rules spelled out in test_arith_reference.
"""
import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import numprec
from numprec.codes import (MODE_CODE, NCOUNTS, NFLAGS, OP_ADD, OP_DIV, OP_MUL, OP_SUB,
                           SR_MAX_BITS)
from numprec.kernels import cpu
from numprec.kernels.scalar.rng import key_from_seed, random62_py
from numprec.testing import (TableOracle, assert_bits_equal, assert_flags_per_element,
                             event_flags, flag_counts, reference_events)
from numprec.testing.oracle import EVENT_NAMES, FLAG_NAMES, representable_values
from test_arith_reference import reference_op

FORMATS_8BIT = ["fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3fnuz", "int8"]
MODES = ["rne", "rna", "rtz", "rup", "rdn", "rto", "sr"]
CODES = {"add": OP_ADD, "sub": OP_SUB, "mul": OP_MUL, "div": OP_DIV}
SEED = 2024


@functools.lru_cache(maxsize=None)
def operands(fmt):
    """Every value of the format (NaN, +-inf where they exist, both zeros), as all pairs."""
    fmt = numprec.get_format(fmt)
    values = representable_values(fmt)
    specials = [np.nan, 0.0, -0.0] + ([np.inf, -np.inf] if fmt.inf else [])
    values = np.unique(np.concatenate([values, specials]))  # unique keeps one NaN
    values = np.concatenate([values, [-0.0]]) if fmt.has_negative_zero else values
    a, b = np.meshgrid(values, values, indexing="ij")
    return values, np.ascontiguousarray(a.ravel()), np.ascontiguousarray(b.ravel())


@functools.lru_cache(maxsize=None)
def table(fmt):
    return TableOracle(fmt)


def run_kernel(op, a, b, fmt, mode, saturate=False, ftz=False):
    out = np.empty(a.size)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    key = np.uint64(key_from_seed(SEED))  # the table oracle's sr draws: stream 0, index i
    cpu.kernel_set().binary_into(CODES[op], a, b, out, numprec.get_format(fmt).kernel_params,
                            MODE_CODE[mode], saturate, ftz, key, 0, SR_MAX_BITS, True, counts)
    return out, counts


def patch_specials(op, a, b, exact, fmt, mode, values, flags, saturate, ftz):
    """Overwrite the elements the table cannot see (special operands, exact zeros) with the
    IEEE reference."""
    special = ~np.isfinite(a) | ~np.isfinite(b) | (exact == 0) | ~np.isfinite(exact)
    for i in np.flatnonzero(special):
        value, raised = reference_op(op, (a[i], b[i]), fmt, mode, saturate=saturate, ftz=ftz)
        values[i] = value
        for name in FLAG_NAMES:
            flags[name][i] = name in raised


def quotient_rounded_to_odd(a, b):
    """a / b (finite, nonzero) rounded to odd at 52 bits by integer division: for every
    deterministic mode, rounding it to p <= 50 bits is rounding a / b."""
    q = Fraction(a) / Fraction(b)
    num, den = abs(q.numerator), q.denominator
    shift = 51 - (num.bit_length() - den.bit_length())
    whole, rest = divmod(num << shift if shift >= 0 else num, den if shift >= 0 else den << -shift)
    return math.copysign(math.ldexp(whole | (rest != 0), -shift), q)


def exact_results(op, a, b):
    with np.errstate(all="ignore"):
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        out = a / b
    finite = np.isfinite(a) & np.isfinite(b) & (a != 0) & (b != 0)
    for i in np.flatnonzero(finite):
        out[i] = quotient_rounded_to_odd(a[i], b[i])
    return out


@pytest.mark.parametrize("fmt", FORMATS_8BIT)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_every_pair(fmt, op):
    _, a, b = operands(fmt)
    exact = exact_results(op, a, b)
    modes = MODES if op != "div" else MODES[:-1]
    for mode, (saturate, ftz) in itertools.product(modes, [(False, False), (True, True)]):
        context = f"{op} {fmt} {mode} saturate={saturate} ftz={ftz}"
        expected, flags = table(fmt).round(exact, mode, saturate=saturate, ftz=ftz, seed=SEED)
        patch_specials(op, a, b, exact, fmt, mode, expected, flags, saturate, ftz)
        flags.update(event_flags(exact, expected, fmt, flags))
        got, counts = run_kernel(op, a, b, fmt, mode, saturate, ftz)
        assert_bits_equal(got, expected, None, context)
        assert counts.tolist() == list(flag_counts(flags).values()), context
        if mode != "sr":
            index = np.arange(a.size, dtype=np.float64)

            def run(subset, counted):
                pick = subset.astype(np.int64)
                getattr(numprec, op)(a[pick], b[pick], fmt, mode, saturate=saturate, ftz=ftz,
                                     flags=counted)
            assert_flags_per_element(run, index, flags, context)


@pytest.mark.parametrize("fmt", ["fp8_e4m3fn", "fp8_e5m2"])
def test_every_quotient_stochastic(fmt):
    """sr needs the exact distance to the neighbours: the Fraction reference on every pair."""
    _, a, b = operands(fmt)
    got, _ = run_kernel("div", a, b, fmt, "sr")
    key = key_from_seed(SEED)
    expected = np.array([reference_op("div", (a[i], b[i]), fmt, "sr",
                                      draw=random62_py(key, i))[0] for i in range(a.size)])
    assert_bits_equal(got, expected, None, f"div {fmt} sr")


@pytest.mark.parametrize("fmt", FORMATS_8BIT + ["fp4_e2m1fn", "fp6_e2m3fn"])
def test_every_square_root(fmt):
    values, _, _ = operands(fmt)
    key = key_from_seed(SEED)
    for mode in MODES:
        out = np.empty(values.size)
        counts = np.zeros(NCOUNTS, dtype=np.int64)
        cpu.kernel_set().sqrt_into(values, out, numprec.get_format(fmt).kernel_params, MODE_CODE[mode],
                              False, False, np.uint64(key), 0, SR_MAX_BITS, True, counts)
        expected = [reference_op("sqrt", (x,), fmt, mode, draw=random62_py(key, i))
                    for i, x in enumerate(values)]
        assert_bits_equal(out, [v for v, _ in expected], values, f"sqrt {fmt} {mode}")
        events = [reference_events(np.sqrt(x) if x >= 0 else np.nan, v, fmt, f)
                  for x, (v, f) in zip(values, expected)]
        assert counts[:NFLAGS].tolist() == [sum(n in f for _, f in expected) for n in FLAG_NAMES]
        assert counts[NFLAGS:].tolist() == [sum(n in e for e in events) for n in EVENT_NAMES]


@pytest.mark.parametrize("fmt", ["fp4_e2m1fn", "fp6_e3m2fn", "fp8_e4m3fn"])
def test_fma_triples(fmt):
    """Every triple of the 4- and 6-bit formats, 200 000 random triples of e4m3fn."""
    values, _, _ = operands(fmt)
    if values.size ** 3 <= 300_000:
        a, b, c = (g.ravel() for g in np.meshgrid(values, values, values, indexing="ij"))
    else:
        rng = np.random.default_rng(5)
        a, b, c = (rng.choice(values, 200_000) for _ in range(3))
    a, b, c = (np.ascontiguousarray(v) for v in (a, b, c))
    with np.errstate(all="ignore"):
        exact = a * b + c  # exact in float64 for these formats
    P = numprec.get_format(fmt).kernel_params
    key = np.uint64(key_from_seed(SEED))
    for mode in MODES:
        expected, flags = table(fmt).round(exact, mode, seed=SEED)
        special = ~np.isfinite(a * b) | ~np.isfinite(c) | (exact == 0)
        for i in np.flatnonzero(special):
            value, raised = reference_op("fma", (a[i], b[i], c[i]), fmt, mode)
            expected[i] = value
            for name in FLAG_NAMES:
                flags[name][i] = name in raised
        out = np.empty(a.size)
        counts = np.zeros(NCOUNTS, dtype=np.int64)
        cpu.kernel_set().fma_into(a, b, c, out, P, MODE_CODE[mode], False, False, key, 0,
                                  SR_MAX_BITS, True, counts)
        assert_bits_equal(out, expected, None, f"fma {fmt} {mode}")
        flags.update(event_flags(exact, expected, fmt, flags))
        assert counts.tolist() == list(flag_counts(flags).values())
