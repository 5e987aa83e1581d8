"""GPU integer matmul of quantized codes with a modelled two's-complement accumulator:

    out[..., i, j] = sum_{l = 0..K-1} (a[..., i, l] - za) * (b[..., l, j] - zb)

the terms added in increasing l into an `acc_bits`-bit accumulator [lo, hi] = [-2^(acc-1),
2^(acc-1) - 1], with the semantics of numprec.quant.int_matmul (numprec/quant/intmatmul.py):

- "wrap": every addition wraps modulo 2^acc (= the exact sum wrapped once: wrapping is a ring
  homomorphism); "detect": the same result, the overflows counted;
- "saturate": every partial sum clamps to [lo, hi], in order;
- an output *overflowed* when some exact partial sum left [lo, hi] (for "saturate": it
  clamped at least once); every mode counts them.

Exactness: every product (a - za)(b - zb) is computed exactly in int64 (the host refuses
products beyond 2^62, as the CPU does; 8- and 16-bit codes never get near). The running value s
stays in [lo, hi] after every step: s + p is exact (|s + p| <= 2^60 + 2^62 for acc_bits <= 61),
and when it leaves the range the step is flagged and s clamped ("saturate") or wrapped back
into [lo, hi] exactly, ((s + p - lo) mod 2^acc) + lo (the later terms only matter modulo 2^acc
once an output wrapped). So any K is exact, in any mode.

The kernel is tiled: a block of TM x TM threads computes a BM x BM tile of outputs (BM = R TM;
thread (y, x) the R x R outputs (y + u TM, x + v TM)), staging BK-term slices of A and B (minus
their zero points) through shared memory; each thread adds its terms in increasing l. The grid
(column tiles, row tiles, batch) strides over the tiles and batches.
"""
from __future__ import annotations

import numbers

import numpy as np
from numba import cuda, from_dtype, types

from ...codes import FLAG_NAMES, NFLAGS
from . import arrays
from .compiler import SIMULATOR, gpu_kernel

OVERFLOW_MODES = ("wrap", "saturate", "detect")
ACC_BITS = (8, 61)  # (the CPU goes to 64; here s + p - lo must stay below 2^63)
PRODUCT_LIMIT = 1 << 62
CODE_DTYPES = tuple(np.dtype(d) for d in (np.int8, np.uint8, np.int16, np.uint16, np.int32))
NARROW_DTYPES = CODE_DTYPES[:4]  # codes whose products never approach the limit
_OVERFLOW = FLAG_NAMES.index("overflow")
_SATURATED = FLAG_NAMES.index("saturated")

# threads per tile edge, outputs per thread along each edge, the tile edge, terms per stage
# (each thread stages R elements of A and R of B per stage). The simulator (one Python thread
# per GPU thread) takes small tiles, so that small matrices span several tiles and stages.
TM = 4 if SIMULATOR else 16
R = 2 if SIMULATOR else 4
BM = TM * R
BK = TM
PAD = 1  # shared tiles get rows of one more entry, against bank conflicts
A_SHAPE, B_SHAPE = (BM, BK + PAD), (BK, BM + PAD)  # (shared shapes: compile-time constants)


