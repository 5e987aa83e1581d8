"""The GPU kernel set: the CPU kernel set's entry points (numprec.ops.backend), run by numba.cuda.

numprec.ops.backend calls `kernel_set()` for backend="gpu". Each entry point takes the same
arguments as its CPU twin and returns what it returns:

    round_into, encode_into, decode_into      numprec.kernels.cpu
    binary_into, sqrt_into, fma_into          numprec.kernels.cpu_arith
    reduce_into, matmul_into, matmul_sequential_into    numprec.kernels.cpu_accum

Data arrays may be NumPy arrays (copied to the device and back) or device arrays (kept there;
see numprec.kernels.gpu_arrays for the rules). Parameter arrays (`counts`, `keys`, the batch
indices) are host arrays; `counts` receives the flag counts, copied back from 8 device tallies.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .codes import NFLAGS
from .gpu_arrays import (Staged, check_sizes, is_device_array, launch_shape, quiet_simulator,
                         size_of, tile_grid, to_device)

__all__ = ["GPUUnavailableError", "availability", "kernel_set", "is_device_array"]


class GPUUnavailableError(RuntimeError):
    """backend="gpu" was asked for where numba.cuda has neither a GPU nor the simulator."""


_SIM_HINT = ("set NUMBA_ENABLE_CUDASIM=1 in the environment before Python starts (before numba "
             "is imported) to run the GPU kernels in the CUDA simulator, or use backend='cpu'")


def availability() -> tuple[bool, str]:
    """(whether backend="gpu" can run here, and on what or why not)."""
    try:
        from numba import cuda
    except ImportError as err:
        return False, (f"numba.cuda cannot be imported ({err}); install the 'cuda' extra "
                       "(numba-cuda[cu13])")
    if cuda.config.ENABLE_CUDASIM:
        return True, "CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    if cuda.is_available():
        return True, f"GPU {cuda.get_current_device().name}"
    from numba.cuda.cudadrv.driver import driver
    error = (driver.initialization_error or "").strip()
    reason = f"the CUDA driver is unusable ({error.splitlines()[0]})" if error else \
        "the CUDA driver found no GPU"
    return False, reason


def kernel_set() -> SimpleNamespace:
    """The GPU entry points; raises GPUUnavailableError without a GPU or the simulator."""
    usable, what = availability()
    if not usable:
        raise GPUUnavailableError(f"backend='gpu' needs a CUDA GPU or the CUDA simulator, and "
                                  f"neither is usable here: {what}. To go on, {_SIM_HINT}.")
    return SimpleNamespace(
        name="gpu", device=what, round_into=round_into, encode_into=encode_into,
        decode_into=decode_into, binary_into=binary_into, sqrt_into=sqrt_into, fma_into=fma_into,
        reduce_into=reduce_into, matmul_into=matmul_into,
        matmul_sequential_into=matmul_sequential_into)


def _ints(values):
    """A parameter tuple (format parameters, accumulation configuration) as int64s."""
    return tuple(int(v) for v in values)


# --- element-wise: rounding and arithmetic -------------------------------------------------------

def _elementwise(entry, kernel, lead, inputs, out, out_dtype, P, mode, saturate, ftz, key,
                 offset, rbits, want_flags, counts):
    """Launch `kernel(*lead, *inputs, out, P, ..., tallies)`; add the flag counts to counts and
    return the count of unencodable elements (tally slot NFLAGS)."""
    from .gpu import TALLY_SLOTS
    if not (isinstance(counts, np.ndarray) and counts.dtype == np.int64
            and counts.shape == (NFLAGS,)):
        raise TypeError(f"{entry}: counts must be a host int64 array of shape ({NFLAGS},)")
    n = size_of(out)
    check_sizes(entry, **{name: (arr, n) for name, arr in inputs.items()})
    staged = Staged(entry, **inputs, out=out)
    d_inputs = [staged.input(name, arr, np.float64) for name, arr in inputs.items()]
    if out_dtype == np.int64 and getattr(out, "dtype", None) is not None:
        # encode may write the format's unsigned container directly
        from .gpu import BIT_PATTERN_DTYPES
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
        counts += totals[:NFLAGS]
    return int(totals[NFLAGS])


def round_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = round(x[i]) (float64); counts += flag counts when want_flags."""
    from .gpu import round_kernel
    _elementwise("round_into", round_kernel, (), {"x": x}, out, np.float64, P, mode, saturate,
                 ftz, key, offset, rbits, want_flags, counts)


