"""int_matmul: the integer matrix product of quantized codes, with a modelled accumulator
(docs/quantization.md, "Integer arithmetic").

    out[..., i, j] = sum_{k = 0..K-1} (a[..., i, k] - za) * (b[..., k, j] - zb)

Every product is exact. The sum runs k = 0, 1, ..., K-1 in order (the order only matters for
"saturate") into a two's-complement accumulator of `acc_bits` bits, range
[lo, hi] = [-2^(acc-1), 2^(acc-1) - 1]. The partial sums are S_0 = 0, S_t = S_(t-1) + p_t:

- "wrap": every addition wraps modulo 2^acc, as hardware does. Wrapping is a ring
  homomorphism Z -> Z / 2^acc, so wrapping after every step gives the same as wrapping the
  exact sum once: out = wrap(S_K).
- "saturate": every partial sum clamps, T_t = clamp(T_(t-1) + p_t, lo, hi), out = T_K. This
  depends on the order: with acc_bits=8, 100 + 100 - 100 gives 27, not 100.
- "detect": the result of "wrap", and the overflows counted.

An output element *overflowed* when some exact partial sum S_t (t = 1..K) left [lo, hi]; the
final sum S_K is one of them. Saturating accumulation clamps for the first time exactly where
the exact partial sums first leave the range (until then T_t = S_t), so the same count is the
number of outputs whose saturating accumulation clamped at least once. Every mode counts; the
count goes to `flags` as `overflow` (and, for "saturate", `saturated` too: the clamped
elements), and `return_overflow=True` returns it: IntMatmulResult(result, overflowed).

How the kernel stays exact and fast (every value below fits in int64; nothing ever wraps in
int64, where numba's integer additions carry LLVM's no-signed-wrap flag, so an int64 overflow
would be undefined behaviour, not a wrap):

- P = max|a - za| * max|b - zb| bounds every product; int_matmul refuses P > 2^62 (only int32
  codes with zero points can get there).
- While the running value s is in range with headroom h = distance to the nearer bound, the
  next n = min(h // P, chunk) products cannot take any partial sum out of range: when n is at
  least RUN (or reaches the end of the sum) they run as one plain contiguous dot product (B is
  transposed to (N, K) rows) with no check at all; chunk * P <= 2^62. A product with
  K * P <= hi (any int8 product of K < 2^17 into 32 bits) is one dot product per output.
- Nearer a bound, the terms run one at a time with an exact check (for acc_bits <= 62 the
  plain sum s + p and a range test; above, s > hi - p and s < lo - p, which cannot overflow)
  and, for "saturate", the clamp, until the headroom allows a run of RUN terms again.
- Once an element overflowed ("wrap", "detect"), the rest of its sum only matters modulo
  2^acc: it runs in chunks, the running value wrapped back into [lo, hi] after each (for
  acc_bits=64 by an add that wraps modulo 2^64 explicitly).

So there is no bound on K: "detect" and "wrap" are exact for any length. The result has dtype
int32 (acc_bits <= 32) or int64 (acc_bits > 32). Shapes follow numpy.matmul: 2-D @ 2-D, 1-D
vectors (promoted, then the added axis removed), and broadcast leading batch dimensions.
"""
from __future__ import annotations

import functools
import numbers
import types
from typing import NamedTuple

import numpy as np

from ..codes import FLAG_NAMES, NFLAGS
from ..ops.validate import check_flags
from .backend import on_gpu

OVERFLOW_MODES = ("wrap", "saturate", "detect")
CODE_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.uint16),
               np.dtype(np.int32))
ACC_BITS = (8, 64)
PRODUCT_LIMIT = 1 << 62  # the largest |product| bound P the kernel accepts
RUN = 16  # the shortest unchecked run worth a dot product; shorter ones go step by step
_OVERFLOW = FLAG_NAMES.index("overflow")
_SATURATED = FLAG_NAMES.index("saturated")

prange = range  # the compiled copies (_compiled) read numba.prange: numba loads on first use


class IntMatmulResult(NamedTuple):
    """int_matmul(..., return_overflow=True): the result and the number of output elements
    whose exact partial sums left the accumulator range (for "saturate": that clamped)."""

    result: np.ndarray
    overflowed: int


