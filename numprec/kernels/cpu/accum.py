"""CPU kernels for the accumulation models (numprec.sum, dot, matmul).

The scalar accumulation code (numprec.kernels.scalar.accum) comes compiled from
numprec.kernels.cpu.scalars. Rows run in parallel; each row's steps run in order, so results do
not depend on the thread count. The sequential matmul has a kernel of its own: a strip of output
columns accumulated together, each term added to every column of the strip by one vectorised
loop over B's row (fast_step, with the mode compiled in: jit.by_mode), the rare columns it
refuses then taking the generic kernel's step (add_product) before the next term.
"""
import numpy as np
from numba import prange

from ...codes import C_EXACT, C_FTZ, C_RBITS, C_SAT, K_OUT, K_STEP, P_MBITS, RNE
from ..jit import by_mode, cpu_parallel_kernel, cpu_scalar
from ..scalar.accum import REFUSED, SCRATCH
from .scalars import S

STRIP = 256  # output columns accumulated together by the sequential matmul kernel (its
# accumulators, flags and B's row segment stay in the first-level cache)


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


MODE = RNE  # the rounding mode of the sequential matmul: a constant in each copy (by_mode)


def _fast_steps(acc, new_acc, acc_flags, av, b, brow, r0, k, l, width, fast, keys, rbits):
    """One step (term l) of fast_step on each of a strip's columns: new_acc[jj] = acc[jj] +
    av * b[brow + jj], rounded; acc_flags[jj] gets the step's flags, or REFUSED where it left
    the column to the general step. Returns the OR of the words. One loop over independent
    columns, with no early exit and unconditional stores (the result goes to the other buffer,
    so a refused column keeps its old sum), which LLVM vectorises."""
    mode = MODE
    seen = np.int64(0)
    row = b[brow:brow + width]  # indexed from 0: contiguous loads (b[brow + jj] gathers, as
    # numba wraps a negative index)
    for jj in range(width):
        rand = S.draw(keys, K_STEP, (r0 + jj) * k + l, mode)
        value, word = S.fast_step(acc[jj], av, row[jj], mode, fast, rand, rbits)
        new_acc[jj] = value
        acc_flags[jj] |= word
        seen |= word
    return seen


def _sequential_rows(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast,
                     oi, acc, new_acc, acc_flags):
    """Output row oi of the sequential matmul, in mode MODE, a strip of STRIP columns at a time
    (B's rows read contiguously, the strip's sums in two buffers that trade places each term,
    kept in cache). Each term first goes through fast_step on every column of the strip; the
    rare columns it refuses get the general step right after, before the next term."""
    mode = MODE
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    jam_ok = exact and PA[P_MBITS] <= 50  # fast_step rounds a jammed float64 sum
    o = oi // m
    i = oi - o * m
    xo = (a_batch[o] * m + i) * k
    bo = b_batch[o] * k * n
    for j0 in range(0, n, STRIP):
        width = min(STRIP, n - j0)
        r0 = oi * n + j0
        av = a[xo]
        for jj in range(width):
            acc[jj], acc_flags[jj] = S.first_product(
                av, b[bo + j0 + jj], PA, mode, sat, ftz, S.draw(keys, K_STEP, (r0 + jj) * k, mode),
                rbits, exact, fast)
        for l in range(1, k):
            av = a[xo + l]
            brow = bo + l * n + j0
            if jam_ok:
                seen = _fast_steps(acc, new_acc, acc_flags, av, b, brow, r0, k, l, width, fast,
                                   keys, rbits)
            else:
                for jj in range(width):
                    acc_flags[jj] |= REFUSED
                seen = REFUSED
            if seen & REFUSED:
                for jj in range(width):
                    if acc_flags[jj] & REFUSED:
                        old = acc[jj]
                        bv = b[brow + jj]
                        value, flags = S.add_product(old, av, bv, PA, mode, sat, ftz,
                                                     S.draw(keys, K_STEP, (r0 + jj) * k + l,
                                                            mode), rbits, exact, fast)
                        acc_flags[jj] = ((acc_flags[jj] & ~REFUSED) | flags
                                         | S.swamped(old, value, av, bv))
                        new_acc[jj] = value
            acc, new_acc = new_acc, acc
        for jj in range(width):
            value, flags = S.round_scalar(acc[jj], PO, mode, sat, ftz,
                                          S.draw(keys, K_OUT, r0 + jj, mode), rbits)
            out[r0 + jj] = value
            row_flags[r0 + jj] = acc_flags[jj] | flags


def _matmul_sequential(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags):
    fast = S.fast_path_limits(PA)
    for oi in prange(a_batch.size * m):
        acc = np.empty(STRIP, dtype=np.float64)
        new_acc = np.empty(STRIP, dtype=np.float64)
        acc_flags = np.empty(STRIP, dtype=np.int64)
        _sequential_rows(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast,
                         oi, acc, new_acc, acc_flags)


SEQUENTIAL_MATMUL = by_mode({_fast_steps: cpu_scalar, _sequential_rows: cpu_scalar,
                             _matmul_sequential: cpu_parallel_kernel})


def matmul_sequential_kernel(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags,
                             mode):
    """The sequential order, STRIP output columns at a time, B read row by row (b is B itself,
    C-order (batch, k, n)). Same steps and draws as matmul_kernel. `mode` (= C's) is
    compiled in as a constant (by_mode): a runtime mode costs the fast path 4x."""
    SEQUENTIAL_MATMUL[mode]._matmul_sequential(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO,
                                               keys, row_flags)
