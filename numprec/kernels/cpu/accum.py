"""CPU kernels for the accumulation models (numprec.sum, dot, matmul).

The scalar accumulation code (numprec.kernels.scalar.accum) comes compiled from
numprec.kernels.cpu.scalars. Rows run in parallel; each row's steps run in order, so results do
not depend on the thread count. The sequential matmul order has a kernel of its own, with the
same steps and draws (numprec.kernels.cpu.sequential_matmul).
"""
import numpy as np
from numba import prange

from ..jit import cpu_parallel_kernel
from ..scalar.accum import SCRATCH
from .scalars import S


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
