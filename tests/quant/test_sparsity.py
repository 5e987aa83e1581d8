"""Sparsity masks, the cubic schedule, sparse storage and its measured size."""
import math

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import numprec
from numprec.quant.sparsity import (apply_mask, compress_24, cubic_sparsity, decompress_24,
                                    magnitude_mask, nm_mask, sparsity_of, storage_bytes,
                                    threshold_mask, to_coo, to_csr, topk_mask)

arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=9),
                    elements=st.floats(-100, 100, allow_subnormal=False))


def _by_hand_topk(flat, k):
    """Indices of the k largest |x|, lower index first among ties (a plain sort of tuples)."""
    ranked = sorted(range(len(flat)), key=lambda i: (-abs(flat[i]), i))
    return set(ranked[:k])


@given(arrays, st.data())
def test_topk_keeps_the_largest_with_ties_by_index(x, data):
    k = data.draw(st.integers(0, x.size))
    mask = topk_mask(x, k)
    assert mask.shape == x.shape and mask.sum() == k
    assert set(np.flatnonzero(mask)) == _by_hand_topk(x.reshape(-1).tolist(), k)


@given(arrays, st.floats(0, 1))
def test_magnitude_mask_drops_the_floor_of_the_fraction(x, sparsity):
    mask = magnitude_mask(x, sparsity)
    assert (~mask).sum() == math.floor(sparsity * x.size)
    if mask.any() and (~mask).any():
        assert np.abs(x[mask]).min() >= np.abs(x[~mask]).max()


def test_magnitude_mask_per_slice_and_nan_is_kept():
    x = np.array([[3.0, -1.0, 2.0, 0.5], [np.nan, 1.0, -4.0, 0.0]])
    mask = magnitude_mask(x, 0.5, axis=1)
    assert mask.tolist() == [[True, False, True, False], [True, False, True, False]]
    assert threshold_mask(x, 1.0).tolist() == [[True, False, True, False],
                                               [True, False, True, False]]


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.sampled_from([4, 8, 12])),
                  elements=st.floats(-10, 10)), st.sampled_from([(1, 4), (2, 4), (3, 4)]))
def test_nm_mask_keeps_n_of_every_m(x, nm):
    n, m = nm
    mask = nm_mask(x, n, m)
    groups_x = x.reshape(x.shape[0], -1, m)
    groups = mask.reshape(x.shape[0], -1, m)
    assert (groups.sum(axis=-1) == n).all()
    for row, row_mask in zip(groups_x.reshape(-1, m), groups.reshape(-1, m)):
        assert set(np.flatnonzero(row_mask)) == _by_hand_topk(row.tolist(), n)


def test_nm_mask_along_the_reduction_axis():
    x = np.arange(24.0).reshape(8, 3) - 10
    mask = nm_mask(x, 2, 4, axis=0)
    assert (mask.reshape(2, 4, 3).sum(axis=1) == 2).all()
    np.testing.assert_array_equal(mask, nm_mask(x.T, 2, 4).T)


def test_cubic_schedule_by_hand():
    kw = dict(final=0.9, begin=10, end=110, frequency=10)
    assert cubic_sparsity(0, **kw) == 0.0
    assert cubic_sparsity(10, **kw) == 0.0
    assert cubic_sparsity(19, **kw) == cubic_sparsity(10, **kw)  # held between updates
    assert cubic_sparsity(60, **kw) == pytest.approx(0.9 * (1 - 0.5 ** 3), abs=1e-15)
    assert cubic_sparsity(110, **kw) == 0.9 and cubic_sparsity(500, **kw) == 0.9
    values = [cubic_sparsity(t, **kw) for t in range(0, 120)]
    assert all(a <= b for a, b in zip(values, values[1:]))  # never decreases


def test_apply_mask_and_sparsity_of():
    x = np.array([[1.0, -2.0], [3.0, -4.0]])
    y = apply_mask(x, np.array([[False, True], [True, False]]))
    assert y.tolist() == [[0.0, -2.0], [3.0, 0.0]] and not np.signbit(y[1, 1])
    assert sparsity_of(y) == 0.5


