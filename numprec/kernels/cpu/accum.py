"""CPU kernels for the accumulation models (numprec.sum, dot, matmul).

The scalar accumulation code (numprec.kernels.scalar.accum) comes compiled from
numprec.kernels.cpu.scalars. Rows run in parallel; each row's steps run in order, so results do
not depend on the thread count. The sequential matmul has a tiled kernel (a block of output
columns accumulated together, the inner loop reading B's rows contiguously) running the very
same step function as the generic kernel, with the mode compiled in (jit.by_mode).
"""
import numpy as np
from numba import prange

from ...codes import C_EXACT, C_FTZ, C_RBITS, C_SAT, K_OUT, K_STEP, P_MBITS, RNE
from ..jit import by_mode, cpu_parallel_kernel, cpu_scalar
from ..scalar.accum import SCRATCH
from .scalars import S

TILE = 16  # output columns accumulated together by the sequential matmul kernel


@cpu_parallel_kernel
def reduce_kernel(x, y, n, out, C, PA, PP, PB, PO, keys, row_flags):
    """out[r] = the reduction of the n terms of row r (x[r*n : (r+1)*n], times y's when
    C uses y); row_flags[r] = the OR of its flags."""
    fast = S.fast_path_limits(PA)
    for r in prange(out.size):
        fscratch = np.empty(SCRATCH, dtype=np.float64)
        iscratch = np.empty(SCRATCH, dtype=np.int64)
        S.reduce_entry(x, y, n, r, C, PA, PP, PB, PO, keys, fast, fscratch, iscratch, out,
                       row_flags)


@cpu_parallel_kernel
def matmul_kernel(a, bt, a_batch, b_batch, m, n, k, out, C, PA, PP, PB, PO, keys, row_flags):
    """out[o, i, j] = reduction over l of a[a_batch[o], i, l] * bt[b_batch[o], j, l] (flat
    C-order arrays; bt is B transposed so that both factors are contiguous); one output row
    (o, i) per parallel iteration, its scratch shared by the row's outputs."""
    fast = S.fast_path_limits(PA)
    for oi in prange(a_batch.size * m):
        fscratch = np.empty(SCRATCH, dtype=np.float64)
        iscratch = np.empty(SCRATCH, dtype=np.int64)
        for j in range(n):
            S.matmul_entry(a, bt, a_batch, b_batch, m, n, k, oi, j, C, PA, PP, PB, PO, keys,
                           fast, fscratch, iscratch, out, row_flags)


MODE = RNE  # the rounding mode of the tiled sequential matmul: a constant in each copy (by_mode)


def _fast_steps(acc, acc_flags, av, b, brow, r0, k, l, width, fast, keys, rbits, jam_ok):
    """fast_step on each column of a tile; returns the bit mask of the columns it refused."""
    mode = MODE
    refused = np.int64(0)
    for jj in range(width):
        rand = S.draw(keys, K_STEP, (r0 + jj) * k + l, mode)
        old = acc[jj]
        value, ok, inexact = S.fast_step(old, av, b[brow + jj], mode, fast, rand, rbits)
        ok = ok & jam_ok
        acc[jj] = value if ok else old
        acc_flags[jj] |= np.int64(inexact & ok) | (S.swamped(old, value, av, b[brow + jj])
                                                   if ok else np.int64(0))
        refused |= np.int64(not ok) << jj
    return refused


def _sequential_rows(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast,
                     oi, acc, acc_flags):
    """Output row oi of the tiled sequential matmul, in mode MODE. Each step of a tile first
    tries fast_step on every column; the rare columns it refuses get the general step afterwards
    (kept out of the inner loop, which stays small)."""
    mode = MODE
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    jam_ok = exact and PA[P_MBITS] <= 50
    o = oi // m
    i = oi - o * m
    xo = (a_batch[o] * m + i) * k
    bo = b_batch[o] * k * n
    for j0 in range(0, n, TILE):
        width = min(TILE, n - j0)
        r0 = oi * n + j0
        av = a[xo]
        for jj in range(width):
            acc[jj], acc_flags[jj] = S.first_product(
                av, b[bo + j0 + jj], PA, mode, sat, ftz, S.draw(keys, K_STEP, (r0 + jj) * k, mode),
                rbits, exact, fast)
        for l in range(1, k):
            av = a[xo + l]
            brow = bo + l * n + j0
            if width == TILE:  # a constant trip count: LLVM unrolls the tile
                refused = _fast_steps(acc, acc_flags, av, b, brow, r0, k, l, TILE, fast, keys,
                                      rbits, jam_ok)
            else:
                refused = _fast_steps(acc, acc_flags, av, b, brow, r0, k, l, width, fast, keys,
                                      rbits, jam_ok)
            while refused:
                jj = S.bit_length(refused & -refused) - 1
                refused &= refused - 1
                value, flags = S.add_product(acc[jj], av, b[brow + jj], PA, mode, sat, ftz,
                                             S.draw(keys, K_STEP, (r0 + jj) * k + l, mode), rbits,
                                             exact, fast)
                acc_flags[jj] |= flags | S.swamped(acc[jj], value, av, b[brow + jj])
                acc[jj] = value
        for jj in range(width):
            value, flags = S.round_scalar(acc[jj], PO, mode, sat, ftz,
                                          S.draw(keys, K_OUT, r0 + jj, mode), rbits)
            out[r0 + jj] = value
            row_flags[r0 + jj] = acc_flags[jj] | flags


def _matmul_sequential(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags):
    fast = S.fast_path_limits(PA)
    for oi in prange(a_batch.size * m):
        acc = np.empty(TILE, dtype=np.float64)
        acc_flags = np.empty(TILE, dtype=np.int64)
        _sequential_rows(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast,
                         oi, acc, acc_flags)


SEQUENTIAL_MATMUL = by_mode({_fast_steps: cpu_scalar, _sequential_rows: cpu_scalar,
                             _matmul_sequential: cpu_parallel_kernel})


def matmul_sequential_kernel(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags,
                             mode):
    """The sequential order, tiled: TILE output columns at a time, B read row by row (b is B
    itself, C-order (batch, k, n)). Same steps and draws as matmul_kernel. `mode` (= C's) is
    compiled in as a constant (by_mode): a runtime mode costs the fast path 4x."""
    SEQUENTIAL_MATMUL[mode]._matmul_sequential(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO,
                                               keys, row_flags)
