"""numprec.kernels.cpu.rounding's search for the elements the fast pass left: the same indices
as np.flatnonzero on both of its sides (small arrays, and large ones read 64 bytes at a time)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numprec
from numprec.kernels.cpu import rounding as cpu_rounding


@pytest.mark.parametrize("small_work", [1, 2**62], ids=["word scan", "flatnonzero"])
@settings(max_examples=150, deadline=None)
@given(size=st.integers(0, 3000), share=st.sampled_from([0.0, 1e-3, 0.05, 0.5, 1.0]),
       seed=st.integers(0, 2**32 - 1), ends=st.tuples(st.booleans(), st.booleans()))
def test_slow_indices_are_flatnonzeros(small_work, size, share, seed, ends):
    original = cpu_rounding.SMALL_WORK
    cpu_rounding.SMALL_WORK = small_work  # (not monkeypatch: it does not reset per example)
    try:
        slow = np.random.default_rng(seed).random(size) < share
        if size:  # the first and last elements, where the 64-byte groups begin and end
            slow[0], slow[-1] = ends
        index = cpu_rounding._slow_index(slow, int(slow.sum()))
    finally:
        cpu_rounding.SMALL_WORK = original
    assert index.dtype == np.int64
    np.testing.assert_array_equal(index, np.flatnonzero(slow))


def test_a_large_arrays_few_slow_elements_round_like_the_general_kernel():
    # N(0,1) data in fp16: the tiny values (about 5 per 100,000) take the general pass; NumPy's
    # float64 -> float16 cast rounds once, to nearest even
    x = np.random.default_rng(3).standard_normal(200_003)
    got = numprec.round(x, "fp16", "rne")
    np.testing.assert_array_equal(got.view(np.uint64),
                                  x.astype(np.float16).astype(np.float64).view(np.uint64))
