"""GPU element-wise arithmetic (add, sub, mul, div, sqrt, fma): one grid-stride kernel running
the scalar.arith functions (compiled as CUDA device functions in numprec.kernels.gpu.scalars),
with the op codes and arguments of numprec.kernels.cpu.arith.arith_kernel.

Flags are tallied per thread and published per block (numprec.kernels.gpu.scalars), only when
asked.
"""
from numba import cuda, types

from ...codes import TALLY_SLOTS
from .compiler import gpu_kernel
from .scalars import F64, ROUNDING_ARGS, S, publish_tallies, start_tallies


@gpu_kernel
def arith_kernel(op, a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags,
                 counts):
    """out[i] = op(a[i], b[i], c[i]) rounded once (sqrt reads a, the binary ops a and b)."""
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    block = cuda.shared.array(TALLY_SLOTS, types.int64)
    if want_flags:
        start_tallies(local, block)
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        value, flags = S.arith_round(op, a[i], b[i], c[i], P, mode, saturate, ftz,
                                     S.element_draw(key, offset + i, mode), rbits)
        out[i] = value
        if want_flags:
            S.tally_flags(local, flags)
    if want_flags:
        publish_tallies(local, block, counts)


SIGNATURES = {"arith_kernel": [(types.int64, F64, F64, F64, F64) + ROUNDING_ARGS]}
KERNELS = {"arith_kernel": arith_kernel}