def _int_matmul_kernel(a, bt, out, lo, hi, mask, saturate, chunk, pmax, run_head,
                       overflowed):
    """out[b, i, j] = the accumulation of a[b, i, :] . bt[b, j, :] (int64 operands, their
    products bounded by pmax) in [lo, hi], clamping (saturate) or wrapping (mask = 2^acc - 1,
    or -1 for acc_bits = 64); overflowed[b * M + i] = how many of row i's outputs overflowed.
    chunk * pmax <= 2^62; run_head = min(RUN * pmax, 2^63 - 1). Rows run in parallel, each
    sum in order k = 0..K-1."""
    nb, m, k = a.shape
    n = bt.shape[1]
    narrow = mask != -1 and hi <= (1 << 61)  # acc_bits <= 62
    for r in prange(nb * m):
        bi = r // m
        i = r - bi * m
        arow = a[bi, i]
        count = 0
        for j in range(n):
            brow = bt[bi, j]
            s = np.int64(0)
            hit = False  # some partial sum left [lo, hi]
            t = 0
            while t < k and pmax > 0:
                if hit and not saturate:
                    # the rest only matters modulo 2^acc: a chunk, then wrap back into range
                    step = min(chunk, k - t)
                    c = _dot(arow[t:t + step], brow[t:t + step])
                    t += step
                    s = _wrap_add(s, c, lo, hi, mask)
                    continue
                head = hi - s if s >= 0 else s - lo
                step = min(head // pmax, chunk, k - t)
                if step >= RUN or (step > 0 and step == k - t):
                    # no partial sum of these steps can leave [lo, hi]: no check needed
                    s += _dot(arow[t:t + step], brow[t:t + step])
                    t += step
                    continue
                # one step at a time, checked, until a run of RUN products fits again
                while t < k:
                    p = arow[t] * brow[t]
                    t += 1
                    if narrow:  # |s + p| <= 2^61 + 2^62: the plain sum, then the range test
                        v = s + p
                        if saturate:
                            s = min(max(v, lo), hi)
                            hit = hit | (v != s)
                        elif v > hi or v < lo:
                            s = _wrap_add(s, p, lo, hi, mask)
                            hit = True
                            break
                        else:
                            s = v
                    elif (p > 0 and s > hi - p) or (p < 0 and s < lo - p):
                        if saturate:
                            s = hi if p > 0 else lo
                        else:
                            s = _wrap_add(s, p, lo, hi, mask)
                            hit = True
                            break
                        hit = True
                    else:
                        s += p
                    if narrow:
                        head = min(hi - s, s - lo)
                    else:
                        head = hi - s if s >= 0 else s - lo
                    if head >= run_head:
                        break
            out[bi, i, j] = s
            if hit:
                count += 1
        overflowed[r] = count


def _dot(x, y):
    """The plain sum of x[u] * y[u] (exact: the caller bounds it). Indexing from 0 lets numba
    prove every index non-negative (no wraparound check), so the loop vectorises."""
    c = np.int64(0)
    for u in range(x.size):
        c += x[u] * y[u]
    return c


def _wrap_add(s, c, lo, hi, mask):
    """(s + c) wrapped into [lo, hi] (s in [lo, hi], |c| <= 2^62), computed without any int64
    overflow: for acc_bits < 64 (mask = 2^acc - 1) |s + c| < 2^63 and the low acc bits are
    sign-extended; for acc_bits = 64 (mask = -1) the sum wraps modulo 2^64 explicitly."""
    if mask == -1:
        if c > 0 and s > hi - c:
            return (s + lo) + (c + lo)  # s + c - 2^64
        if c < 0 and s < lo - c:
            return (s - lo) + (c - lo)  # s + c + 2^64
        return s + c
    w = (s + c) & mask
    return w - mask - 1 if w > hi else w


@functools.lru_cache(maxsize=None)
def _compiled():
    """The kernel, compiled on first use (numba loads here, not on import), with the JIT
    options of numprec.kernels.jit: copies of the functions above that read prange and
    each other from a table of their own (the module's globals stay as they are)."""
    import numba
    from ..kernels import jit

    table = dict(globals(), prange=numba.prange)

    def clone(func):
        copy = types.FunctionType(func.__code__, table, func.__name__, func.__defaults__)
        copy.__module__, copy.__qualname__, copy.__doc__ = (func.__module__, func.__qualname__,
                                                            func.__doc__)
        return copy

    table["_dot"] = jit.cpu_scalar(clone(_dot))
    table["_wrap_add"] = jit.cpu_scalar(clone(_wrap_add))
    return jit.cpu_parallel_kernel(clone(_int_matmul_kernel)), jit.threads_for


# ------------------------------------------------------------------------------ validation

def _check_codes(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"int_matmul: {name} must be a numpy array of integer codes (int8, "
                        f"uint8, int16, uint16 or int32), got {type(x).__name__}")
    if x.dtype not in CODE_DTYPES:
        raise TypeError(f"int_matmul: {name} has dtype {x.dtype}; integer codes must be int8, "
                        "uint8, int16, uint16 or int32")
    if x.ndim == 0:
        raise ValueError(f"int_matmul: {name} is a scalar (shape ()); matmul needs at least "
                         "one dimension")
    return x


def _check_zero_point(zp, x, name):
    """The zero point as an int64 array broadcastable to x (an int, or integers of a shape
    that broadcasts to x's), each value inside x's dtype range."""
    arr = np.asarray(zp)
    if isinstance(zp, (bool, np.bool_)) or arr.dtype.kind not in "iu":
        raise TypeError(f"int_matmul: {name} must be an integer or an integer array, got "
                        f"{zp!r}")
    try:
        shape = np.broadcast_shapes(arr.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"int_matmul: {name} of shape {arr.shape} does not broadcast to the "
                         f"codes' shape {x.shape}")
    info = np.iinfo(x.dtype)
    wide = arr.astype(object) if arr.dtype == np.uint64 else arr.astype(np.int64)
    bad = (wide < info.min) | (wide > info.max)
    if np.any(bad):
        value = int(np.asarray(wide).reshape(-1)[np.flatnonzero(np.asarray(bad).reshape(-1))[0]])
        raise ValueError(f"int_matmul: {name}={value} is out of the range of the codes' dtype "
                         f"{x.dtype}, [{info.min}, {info.max}]")
    return np.asarray(wide, dtype=np.int64)


def _check_acc_bits(acc_bits):
    if isinstance(acc_bits, (bool, np.bool_)) or not isinstance(acc_bits, numbers.Integral):
        raise TypeError(f"int_matmul: acc_bits must be an int in {ACC_BITS[0]}..{ACC_BITS[1]}, "
                        f"got {acc_bits!r}")
    if not ACC_BITS[0] <= acc_bits <= ACC_BITS[1]:
        raise ValueError(f"int_matmul: acc_bits={acc_bits} is out of range; valid: "
                         f"{ACC_BITS[0]}..{ACC_BITS[1]}")
    return int(acc_bits)


def _max_abs(x) -> int:
    return int(np.max(np.abs(x))) if x.size else 0


# ------------------------------------------------------------------------------ public API

def int_matmul(a_q, b_q, *, overflow="detect", acc_bits=32, a_zero_point=0, b_zero_point=0,
               flags=None, return_overflow=False, backend=None):
    """The integer product (a_q - a_zero_point) @ (b_q - b_zero_point) accumulated in a
    two's-complement `acc_bits`-bit accumulator, k = 0..K-1 in order (module docstring).

    a_q, b_q: numpy arrays of int8, uint8, int16, uint16 or int32 codes, shaped as
    numpy.matmul takes them (1-D vectors, 2-D matrices, broadcast batch dimensions).
    overflow: "wrap" (modulo 2^acc at every addition), "saturate" (every partial sum clamped
    to [-2^(acc-1), 2^(acc-1) - 1]) or "detect" (the wrapped result, overflows counted).
    acc_bits: 8..64. Zero points: integers (or integer arrays broadcasting to the codes'
    shape, e.g. one per row of a_q) inside the codes' dtype range, subtracted exactly.
    flags (numprec.Flags): `overflow` += the number of output elements whose exact partial
    sums left the accumulator range; for "saturate" also `saturated` += the same number (the
    elements that clamped). return_overflow=True returns IntMatmulResult(result, overflowed).
    The result is int32 for acc_bits <= 32, int64 above. backend: "cpu" or "gpu" (None:
    numprec.get_backend()); the GPU (numprec.kernels.gpu.intmatmul, acc_bits 8..61) gives the
    same integers and counts.
    """
    if on_gpu(backend):
        from ..kernels.gpu import intmatmul as gpu_intmatmul
        check_flags(flags)
        from ..kernels.gpu import is_device_array
        a_q, b_q = (x if is_device_array(x) else _check_codes(x, name)
                    for x, name in ((a_q, "a_q"), (b_q, "b_q")))
        return gpu_intmatmul.int_matmul(
            a_q, b_q, overflow=overflow,
            acc_bits=acc_bits, a_zero_point=a_zero_point, b_zero_point=b_zero_point,
            flags=flags, return_overflow=return_overflow)
    if overflow not in OVERFLOW_MODES:
        raise ValueError(f"int_matmul: unknown overflow={overflow!r}; valid: "
                         f"{', '.join(OVERFLOW_MODES)}")
    acc_bits = _check_acc_bits(acc_bits)
    check_flags(flags)
    a_q = _check_codes(a_q, "a_q")
    b_q = _check_codes(b_q, "b_q")
    za = _check_zero_point(a_zero_point, a_q, "a_zero_point")
    zb = _check_zero_point(b_zero_point, b_q, "b_zero_point")

    a = a_q.astype(np.int64) - za
    b = b_q.astype(np.int64) - zb
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a = a[None, :]
    if b_vec:
        b = b[:, None]
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"int_matmul: inner dimensions differ: a_q has shape {a_q.shape} "
                         f"(K={a.shape[-1]}), b_q has shape {b_q.shape} (K={b.shape[-2]})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"int_matmul: batch dimensions do not broadcast: a_q has shape "
                         f"{a_q.shape}, b_q has shape {b_q.shape}") from None
    m, k = a.shape[-2:]
    n = b.shape[-1]
    pmax = _max_abs(a) * _max_abs(b)
    if pmax > PRODUCT_LIMIT:
        raise ValueError(f"int_matmul: products reach {pmax} in magnitude (max|a - za| = "
                         f"{_max_abs(a)}, max|b - zb| = {_max_abs(b)}); int_matmul needs every "
                         "product within 2^62 = 4611686018427387904")

    nb = int(np.prod(batch, dtype=np.int64))
    a3 = np.ascontiguousarray(np.broadcast_to(a, batch + (m, k))).reshape(nb, m, k)
    bt3 = np.ascontiguousarray(
        np.swapaxes(np.broadcast_to(b, batch + (k, n)), -1, -2)).reshape(nb, n, k)
    out = np.empty((nb, m, n), dtype=np.int64)
    per_row = np.zeros(nb * m, dtype=np.int64)
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    mask = -1 if acc_bits == 64 else (1 << acc_bits) - 1
    chunk = max(1, min(k, PRODUCT_LIMIT // pmax)) if pmax else max(k, 1)
    if out.size:
        kernel, threads_for = _compiled()
        with threads_for(out.size * max(k, 1)):
            kernel(a3, bt3, out, np.int64(lo), np.int64(hi), np.int64(mask),
                   overflow == "saturate", np.int64(chunk), np.int64(pmax),
                   np.int64(min(RUN * pmax, (1 << 63) - 1)), per_row)
    overflowed = int(per_row.sum())

    shape = batch + ((m,) if not a_vec else ()) + ((n,) if not b_vec else ())
    result = out.reshape(shape).astype(np.int32 if acc_bits <= 32 else np.int64, copy=False)
    if not shape:
        result = result[()]
    if flags is not None and overflowed:
        add = np.zeros(NFLAGS, dtype=np.int64)
        add[_OVERFLOW] = overflowed
        if overflow == "saturate":
            add[_SATURATED] = overflowed
        flags.add(add)
    if return_overflow:
        return IntMatmulResult(result, overflowed)
    return result