@gpu_kernel
def int_matmul_kernel(a, b, za, zb, batches, m, n, k, lo, hi, mask, saturate, out, overflows):
    """out[o, i, j] = the accumulation of (a[o, i, l] - za) * (b[o, l, j] - zb), l = 0..k-1,
    in [lo, hi] (flat C-order arrays of batches x m x k and batches x k x n), clamping
    (saturate) or wrapping (mask = 2^acc - 1); overflows[0] += the outputs that overflowed."""
    a_tile = cuda.shared.array(A_SHAPE, types.int64)
    b_tile = cuda.shared.array(B_SHAPE, types.int64)
    acc = cuda.local.array((R, R), types.int64)
    hit = cuda.local.array((R, R), types.boolean)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    count = np.int64(0)
    for o in range(cuda.blockIdx.z, batches, cuda.gridDim.z):
        a0 = o * m * k
        b0 = o * k * n
        c0 = o * m * n
        for ti in range(cuda.blockIdx.y, (m + BM - 1) // BM, cuda.gridDim.y):
            for tj in range(cuda.blockIdx.x, (n + BM - 1) // BM, cuda.gridDim.x):
                i0 = ti * BM
                j0 = tj * BM
                for u in range(R):
                    for v in range(R):
                        acc[u, v] = 0
                        hit[u, v] = False
                for l0 in range(0, k, BK):
                    for u in range(R):
                        row = i0 + ty + u * TM
                        col = l0 + tx
                        if row < m and col < k:
                            a_tile[ty + u * TM, tx] = np.int64(a[a0 + row * k + col]) - za
                        else:
                            a_tile[ty + u * TM, tx] = 0
                        row = l0 + ty
                        col = j0 + tx + u * TM
                        if row < k and col < n:
                            b_tile[ty, tx + u * TM] = np.int64(b[b0 + row * n + col]) - zb
                        else:
                            b_tile[ty, tx + u * TM] = 0
                    cuda.syncthreads()
                    # (zero-padded terms change no sum and raise no overflow)
                    for kk in range(BK):
                        for u in range(R):
                            av = a_tile[ty + u * TM, kk]
                            for v in range(R):
                                s = acc[u, v] + av * b_tile[kk, tx + v * TM]
                                if s > hi or s < lo:
                                    hit[u, v] = True
                                    if saturate:
                                        s = hi if s > hi else lo
                                    else:
                                        s = ((s - lo) & mask) + lo
                                acc[u, v] = s
                    cuda.syncthreads()
                for u in range(R):
                    i = i0 + ty + u * TM
                    for v in range(R):
                        j = j0 + tx + v * TM
                        if i < m and j < n:
                            out[c0 + i * n + j] = acc[u, v]
                            if hit[u, v]:
                                count += 1
    if count != 0:
        cuda.atomic.add(overflows, 0, count)


def _array(dtype):
    return types.Array(from_dtype(np.dtype(dtype)), 1, "C")


_I64 = types.int64
SIGNATURES = {"int_matmul_kernel": [
    (_array(x), _array(y)) + (_I64,) * 9 + (types.boolean, _array(o), _array(np.int64))
    for x, y, o in ((np.int8, np.int8, np.int32), (np.uint8, np.int8, np.int32),
                    (np.uint8, np.uint8, np.int32), (np.int16, np.int16, np.int32),
                    (np.uint16, np.uint16, np.int32), (np.int32, np.int32, np.int32),
                    (np.int64, np.int64, np.int32), (np.int8, np.int8, np.int64))]}
KERNELS = {"int_matmul_kernel": int_matmul_kernel}


# int_matmul(..., return_overflow=True) returns numprec.quant's result type
from ...quant.intmatmul import IntMatmulResult  # noqa: E402


def int_matmul_into(a, b, za, zb, batches, m, n, k, acc_bits, saturate, out):
    """One launch of int_matmul_kernel: a (batches*m*k) and b (batches*k*n) flat C-order
    integer arrays (int8/uint8/int16/uint16/int32/int64; host or device), za / zb integers,
    out (batches*m*n) int32 or int64. The caller bounds every product by 2^62 (int_matmul
    does). Returns the number of outputs that overflowed."""
    batches, m, n, k, acc_bits = (int(v) for v in (batches, m, n, k, acc_bits))
    if not ACC_BITS[0] <= acc_bits <= ACC_BITS[1]:
        raise ValueError(f"int_matmul on the GPU: acc_bits={acc_bits}; valid: "
                         f"{ACC_BITS[0]}..{ACC_BITS[1]} (the CPU takes up to 64)")
    arrays.check_sizes("int_matmul_into", a=(a, batches * m * k), b=(b, batches * k * n),
                       out=(out, batches * m * n))
    staged = arrays.Staged("int_matmul_into", a=a, b=b, out=out)
    accepted = CODE_DTYPES + (np.dtype(np.int64),)
    d_a = staged.input("a", a, *accepted)
    d_b = staged.input("b", b, *accepted)
    out_dtype = np.dtype(getattr(out, "dtype", np.int32))
    if out_dtype not in (np.int32, np.int64):
        raise TypeError(f"int_matmul_into: out must be int32 or int64, got {out_dtype}")
    d_out = staged.output("out", out, out_dtype)
    overflows = arrays.to_device(np.zeros(1), np.int64)
    if batches * m * n == 0:
        return 0
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    grid = arrays.tile_grid(batches, m, n, BM)
    with arrays.quiet_simulator():
        int_matmul_kernel[grid, (TM, TM)](d_a, d_b, int(za), int(zb), batches, m, n, k, lo, hi,
                                          (1 << acc_bits) - 1, bool(saturate), d_out,
                                          overflows)
    staged.finish()
    return int(overflows.copy_to_host()[0])


def _codes(x, name):
    from . import is_device_array
    if is_device_array(x):
        if np.dtype(x.dtype) not in NARROW_DTYPES:
            raise TypeError(f"int_matmul: device array {name} has dtype {x.dtype}; on the "
                            "device the codes must be int8, uint8, int16 or uint16")
        return x
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


def _zero_point(zp, x, name):
    """(scalar zero point or None, int64 array or None) inside x's dtype range."""
    arr = np.asarray(zp)
    if isinstance(zp, (bool, np.bool_)) or arr.dtype.kind not in "iu":
        raise TypeError(f"int_matmul: {name} must be an integer or an integer array, got "
                        f"{zp!r}")
    info = np.iinfo(x.dtype)
    wide = arr.astype(object) if arr.dtype == np.uint64 else arr.astype(np.int64)
    bad = (wide < info.min) | (wide > info.max)
    if np.any(bad):
        value = int(np.asarray(wide).reshape(-1)[np.flatnonzero(np.asarray(bad).reshape(-1))[0]])
        raise ValueError(f"int_matmul: {name}={value} is out of the range of the codes' dtype "
                         f"{x.dtype}, [{info.min}, {info.max}]")
    if arr.ndim == 0:
        return int(wide), None
    return None, np.asarray(wide, dtype=np.int64)


def _max_abs(x, zp) -> int:
    if x.size == 0:
        return 0
    return max(abs(int(x.max()) - zp), abs(int(x.min()) - zp))


def int_matmul(a_q, b_q, *, overflow="detect", acc_bits=32, a_zero_point=0, b_zero_point=0,
               flags=None, return_overflow=False):
    """numprec.quant.int_matmul on the GPU, with its arguments and results (module
    docstring): (a_q - a_zero_point) @ (b_q - b_zero_point) in an acc_bits-bit accumulator
    (8..61 here), "wrap" / "saturate" / "detect"; int32 result for acc_bits <= 32, int64
    above. NumPy arrays (shapes as numpy.matmul takes them) give NumPy results; device arrays
    (2-D, C-contiguous, 8- or 16-bit codes, scalar zero points) a device array."""
    from . import is_device_array
    if overflow not in OVERFLOW_MODES:
        raise ValueError(f"int_matmul: unknown overflow={overflow!r}; valid: "
                         f"{', '.join(OVERFLOW_MODES)}")
    if isinstance(acc_bits, (bool, np.bool_)) or not isinstance(acc_bits, numbers.Integral):
        raise TypeError(f"int_matmul: acc_bits must be an int, got {acc_bits!r}")
    if not ACC_BITS[0] <= acc_bits <= ACC_BITS[1]:
        raise ValueError(f"int_matmul on the GPU: acc_bits={acc_bits} is out of range; valid: "
                         f"{ACC_BITS[0]}..{ACC_BITS[1]} (the CPU backend takes up to 64)")
    if flags is not None and not hasattr(flags, "add"):
        raise TypeError(f"int_matmul: flags must be a numprec.Flags, got {flags!r}")
    a_q = _codes(a_q, "a_q")
    b_q = _codes(b_q, "b_q")
    za, za_array = _zero_point(a_zero_point, a_q, "a_zero_point")
    zb, zb_array = _zero_point(b_zero_point, b_q, "b_zero_point")
    out_dtype = np.int32 if acc_bits <= 32 else np.int64
    if is_device_array(a_q) or is_device_array(b_q):
        if not (is_device_array(a_q) and is_device_array(b_q)):
            raise TypeError("int_matmul: a_q and b_q must both be on the device or both on the "
                            "host")
        if za is None or zb is None:
            raise ValueError("int_matmul: device arrays take scalar zero points")
        if len(a_q.shape) != 2 or len(b_q.shape) != 2 or a_q.shape[1] != b_q.shape[0]:
            raise ValueError(f"int_matmul: device shapes {tuple(a_q.shape)} and "
                             f"{tuple(b_q.shape)} are not two matrices that multiply")
        (m, k), n = a_q.shape, b_q.shape[1]
        result = cuda.device_array((m, n), dtype=out_dtype)
        overflowed = int_matmul_into(a_q.reshape(a_q.size), b_q.reshape(b_q.size), za, zb, 1, m,
                                     n, k, acc_bits, overflow == "saturate",
                                     result.reshape(m * n))
    else:
        a, b = a_q, b_q
        if za_array is not None:  # zero points of a shape: subtracted here, exactly
            a, za = _subtract(a, za_array, "a_zero_point"), 0
        if zb_array is not None:
            b, zb = _subtract(b, zb_array, "b_zero_point"), 0
        pmax = _max_abs(a, za) * _max_abs(b, zb)
        if pmax > PRODUCT_LIMIT:
            raise ValueError(f"int_matmul: products reach {pmax} in magnitude; int_matmul needs "
                             "every product within 2^62 = 4611686018427387904")
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        a = a[None, :] if a_vec else a
        b = b[:, None] if b_vec else b
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
        a3 = np.ascontiguousarray(np.broadcast_to(a, batch + (m, k))).reshape(-1)
        b3 = np.ascontiguousarray(np.broadcast_to(b, batch + (k, n))).reshape(-1)
        batches = int(np.prod(batch, dtype=np.int64))
        flat = np.empty(batches * m * n, dtype=out_dtype)
        overflowed = int_matmul_into(a3, b3, za, zb, batches, m, n, k, acc_bits,
                                     overflow == "saturate", flat)
        shape = batch + ((m,) if not a_vec else ()) + ((n,) if not b_vec else ())
        result = flat.reshape(shape)
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


def _subtract(x, zp, name):
    try:
        return x.astype(np.int64) - np.broadcast_to(zp, x.shape)
    except ValueError:
        raise ValueError(f"int_matmul: {name} of shape {zp.shape} does not broadcast to the "
                         f"codes' shape {x.shape}") from None
