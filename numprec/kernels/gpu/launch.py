"""The GPU entry points: the CPU kernel set's, run by numba.cuda (numprec.kernels.gpu.kernel_set
assembles them).

Each entry point takes the same arguments as its CPU twin (numprec.kernels.cpu) and returns what
it returns. Data arrays may be NumPy arrays (copied to the device and back) or device arrays
(kept there; see numprec.kernels.gpu.arrays for the rules). Parameter arrays (`counts`, `keys`,
the batch indices) are host arrays; `counts` receives the flag counts, copied back from the
device tallies.
"""
from __future__ import annotations

import numpy as np

from ...codes import (BLOCKED, C_ORDER, FUSED, NCOUNTS, OP_FMA, OP_SQRT, SEQUENTIAL, TALLY_SLOTS,
                      TALLY_UNENCODABLE)
from . import accum
from .arith import arith_kernel
from .arrays import (Staged, check_sizes, launch_shape, quiet_simulator, size_of, tile_grid,
                     to_device)
from .rounding import BIT_PATTERN_DTYPES, decode_kernel, rounding_kernel


def _ints(values):
    """A parameter tuple (format parameters, accumulation configuration) as int64s."""
    return tuple(int(v) for v in values)


# --- element-wise: rounding and arithmetic -------------------------------------------------------

def _elementwise(entry, kernel, lead, inputs, out, out_dtype, P, mode, saturate, ftz, key,
                 offset, rbits, want_flags, counts, operands=1):
    """Launch `kernel(*lead, *inputs, out, P, ..., tallies)` with `operands` input arrays (the
    first input repeated where there are fewer, unread by the kernel); add the flag counts to
    counts and return the count of unencodable elements (tally slot TALLY_UNENCODABLE)."""
    if not (isinstance(counts, np.ndarray) and counts.dtype == np.int64
            and counts.shape == (NCOUNTS,)):
        raise TypeError(f"{entry}: counts must be a host int64 array of shape ({NCOUNTS},)")
    n = size_of(out)
    check_sizes(entry, **{name: (arr, n) for name, arr in inputs.items()})
    staged = Staged(entry, **inputs, out=out)
    d_inputs = [staged.input(name, arr, np.float64) for name, arr in inputs.items()]
    d_inputs += d_inputs[:1] * (operands - len(d_inputs))
    if out_dtype == np.int64 and getattr(out, "dtype", None) is not None:
        # encode may write the format's unsigned container directly
        if np.dtype(out.dtype) in tuple(np.dtype(d) for d in BIT_PATTERN_DTYPES):
            out_dtype = out.dtype
    d_out = staged.output("out", out, out_dtype)
    if n == 0:
        return 0
    tallies = to_device(np.zeros(TALLY_SLOTS), np.int64)
    blocks, threads = launch_shape(n)
    with quiet_simulator():
        kernel[blocks, threads](*lead, *d_inputs, d_out, _ints(P), int(mode), bool(saturate),
                                bool(ftz), np.uint64(key), int(offset), int(rbits),
                                bool(want_flags), tallies)
    staged.finish()
    totals = tallies.copy_to_host()
    if want_flags:
        counts += totals[:NCOUNTS]
    return int(totals[TALLY_UNENCODABLE])


def round_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = round(x[i]) (float64); counts += flag counts when want_flags."""
    _elementwise("round_into", rounding_kernel, (False,), {"x": x}, out, np.float64, P, mode,
                 saturate, ftz, key, offset, rbits, want_flags, counts)


def encode_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = bit pattern (int64) of round(x[i]); returns how many elements have no bit
    pattern (marked -1)."""
    return _elementwise("encode_into", rounding_kernel, (True,), {"x": x}, out, np.int64, P,
                        mode, saturate, ftz, key, offset, rbits, want_flags, counts)


def decode_into(bits, out, P):
    """out[i] = value of the bit pattern bits[i] (int64, or a uint container on the device)."""
    n = size_of(out)
    check_sizes("decode_into", bits=(bits, n))
    staged = Staged("decode_into", bits=bits, out=out)
    d_bits = staged.input("bits", bits, *BIT_PATTERN_DTYPES)
    d_out = staged.output("out", out, np.float64)
    if n:
        blocks, threads = launch_shape(n)
        decode_kernel[blocks, threads](d_bits, d_out, _ints(P))
        staged.finish()


def _arith(entry, op, inputs, out, *rest):
    """One launch of arith_kernel (three operand slots: a, b, c)."""
    _elementwise(entry, arith_kernel, (int(op),), inputs, out, np.float64, *rest, operands=3)


def binary_into(op, a, b, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] op b[i] rounded once (op: OP_ADD, OP_SUB, OP_MUL or OP_DIV)."""
    _arith("binary_into", op, {"a": a, "b": b}, out, P, mode, saturate, ftz, key, offset, rbits,
           want_flags, counts)


def sqrt_into(a, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = sqrt(a[i]) rounded once."""
    _arith("sqrt_into", OP_SQRT, {"a": a}, out, P, mode, saturate, ftz, key, offset, rbits,
           want_flags, counts)


