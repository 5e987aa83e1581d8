"""Sparsity: which values to drop (magnitude thresholds, top-k, N:M structure), when (gradual
pruning schedules), and how the rest is stored (CSR/COO through scipy.sparse, the 2:4
compressed layout), with the bytes each layout takes measured against dense storage.

Masks are boolean arrays (True: kept). Every selection is deterministic: among equal
magnitudes the lower flat index is kept first, so a mask never depends on the sort algorithm.
NaN counts as the largest magnitude (it is kept, never silently dropped); non-finite input is
otherwise allowed.
"""
from __future__ import annotations

import math

import numpy as np

from ..formats import get_format
from ..ops import encode


def _array(x, name) -> np.ndarray:
    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name}: needs real numbers, got dtype {arr.dtype}")
    return arr


def _order_key(arr) -> np.ndarray:
    """Magnitudes for ranking: NaN ranks above every number (kept first)."""
    magnitude = np.abs(arr.astype(np.float64))
    return np.where(np.isnan(magnitude), np.inf, magnitude)


def _keep_largest(key, k, axis):
    """Mask keeping the k largest of key along axis (ties: lower index first)."""
    n = key.shape[axis]
    # stable sort of -key: equal magnitudes stay in index order
    order = np.argsort(-key, axis=axis, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n).reshape(
        [-1 if a == axis % key.ndim else 1 for a in range(key.ndim)]), axis=axis)
    return ranks < k


def threshold_mask(x, threshold) -> np.ndarray:
    """Keep |x| > threshold (a non-negative number); NaN is kept."""
    arr = _array(x, "threshold_mask")
    if not isinstance(threshold, (int, float, np.integer, np.floating)) or isinstance(
            threshold, bool) or not threshold >= 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold_mask: threshold must be a finite number >= 0, got "
                         f"{threshold!r}")
    return _order_key(arr) > threshold


def topk_mask(x, k: int, *, axis=None) -> np.ndarray:
    """Keep the k largest magnitudes of x (along axis: k in every slice)."""
    arr = _array(x, "topk_mask")
    n = arr.size if axis is None else arr.shape[_axis(axis, arr.ndim, "topk_mask")]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk_mask: k must be an integer in 0..{n}, got {k!r}")
    if axis is None:
        return _keep_largest(_order_key(arr).reshape(-1), int(k), 0).reshape(arr.shape)
    return _keep_largest(_order_key(arr), int(k), _axis(axis, arr.ndim, "topk_mask"))


def magnitude_mask(x, sparsity: float, *, axis=None) -> np.ndarray:
    """Drop the floor(sparsity * n) smallest magnitudes (per slice along axis if given)."""
    arr = _array(x, "magnitude_mask")
    _check_sparsity(sparsity, "magnitude_mask")
    n = arr.size if axis is None else arr.shape[_axis(axis, arr.ndim, "magnitude_mask")]
    return topk_mask(arr, n - int(math.floor(sparsity * n)), axis=axis)


def nm_mask(x, n: int = 2, m: int = 4, *, axis: int = -1) -> np.ndarray:
    """N:M structured sparsity: in every group of m consecutive values along axis (the
    reduction dimension of a matmul operand), keep the n largest magnitudes."""
    arr = _array(x, "nm_mask")
    for name, value in (("n", n), ("m", m)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"nm_mask: {name} must be a positive integer, got {value!r}")
    if n > m:
        raise ValueError(f"nm_mask: n={n} must not exceed m={m}")
    if arr.ndim == 0:
        raise ValueError("nm_mask: needs an array with at least one dimension")
    axis = _axis(axis, arr.ndim, "nm_mask")
    moved = np.moveaxis(arr, axis, -1)
    if moved.shape[-1] % m:
        raise ValueError(f"nm_mask: groups of m={m} do not divide the length "
                         f"{moved.shape[-1]} of axis {axis}")
    groups = moved.reshape(moved.shape[:-1] + (-1, m))
    mask = _keep_largest(_order_key(groups), n, -1)
    return np.moveaxis(mask.reshape(moved.shape), -1, axis)


