"""The vectorized table oracle against the Fraction oracle: a random sample of every small
format's input classes in every mode and option, and every input near the boundaries (zero,
the subnormal/normal boundary, max and the virtual neighbour past it)."""
import itertools
import zlib

import numpy as np
import pytest

from numprec.testing import (FLAG_NAMES, MODES, TableOracle, bits_of, exhaustive_inputs,
                             limits_of, reference_round)

OPTIONS = list(itertools.product((False, True), repeat=2))  # (saturate, ftz)
SR_BITS_CHOICES = [None, 1, 5, 23]


def compare_with_fraction_oracle(fmt, x, mode, saturate, ftz, seed=None, rbits=None):
    values, flags = TableOracle(fmt).round(x, mode, saturate=saturate, ftz=ftz, seed=seed,
                                           rbits=rbits)
    mismatches = []
    for i, xi in enumerate(x.tolist()):
        ref, ref_flags = reference_round(xi, fmt, mode, saturate=saturate, ftz=ftz, seed=seed,
                                         index=i, rbits=rbits)
        table_flags = {name for name in FLAG_NAMES if flags[name][i]}
        if bits_of(ref) != bits_of(values[i]) or ref_flags != table_flags:
            mismatches.append((xi, (ref, sorted(ref_flags)), (values[i], sorted(table_flags))))
    assert not mismatches, (f"{fmt.name} {mode} saturate={saturate} ftz={ftz} rbits={rbits}: "
                            f"(x, fraction oracle, table oracle) {mismatches[:5]}")


def boundary_inputs(fmt) -> np.ndarray:
    """Inputs within a few steps of zero, of min normal and of max (and past the virtual
    neighbour), both signs, and the special values."""
    x = exhaustive_inputs(fmt, binades=False)
    lim = limits_of(fmt)
    ax = np.abs(x)
    smallest = float(lim.step_at(0))
    near = (ax <= 4 * smallest) | ~np.isfinite(x)
    top = float(max(lim.max_pos, lim.max_neg))
    near |= ax >= top - 2 * float(lim.step_at(lim.max_pos))
    if not lim.fixed:
        normal = float(lim.min_normal)
        above = normal + 4 * float(lim.step_at(lim.min_normal))
        near |= (ax >= normal - 4 * smallest) & (ax <= above)
    return x[near]


@pytest.mark.parametrize("mode", MODES)
def test_table_matches_fraction_oracle_on_a_sample(small_fmt, mode):
    rng = np.random.default_rng(zlib.crc32(f"{small_fmt.name}/{mode}".encode()))
    own = rng.permutation(exhaustive_inputs(small_fmt, binades=False))[:1600]
    far = rng.permutation(exhaustive_inputs(small_fmt))[:400]  # mostly the float64 binades
    sample = rng.permutation(np.concatenate([own, far]))
    for k, (saturate, ftz) in enumerate(OPTIONS):
        chunk = sample[k::len(OPTIONS)]
        if mode == "sr":
            compare_with_fraction_oracle(small_fmt, chunk, mode, saturate, ftz, seed=k + 1,
                                         rbits=SR_BITS_CHOICES[k])
        else:
            compare_with_fraction_oracle(small_fmt, chunk, mode, saturate, ftz)


def test_table_matches_fraction_oracle_at_the_boundaries(small_fmt):
    x = boundary_inputs(small_fmt)
    assert x.size >= 20
    for mode, (saturate, ftz) in itertools.product(MODES, OPTIONS):
        seed = 99 if mode == "sr" else None
        compare_with_fraction_oracle(small_fmt, x, mode, saturate, ftz, seed=seed)
    compare_with_fraction_oracle(small_fmt, x, "sr", False, False, seed=5, rbits=2)


def test_table_oracle_refuses_formats_whose_midpoints_are_not_float64():
    with pytest.raises(ValueError, match="refused"):
        TableOracle("fp32")
    with pytest.raises(ValueError, match="midpoints"):
        TableOracle("fp64", max_bits=64)