def encode_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = bit pattern (int64) of round(x[i]); returns how many elements have no bit
    pattern (marked -1)."""
    from .gpu import encode_kernel
    return _elementwise("encode_into", encode_kernel, (), {"x": x}, out, np.int64, P, mode,
                        saturate, ftz, key, offset, rbits, want_flags, counts)


def decode_into(bits, out, P):
    """out[i] = value of the bit pattern bits[i] (int64, or a uint container on the device)."""
    from .gpu import BIT_PATTERN_DTYPES, decode_kernel
    n = size_of(out)
    check_sizes("decode_into", bits=(bits, n))
    staged = Staged("decode_into", bits=bits, out=out)
    d_bits = staged.input("bits", bits, *BIT_PATTERN_DTYPES)
    d_out = staged.output("out", out, np.float64)
    if n:
        blocks, threads = launch_shape(n)
        decode_kernel[blocks, threads](d_bits, d_out, _ints(P))
        staged.finish()


def binary_into(op, a, b, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] op b[i] rounded once (op: scalar_arith.OP_ADD/SUB/MUL/DIV)."""
    from .gpu_arith import binary_kernel
    _elementwise("binary_into", binary_kernel, (int(op),), {"a": a, "b": b}, out, np.float64, P,
                 mode, saturate, ftz, key, offset, rbits, want_flags, counts)


def sqrt_into(a, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = sqrt(a[i]) rounded once."""
    from .gpu_arith import sqrt_kernel
    _elementwise("sqrt_into", sqrt_kernel, (), {"a": a}, out, np.float64, P, mode, saturate, ftz,
                 key, offset, rbits, want_flags, counts)


def fma_into(a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] * b[i] + c[i] rounded once."""
    from .gpu_arith import fma_kernel
    _elementwise("fma_into", fma_kernel, (), {"a": a, "b": b, "c": c}, out, np.float64, P, mode,
                 saturate, ftz, key, offset, rbits, want_flags, counts)


# --- accumulation -------------------------------------------------------------------------------

def reduce_into(x, y, n, out, C, PA, PP, PB, PO, keys, row_flags):
    """out[r] = the reduction of row r's n terms; row_flags[r] = the OR of its flags."""
    from .gpu_accum import reduce_kernel
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
        reduce_kernel[blocks, threads](d_x, d_y, int(n), d_out, _ints(C), _ints(PA), _ints(PP),
                                       _ints(PB), _ints(PO), to_device(keys, np.uint64), d_flags)
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
    from . import gpu_accum
    from .scalar_accum import BLOCKED, C_ORDER, FUSED, SEQUENTIAL
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
            grid = tile_grid(len(a_batch), m, n, gpu_accum.TILE)
            gpu_accum.matmul_streaming_kernel[grid, (gpu_accum.TILE, gpu_accum.TILE)](
                d_a, d_bt, True, d_ab, d_bb, m, n, k, d_out, C, PA, PP, PB, PO, d_keys, d_flags)
        elif C[C_ORDER] == FUSED:
            grid = tile_grid(len(a_batch), m, n, gpu_accum.FUSED_TILE)
            gpu_accum.matmul_fused_kernel[grid, (gpu_accum.FUSED_TILE, gpu_accum.FUSED_TILE)](
                d_a, d_bt, d_ab, d_bb, m, n, k, d_out, C, PA, PO, d_keys, d_flags)
        else:
            blocks, threads = launch_shape(size_of(out))
            gpu_accum.matmul_kernel[blocks, threads](d_a, d_bt, d_ab, d_bb, m, n, k, d_out, C,
                                                     PA, PP, PB, PO, d_keys, d_flags)
    staged.finish()


def matmul_sequential_into(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags,
                           mode=None):
    """The sequential order with b = B itself (C-order (batch, k, n)), tiled through shared
    memory. `mode` is C's (the CPU kernel compiles it in as a constant; here C carries it)."""
    from . import gpu_accum
    staged, operands = _matmul_operands("matmul_sequential_into", a, b, a_batch, b_batch, m, n,
                                        k, out, row_flags)
    d_a, d_b, d_ab, d_bb, m, n, k, d_out = operands
    d_flags = staged.output("row_flags", row_flags, np.int64)
    if size_of(out) == 0:
        return
    C, PA, PO = _ints(C), _ints(PA), _ints(PO)
    grid = tile_grid(len(a_batch), m, n, gpu_accum.TILE)
    with quiet_simulator():
        gpu_accum.matmul_streaming_kernel[grid, (gpu_accum.TILE, gpu_accum.TILE)](
            d_a, d_b, False, d_ab, d_bb, m, n, k, d_out, C, PA, PA, PA, PO,
            to_device(keys, np.uint64), d_flags)
    staged.finish()