def test_csr_and_coo_hold_the_format_codes():
    x = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 0.1]])
    csr = to_csr(x, "e4m3")
    assert isinstance(csr, scipy.sparse.csr_matrix) and csr.nnz == 3
    assert csr.data.dtype == np.uint8
    dense = numprec.decode(csr.toarray(), "e4m3")
    expected = numprec.round(x, "e4m3")
    np.testing.assert_array_equal(np.where(csr.toarray() != 0, dense, 0.0), expected)
    coo = to_coo(x, "bf16")
    assert coo.data.dtype == np.uint16
    assert sorted(zip(coo.row.tolist(), coo.col.tolist())) == [(0, 1), (1, 0), (1, 2)]


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.sampled_from([8, 16])),
                  elements=st.floats(-10, 10)))
def test_24_layout_round_trips(x):
    sparse = apply_mask(x, nm_mask(x, 2, 4))
    values, metadata = compress_24(sparse)
    assert values.shape == (x.shape[0], x.shape[1] // 2)
    assert metadata.shape == (x.shape[0], x.shape[1] // 8) and metadata.dtype == np.uint8
    np.testing.assert_array_equal(decompress_24(values, metadata), sparse)


def test_24_metadata_bits_by_hand():
    row = np.array([[0.0, 5.0, 0.0, 7.0, 1.0, 0.0, 0.0, 0.0]])
    values, metadata = compress_24(row)
    assert values.tolist() == [[5.0, 7.0, 1.0, 0.0]]
    # group 0 keeps positions 1, 3 -> nibble 1 | 3 << 2 = 13; group 1 keeps 0 and the lowest
    # free position 1 -> 0 | 1 << 2 = 4; byte = 13 | 4 << 4
    assert metadata.tolist() == [[13 | 4 << 4]]


def test_storage_bytes_measured():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 64))
    sparse = apply_mask(x, nm_mask(x, 2, 4))
    for fmt, bits in (("fp32", 32), ("bf16", 16), ("e4m3", 8), ("fp4_e2m1fn", 4)):
        sizes = storage_bytes(sparse, fmt)
        assert sizes["dense"] == 16 * 64 * bits // 8
        assert sizes["nnz"] == 16 * 32
        csr = to_csr(sparse, fmt)
        assert sizes["csr"] == math.ceil(csr.nnz * bits / 8) + csr.indices.nbytes + \
            csr.indptr.nbytes
        assert sizes["2:4"] == 16 * 32 * bits // 8 + 16 * 64 // 8
        assert sizes["2:4"] < sizes["dense"] < sizes["csr"]  # 50%: CSR's indices cost more
    assert storage_bytes(x, "fp32")["2:4"] is None


@pytest.mark.parametrize("call, message", [
    (lambda: nm_mask(np.ones(6), 2, 4), "do not divide"),
    (lambda: nm_mask(np.ones(8), 5, 4), "must not exceed"),
    (lambda: nm_mask(np.ones(8), 0, 4), "positive integer"),
    (lambda: magnitude_mask(np.ones(8), 1.5), "sparsity must be"),
    (lambda: topk_mask(np.ones(8), 9), "k must be an integer in 0..8"),
    (lambda: threshold_mask(np.ones(8), -1.0), "threshold"),
    (lambda: apply_mask(np.ones(4), np.ones(3, bool)), "boolean array of shape"),
    (lambda: compress_24(np.ones(8)), "more than 2 nonzeros"),
    (lambda: compress_24(np.zeros(4)), "multiple of 8"),
    (lambda: to_csr(np.ones(4)), "2-D"),
    (lambda: cubic_sparsity(5, final=0.5, begin=10, end=5), "begin < end"),
    (lambda: topk_mask(np.array(["a"]), 1), "real numbers"),
])
def test_bad_input_names_the_problem(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
