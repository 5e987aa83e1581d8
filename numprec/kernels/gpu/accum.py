"""GPU kernels for the accumulation models (numprec.sum, dot, matmul), from the scalar.accum
functions compiled in numprec.kernels.gpu.scalars: the CPU's steps, draws and flags, so the
CPU's bits.

- reduce_kernel, matmul_kernel: one thread per output element runs scalar.accum.reduce_row (every
  order; the generic path, as numprec.kernels.cpu.accum's kernels of the same names).
- matmul_streaming_kernel (sequential and blocked orders) and matmul_fused_kernel (fused): a block
  of threads computes a tile of outputs while the tiles of A and B they share are staged through
  shared memory; each thread then runs the row's steps (load_term, first_product/add_product,
  the promotion of blocked partial sums, fused_group) in order on the staged terms. The draws are
  indexed by (output element, step) exactly as reduce_row indexes them.
"""
import numpy as np
from numba import cuda, types

from ...codes import (BLOCKED, C_BLOCK, C_EXACT, C_FTZ, C_MODE, C_ORDER, C_RBITS, C_SAT, C_TERMS,
                     K_OUT, K_PROMOTE, K_STEP, MAX_FUSED_TERMS)
from ..scalar.accum import SCRATCH
from .compiler import SIMULATOR, gpu_device, gpu_kernel
from .scalars import CONFIG, F64, I64, KEYS, PARAMS, S


# Output tile edge (TILE x TILE threads) and terms per shared-memory stage of the streaming
# kernel (TK == TILE: each thread stages one term of A and one of B). The simulator runs one
# Python thread per GPU thread, so it uses small tiles: tiny matrices still span several tiles.
TILE = TK = 4 if SIMULATOR else 16
FUSED_TILE = 2 if SIMULATOR else 8
# Terms per stage of the fused kernel: at least the largest group; a group's scratch holds its
# terms plus the running sum.
FUSED_TK = MAX_FUSED_TERMS
GROUP_SCRATCH = FUSED_TK + 1
PAD = 1  # B tiles are stored with rows of TILE + 1 entries, against shared-memory bank conflicts
# Shared-memory sizes must be compile-time constants.
A_TILE, B_TILE = TILE * TK, TK * (TILE + PAD)
FUSED_A_TILE, FUSED_B_TILE = FUSED_TILE * FUSED_TK, FUSED_TK * (FUSED_TILE + PAD)


@gpu_device
def finish_output(out, row_flags, r, k, s, flags, C, PO, keys):
    """The row's final rounding to the output format, as reduce_row ends (no terms: +0)."""
    if k == 0:
        out[r] = 0.0
        row_flags[r] = 0
        return
    mode = C[C_MODE]
    value, g = S.round_scalar(s, PO, mode, C[C_SAT] != 0, C[C_FTZ] != 0,
                              S.draw(keys, K_OUT, r, mode), C[C_RBITS])
    out[r] = value
    row_flags[r] = flags | g


@gpu_device
def tile_output(o, ti, tj, tile, m, n):
    """This thread's output of tile (ti, tj) of matrix o: (i, j), whether it exists, and its
    flat index r."""
    i = ti * tile + cuda.threadIdx.y
    j = tj * tile + cuda.threadIdx.x
    return i, j, i < m and j < n, (o * m + i) * n + j


@gpu_kernel
def reduce_kernel(x, y, n, out, C, PA, PP, PB, PO, keys, row_flags):
    """out[r] = the reduction of the n terms of row r (x[r*n : (r+1)*n], times y's when C uses
    y); row_flags[r] = the OR of its flags."""
    fscratch = cuda.local.array(SCRATCH, types.float64)
    iscratch = cuda.local.array(SCRATCH, types.int64)
    fast = S.fast_path_limits(PA)
    for r in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        S.reduce_entry(x, y, n, r, C, PA, PP, PB, PO, keys, fast, fscratch, iscratch, out,
                       row_flags)


