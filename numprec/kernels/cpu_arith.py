"""CPU array kernels for the element-wise arithmetic ops (add, sub, mul, div, sqrt, fma).

The scalar kernels of scalar_arith come compiled from numprec.kernels.cpu_scalars. Flags are
counted per element into `counts` when asked.
"""
import numpy as np
from numba import prange

from .cpu_scalars import S
from .jit import cpu_parallel_kernel

random62 = S.random62
add_round = S.add_round
sub_round = S.sub_round
mul_round = S.mul_round
div_round = S.div_round
sqrt_round = S.sqrt_round
fma_round = S.fma_round
round_parts = S.round_parts


@cpu_parallel_kernel
def binary_kernel(op, a, b, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] op b[i] rounded once (op: scalar_arith.OP_ADD/SUB/MUL/DIV)."""
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = 0
    for i in prange(out.size):
        rand = random62(key, offset + i) if mode == 6 else np.int64(0)
        if op == 0:
            value, flags = add_round(a[i], b[i], P, mode, saturate, ftz, rand, rbits)
        elif op == 1:
            value, flags = sub_round(a[i], b[i], P, mode, saturate, ftz, rand, rbits)
        elif op == 2:
            value, flags = mul_round(a[i], b[i], P, mode, saturate, ftz, rand, rbits)
        else:
            value, flags = div_round(a[i], b[i], P, mode, saturate, ftz, rand, rbits)
        out[i] = value
        if want_flags:
            c0 += flags & 1
            c1 += (flags >> 1) & 1
            c2 += (flags >> 2) & 1
            c3 += (flags >> 3) & 1
            c4 += (flags >> 4) & 1
            c5 += (flags >> 5) & 1
            c6 += (flags >> 6) & 1
    if want_flags:
        counts[0] += c0
        counts[1] += c1
        counts[2] += c2
        counts[3] += c3
        counts[4] += c4
        counts[5] += c5
        counts[6] += c6


@cpu_parallel_kernel
def sqrt_kernel(a, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = sqrt(a[i]) rounded once."""
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = 0
    for i in prange(out.size):
        rand = random62(key, offset + i) if mode == 6 else np.int64(0)
        value, flags = sqrt_round(a[i], P, mode, saturate, ftz, rand, rbits)
        out[i] = value
        if want_flags:
            c0 += flags & 1
            c1 += (flags >> 1) & 1
            c2 += (flags >> 2) & 1
            c3 += (flags >> 3) & 1
            c4 += (flags >> 4) & 1
            c5 += (flags >> 5) & 1
            c6 += (flags >> 6) & 1
    if want_flags:
        counts[0] += c0
        counts[1] += c1
        counts[2] += c2
        counts[3] += c3
        counts[4] += c4
        counts[5] += c5
        counts[6] += c6


@cpu_parallel_kernel
def fma_kernel(a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] * b[i] + c[i] rounded once."""
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = 0
    for i in prange(out.size):
        rand = random62(key, offset + i) if mode == 6 else np.int64(0)
        value, flags = fma_round(a[i], b[i], c[i], P, mode, saturate, ftz, rand, rbits)
        out[i] = value
        if want_flags:
            c0 += flags & 1
            c1 += (flags >> 1) & 1
            c2 += (flags >> 2) & 1
            c3 += (flags >> 3) & 1
            c4 += (flags >> 4) & 1
            c5 += (flags >> 5) & 1
            c6 += (flags >> 6) & 1
    if want_flags:
        counts[0] += c0
        counts[1] += c1
        counts[2] += c2
        counts[3] += c3
        counts[4] += c4
        counts[5] += c5
        counts[6] += c6


@cpu_parallel_kernel
def round_parts_kernel(hi, lo, tail, scale, out, P, mode, saturate, ftz, key, offset, rbits):
    """out[i] = (hi[i] + lo[i] + tail[i]) * 2^scale[i] rounded once (exact references); hi[i]
    must be finite and nonzero and the parts must satisfy scalar_arith's invariants."""
    for i in prange(out.size):
        rand = random62(key, offset + i) if mode == 6 else np.int64(0)
        value, _ = round_parts(hi[i], lo[i], tail[i], scale[i], P, mode, saturate, ftz, rand,
                               rbits)
        out[i] = value