def fma_into(a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] * b[i] + c[i] rounded once."""
    _arith("fma_into", OP_FMA, {"a": a, "b": b, "c": c}, out, P, mode, saturate, ftz, key,
           offset, rbits, want_flags, counts)


# --- accumulation -------------------------------------------------------------------------------

def reduce_into(x, y, n, out, C, PA, PP, PB, PO, keys, row_flags):
    """out[r] = the reduction of row r's n terms; row_flags[r] = the OR of its flags."""
    rows = size_of(out)
    check_sizes("reduce_into", x=(x, rows * n), y=(y, rows * n), row_flags=(row_flags, rows))
    staged = Staged("reduce_into", x=x, y=y, out=out, row_flags=row_flags)
    d_x = staged.input("x", x, np.float64)
    d_y = d_x if y is x else staged.input("y", y, np.float64)
    d_out = staged.output("out", out, np.float64)
    d_flags = staged.output("row_flags", row_flags, np.int64)
    if rows == 0:
        return
    blocks, threads = launch_shape(rows)
    with quiet_simulator():
        accum.reduce_kernel[blocks, threads](d_x, d_y, int(n), d_out, _ints(C), _ints(PA),
                                             _ints(PP), _ints(PB), _ints(PO),
                                             to_device(keys, np.uint64), d_flags)
    staged.finish()


def _matmul_operands(entry, a, b, a_batch, b_batch, m, n, k, out, row_flags):
    outputs = len(a_batch) * m * n
    check_sizes(entry, a=(a, (int(np.max(a_batch, initial=-1)) + 1) * m * k),
                out=(out, outputs), row_flags=(row_flags, outputs))
    if size_of(b) < (int(np.max(b_batch, initial=-1)) + 1) * k * n:
        raise ValueError(f"{entry}: b has {size_of(b)} elements, fewer than its batch indices "
                         f"need ({k} x {n} per matrix)")
    staged = Staged(entry, a=a, b=b, out=out, row_flags=row_flags)
    return staged, (staged.input("a", a, np.float64), staged.input("b", b, np.float64),
                    to_device(a_batch, np.int64), to_device(b_batch, np.int64),
                    int(m), int(n), int(k), staged.output("out", out, np.float64))


def matmul_into(a, bt, a_batch, b_batch, m, n, k, out, C, PA, PP, PB, PO, keys, row_flags):
    """out[o, i, j] = reduction over l of a[a_batch[o], i, l] * bt[b_batch[o], j, l] (bt: B
    transposed). Sequential and blocked orders run tiled through shared memory, fused too, the
    others one thread per output element."""
    staged, operands = _matmul_operands("matmul_into", a, bt, a_batch, b_batch, m, n, k, out,
                                        row_flags)
    d_a, d_bt, d_ab, d_bb, m, n, k, d_out = operands
    d_flags = staged.output("row_flags", row_flags, np.int64)
    if size_of(out) == 0:
        return
    d_keys = to_device(keys, np.uint64)
    C, PA, PP, PB, PO = _ints(C), _ints(PA), _ints(PP), _ints(PB), _ints(PO)
    with quiet_simulator():
        if C[C_ORDER] in (SEQUENTIAL, BLOCKED):
            grid = tile_grid(len(a_batch), m, n, accum.TILE)
            accum.matmul_streaming_kernel[grid, (accum.TILE, accum.TILE)](
                d_a, d_bt, True, d_ab, d_bb, m, n, k, d_out, C, PA, PP, PB, PO, d_keys, d_flags)
        elif C[C_ORDER] == FUSED:
            grid = tile_grid(len(a_batch), m, n, accum.FUSED_TILE)
            accum.matmul_fused_kernel[grid, (accum.FUSED_TILE, accum.FUSED_TILE)](
                d_a, d_bt, d_ab, d_bb, m, n, k, d_out, C, PA, PO, d_keys, d_flags)
        else:
            blocks, threads = launch_shape(size_of(out))
            accum.matmul_kernel[blocks, threads](d_a, d_bt, d_ab, d_bb, m, n, k, d_out, C,
                                                     PA, PP, PB, PO, d_keys, d_flags)
    staged.finish()


def matmul_sequential_into(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags,
                           mode):
    """The sequential order with b = B itself (C-order (batch, k, n)), tiled through shared
    memory. `mode` is C's (the CPU kernel compiles it in as a constant; here C carries it)."""
    staged, operands = _matmul_operands("matmul_sequential_into", a, b, a_batch, b_batch, m, n,
                                        k, out, row_flags)
    d_a, d_b, d_ab, d_bb, m, n, k, d_out = operands
    d_flags = staged.output("row_flags", row_flags, np.int64)
    if size_of(out) == 0:
        return
    C, PA, PO = _ints(C), _ints(PA), _ints(PO)
    grid = tile_grid(len(a_batch), m, n, accum.TILE)
    with quiet_simulator():
        accum.matmul_streaming_kernel[grid, (accum.TILE, accum.TILE)](
            d_a, d_b, False, d_ab, d_bb, m, n, k, d_out, C, PA, PA, PA, PO,
            to_device(keys, np.uint64), d_flags)
    staged.finish()