@gpu_kernel
def matmul_kernel(a, bt, a_batch, b_batch, m, n, k, out, C, PA, PP, PB, PO, keys, row_flags):
    """out[o, i, j] = reduction over l of a[a_batch[o], i, l] * bt[b_batch[o], j, l], one thread
    per output element (flat C-order arrays; bt is B transposed)."""
    fscratch = cuda.local.array(SCRATCH, types.float64)
    iscratch = cuda.local.array(SCRATCH, types.int64)
    fast = S.fast_path_limits(PA)
    for r in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        oi = r // n
        S.matmul_entry(a, bt, a_batch, b_batch, m, n, k, oi, r - oi * n, C, PA, PP, PB, PO, keys,
                       fast, fscratch, iscratch, out, row_flags)


@gpu_kernel
def matmul_streaming_kernel(a, b, b_transposed, a_batch, b_batch, m, n, k, out, C, PA, PP, PB,
                            PO, keys, row_flags):
    """The sequential and blocked orders, tiled through shared memory. b is B (C-order
    (batch, k, n)) or, when b_transposed, B transposed ((batch, n, k)); grid: (column tiles,
    row tiles, batch), each dimension strided, blocks of TILE x TILE threads."""
    a_tile = cuda.shared.array(A_TILE, types.float64)
    b_tile = cuda.shared.array(B_TILE, types.float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    mode = C[C_MODE]
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    blocked = C[C_ORDER] == BLOCKED
    block = C[C_BLOCK] if blocked else k + 1
    fast = S.fast_path_limits(PA)
    for o in range(cuda.blockIdx.z, a_batch.size, cuda.gridDim.z):
        for ti in range(cuda.blockIdx.y, (m + TILE - 1) // TILE, cuda.gridDim.y):
            for tj in range(cuda.blockIdx.x, (n + TILE - 1) // TILE, cuda.gridDim.x):
                i, j, live, r = tile_output(o, ti, tj, TILE, m, n)
                base = r * k
                s = 0.0
                total = 0.0
                flags = np.int64(0)
                for l0 in range(0, k, TK):
                    # Stage A[i, l0 + tx] and B[l0 + t, tile column c] (read along memory).
                    l = l0 + tx
                    a_tile[ty * TK + tx] = a[(a_batch[o] * m + i) * k + l] if i < m and l < k \
                        else 0.0
                    if b_transposed:
                        col = tj * TILE + ty
                        b_tile[tx * (TILE + PAD) + ty] = \
                            b[(b_batch[o] * n + col) * k + l] if col < n and l < k else 0.0
                    else:
                        l = l0 + ty
                        b_tile[ty * (TILE + PAD) + tx] = \
                            b[(b_batch[o] * k + l) * n + j] if j < n and l < k else 0.0
                    cuda.syncthreads()
                    if live:
                        for t in range(min(TK, k - l0)):
                            l = l0 + t
                            av, bv, f = S.load_term(a_tile, ty * TK + t, b_tile,
                                                    t * (TILE + PAD) + tx, C, PP, keys, base + l)
                            rand = S.draw(keys, K_STEP, base + l, mode)
                            if l % block == 0:
                                s, g = S.first_product(av, bv, PA, mode, sat, ftz, rand, rbits,
                                                       exact, fast)
                            else:
                                t, g = S.add_product(s, av, bv, PA, mode, sat, ftz, rand, rbits,
                                                     exact, fast)
                                g |= S.swamped(s, t, av, bv)
                                s = t
                            flags |= f | g
                            if blocked and (l % block == block - 1 or l == k - 1):
                                rand = S.draw(keys, K_PROMOTE, base + l // block, mode)
                                if l < block:
                                    total, g = S.round_scalar(s, PB, mode, sat, ftz, rand, rbits)
                                else:
                                    grown, g = S.add_round(total, s, PB, mode, sat, ftz, rand,
                                                           rbits)
                                    g |= S.swamped(total, grown, s, 1.0)
                                    total = grown
                                flags |= g
                    cuda.syncthreads()
                if live:
                    finish_output(out, row_flags, r, k, total if blocked else s, flags, C, PO,
                                  keys)


@gpu_kernel
def matmul_fused_kernel(a, bt, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags):
    """The fused order (multi-term adder over groups of C_TERMS terms), tiled through shared
    memory: a stage holds whole groups, as many as fit in FUSED_TK terms. bt is B transposed."""
    a_tile = cuda.shared.array(FUSED_A_TILE, types.float64)
    b_tile = cuda.shared.array(FUSED_B_TILE, types.float64)
    hs = cuda.local.array(GROUP_SCRATCH, types.float64)
    ls = cuda.local.array(GROUP_SCRATCH, types.float64)
    ss = cuda.local.array(GROUP_SCRATCH, types.int64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tid = ty * FUSED_TILE + tx
    terms = C[C_TERMS]
    chunk = (FUSED_TK // terms) * terms
    stride = FUSED_TILE + PAD
    for o in range(cuda.blockIdx.z, a_batch.size, cuda.gridDim.z):
        for ti in range(cuda.blockIdx.y, (m + FUSED_TILE - 1) // FUSED_TILE, cuda.gridDim.y):
            for tj in range(cuda.blockIdx.x, (n + FUSED_TILE - 1) // FUSED_TILE, cuda.gridDim.x):
                i, j, live, r = tile_output(o, ti, tj, FUSED_TILE, m, n)
                s = 0.0
                flags = np.int64(0)
                for l0 in range(0, k, chunk):
                    width = min(chunk, k - l0)
                    for e in range(tid, FUSED_TILE * chunk, FUSED_TILE * FUSED_TILE):
                        row = e // chunk
                        t = e - row * chunk
                        gi = ti * FUSED_TILE + row
                        gj = tj * FUSED_TILE + row
                        a_tile[row * FUSED_TK + t] = \
                            a[(a_batch[o] * m + gi) * k + l0 + t] if gi < m and t < width else 0.0
                        b_tile[t * stride + row] = \
                            bt[(b_batch[o] * n + gj) * k + l0 + t] if gj < n and t < width else 0.0
                    cuda.syncthreads()
                    if live:
                        for g0 in range(l0, l0 + width, terms):
                            s, f = S.fused_group(a_tile, ty * FUSED_TK - l0, 1, b_tile,
                                                 tx - l0 * stride, stride, g0, min(g0 + terms, k),
                                                 s, g0 > 0, r * k, g0 // terms, C, PA, keys, hs,
                                                 ls, ss)
                            flags |= f
                    cuda.syncthreads()
                if live:
                    finish_output(out, row_flags, r, k, s, flags, C, PO, keys)


SIGNATURES = {
    "reduce_kernel": [(F64, F64, types.int64, F64, CONFIG, PARAMS, PARAMS, PARAMS, PARAMS, KEYS,
                       I64)],
    "matmul_kernel": [(F64, F64, I64, I64, types.int64, types.int64, types.int64, F64, CONFIG,
                       PARAMS, PARAMS, PARAMS, PARAMS, KEYS, I64)],
    "matmul_streaming_kernel": [(F64, F64, types.boolean, I64, I64, types.int64, types.int64,
                                 types.int64, F64, CONFIG, PARAMS, PARAMS, PARAMS, PARAMS, KEYS,
                                 I64)],
    "matmul_fused_kernel": [(F64, F64, I64, I64, types.int64, types.int64, types.int64, F64,
                             CONFIG, PARAMS, PARAMS, KEYS, I64)],
}
KERNELS = {"reduce_kernel": reduce_kernel, "matmul_kernel": matmul_kernel,
           "matmul_streaming_kernel": matmul_streaming_kernel,
           "matmul_fused_kernel": matmul_fused_kernel}