def apply_mask(x, mask) -> np.ndarray:
    """x with the dropped values set to +0.0 (a new float64 array)."""
    arr = _array(x, "apply_mask").astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ or mask.shape != arr.shape:
        raise ValueError(f"apply_mask: the mask must be a boolean array of shape {arr.shape}, "
                         f"got {mask.dtype} {mask.shape}")
    return np.where(mask, arr, 0.0)


def sparsity_of(x) -> float:
    """The fraction of exact zeros in x."""
    arr = _array(x, "sparsity_of")
    return float((arr == 0).sum() / arr.size) if arr.size else math.nan


def _check_sparsity(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not (
            0.0 <= value <= 1.0):
        raise ValueError(f"{name}: sparsity must be a number in [0, 1], got {value!r}")


def _axis(axis, ndim, name) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim


def cubic_sparsity(step: int, *, final: float, begin: int, end: int, initial: float = 0.0,
                   frequency: int = 1) -> float:
    """Zhu & Gupta's gradual pruning schedule (2017): the target sparsity at `step`,
    s_t = s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3, held between updates every
    `frequency` steps (t is step rounded down to a multiple of frequency from begin), s_i before
    begin and s_f from end on."""
    _check_sparsity(initial, "cubic_sparsity")
    _check_sparsity(final, "cubic_sparsity")
    for name, value in (("step", step), ("begin", begin), ("end", end), ("frequency", frequency)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"cubic_sparsity: {name} must be an integer, got {value!r}")
    if begin < 0 or end <= begin or frequency < 1:
        raise ValueError(f"cubic_sparsity: needs 0 <= begin < end and frequency >= 1, got "
                         f"begin={begin}, end={end}, frequency={frequency}")
    if step < begin:
        return float(initial)
    if step >= end:
        return float(final)
    t = begin + (step - begin) // frequency * frequency
    progress = (t - begin) / (end - begin)
    return float(final + (initial - final) * (1.0 - progress) ** 3)


# --- storage ---------------------------------------------------------------------------------
def _codes(values, fmt):
    """Values as the bit patterns of fmt (its container), or float64 for fp64."""
    fmt = get_format(fmt)
    return encode(values, fmt) if fmt.nbits < 64 else np.asarray(values, dtype=np.float64)


def to_csr(x, fmt="fp32"):
    """x (2-D) as a scipy.sparse CSR matrix whose data are fmt's bit patterns of the nonzero
    values (rounded to fmt, nearest even); indices are int32."""
    import scipy.sparse
    arr = _matrix(x, "to_csr")
    rows, cols = np.nonzero(arr)
    return scipy.sparse.csr_matrix((_codes(arr[rows, cols], fmt), (rows, cols)),
                                   shape=arr.shape)


def to_coo(x, fmt="fp32"):
    """x (2-D) as a scipy.sparse COO matrix of fmt's bit patterns (see to_csr)."""
    import scipy.sparse
    arr = _matrix(x, "to_coo")
    rows, cols = np.nonzero(arr)
    return scipy.sparse.coo_matrix((_codes(arr[rows, cols], fmt), (rows, cols)),
                                   shape=arr.shape)


def _matrix(x, name):
    arr = _array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name}: needs a 2-D array, got shape {arr.shape}")
    return arr


