"""Exhaustive check of numprec.round for every small format (every registered format of at most
16 bits plus custom corner formats): every representable value, every midpoint between grid
neighbours (with the virtual one past max and the zero/subnormal boundary), the float64 values
just above and below each of them, both signs, +-0, +-inf and NaN payloads; every deterministic
mode, with and without saturate and ftz. Results are compared as bit patterns with the table
oracle, and the flags and events (values zeroed, subnormal results) element by element."""
import functools
import itertools

import numpy as np
import pytest

import numprec
from numprec.testing import (TableOracle, assert_bits_equal, assert_flags_per_element,
                             event_flags, exhaustive_inputs)

DETERMINISTIC = ["rne", "rna", "rtz", "rup", "rdn", "rto"]
OPTIONS = list(itertools.product((False, True), repeat=2))  # (saturate, ftz)


@functools.lru_cache(maxsize=None)
def oracle_and_inputs(fmt):
    return TableOracle(fmt), exhaustive_inputs(fmt)


@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_round_is_bit_exact_on_every_input_class(small_fmt, mode):
    oracle, x = oracle_and_inputs(small_fmt)
    for saturate, ftz in OPTIONS:
        context = f"{small_fmt.name} mode={mode} saturate={saturate} ftz={ftz}"
        expected, flags = oracle.round(x, mode, saturate=saturate, ftz=ftz)
        got = numprec.round(x, small_fmt, mode, saturate=saturate, ftz=ftz)
        assert_bits_equal(got, expected, x, context)
        flags.update(event_flags(x, expected, small_fmt, flags))

        def run(subset, counted):
            numprec.round(subset, small_fmt, mode, saturate=saturate, ftz=ftz, flags=counted)
        assert_flags_per_element(run, x, flags, context)


def test_sweep_covers_each_input_class(small_fmt):
    """The sweep really contains every value, every midpoint and their float64 neighbours."""
    oracle, x = oracle_and_inputs(small_fmt)
    present = set(x[np.isfinite(x)].tolist())
    grid = oracle.grids[False]
    mids = (grid[:-1] + grid[1:]) / 2
    for anchor in np.concatenate([oracle.values, mids, -mids]):
        assert anchor in present
        assert np.nextafter(anchor, np.inf) in present and np.nextafter(anchor, -np.inf) in present
    assert np.isnan(x).sum() >= 2 and np.isinf(x).sum() == 2
    assert {np.copysign(1.0, z) for z in x[x == 0]} == {1.0, -1.0}


def test_round_preserves_shape_and_scalars():
    x = np.array([[1.1, -2.5], [1e-9, 7e5]])
    out = numprec.round(x, "fp16")
    assert out.shape == (2, 2) and out.dtype == np.float64
    assert numprec.round(1.1, "fp16") == np.float16(1.1)
    assert np.ndim(numprec.round(1.1, "fp16")) == 0
    assert numprec.round(np.float32(0.1), "bf16") == float.fromhex("0x1.9ap-4")