def compress_24(x, *, axis: int = -1):
    """The 2:4 compressed layout of an array that satisfies 2:4 sparsity along axis (at most 2
    nonzeros in every group of 4): (values, metadata). values: the 2 kept values of each group
    (shape with axis halved, in index order; a group with fewer than 2 nonzeros keeps zeros at
    its lowest free positions); metadata: their 2-bit positions, packed four to a byte (group
    g's positions in bits 4*(g % 2) .. 4*(g % 2) + 3 of byte g // 2, first index low), as
    sparse tensor cores store them."""
    arr = _array(x, "compress_24")
    if arr.ndim == 0:
        raise ValueError("compress_24: needs an array with at least one dimension")
    axis = _axis(axis, arr.ndim, "compress_24")
    moved = np.moveaxis(arr, axis, -1)
    if moved.shape[-1] % 8:
        raise ValueError(f"compress_24: the length {moved.shape[-1]} of axis {axis} must be a "
                         "multiple of 8 (two groups of 4 per metadata byte)")
    groups = moved.reshape(-1, 4)
    nonzero = groups != 0
    if (nonzero.sum(axis=1) > 2).any():
        first = int(np.argmax(nonzero.sum(axis=1) > 2))
        raise ValueError(f"compress_24: group {first} has more than 2 nonzeros: not 2:4 sparse "
                         "(nm_mask(x, 2, 4) makes it so)")
    # positions: the nonzeros first, then the lowest zero positions, each pair in index order
    priority = np.where(nonzero, 0, 1) * 4 + np.arange(4)
    chosen = np.sort(np.argsort(priority, axis=1, kind="stable")[:, :2], axis=1)
    values = np.take_along_axis(groups, chosen, axis=1)
    nibbles = (chosen[:, 0] | (chosen[:, 1] << 2)).astype(np.uint8)
    packed = (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8)
    out_shape = moved.shape[:-1] + (moved.shape[-1] // 2,)
    meta_shape = moved.shape[:-1] + (moved.shape[-1] // 8,)
    return (np.moveaxis(values.reshape(out_shape), -1, axis),
            np.moveaxis(packed.reshape(meta_shape), -1, axis))


def decompress_24(values, metadata, *, axis: int = -1) -> np.ndarray:
    """The dense array of a 2:4 compressed layout (compress_24's inverse)."""
    values, metadata = np.asarray(values), np.asarray(metadata)
    if metadata.dtype != np.uint8:
        raise TypeError(f"decompress_24: metadata must be uint8, got {metadata.dtype}")
    axis = _axis(axis, values.ndim, "decompress_24")
    moved_values = np.moveaxis(values, axis, -1)
    moved_meta = np.moveaxis(metadata, axis, -1)
    if moved_values.shape[-1] != 4 * moved_meta.shape[-1] or \
            moved_values.shape[:-1] != moved_meta.shape[:-1]:
        raise ValueError(f"decompress_24: values of shape {values.shape} and metadata of shape "
                         f"{metadata.shape} do not belong together")
    pairs = moved_values.reshape(-1, 2)
    packed = moved_meta.reshape(-1)
    nibbles = np.stack([packed & 0xF, packed >> 4], axis=1).reshape(-1)
    first, second = nibbles & 0x3, (nibbles >> 2) & 0x3
    if (first >= second).any():
        raise ValueError("decompress_24: metadata positions must be two increasing indices")
    dense = np.zeros((pairs.shape[0], 4), dtype=values.dtype)
    rows = np.arange(pairs.shape[0])
    dense[rows, first] = pairs[:, 0]
    dense[rows, second] = pairs[:, 1]
    shape = moved_values.shape[:-1] + (moved_values.shape[-1] * 2,)
    return np.moveaxis(dense.reshape(shape), -1, axis)


def storage_bytes(x, fmt="fp32") -> dict:
    """Bytes that x (2-D) takes stored in fmt: dense (the format's bits per element, packed),
    CSR and COO (scipy.sparse arrays of fmt's codes, int32 indices: their nbytes, with
    sub-byte codes counted at their packed width), and the 2:4 compressed layout where x is 2:4
    sparse along its rows (kept values packed at fmt's width plus the metadata bytes)."""
    arr = _matrix(x, "storage_bytes")
    fmt = get_format(fmt)
    bits = fmt.nbits
    dense = math.ceil(arr.size * bits / 8)
    csr, coo = to_csr(arr, fmt), to_coo(arr, fmt)
    packed_data = math.ceil(csr.nnz * bits / 8)  # codes narrower than their container pack
    out = {"format": fmt.name, "dense": dense,
           "csr": packed_data + csr.indices.nbytes + csr.indptr.nbytes,
           "coo": packed_data + coo.row.nbytes + coo.col.nbytes,
           "nnz": int(csr.nnz)}
    try:
        values, metadata = compress_24(arr, axis=-1)
        out["2:4"] = math.ceil(values.size * bits / 8) + metadata.nbytes
    except ValueError:
        out["2:4"] = None  # not 2:4 sparse (or rows not a multiple of 8 long)
    return out


__all__ = ["threshold_mask", "topk_mask", "magnitude_mask", "nm_mask", "apply_mask",
           "sparsity_of", "cubic_sparsity", "to_csr", "to_coo", "compress_24",
           "decompress_24", "storage_bytes"]
