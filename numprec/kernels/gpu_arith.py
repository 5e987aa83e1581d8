"""GPU element-wise arithmetic kernels (add, sub, mul, div, sqrt, fma): the scalar_arith functions
(compiled as CUDA device functions in numprec.kernels.gpu) in kernels with the same signatures as
numprec.kernels.cpu_arith.

Each kernel is a grid-stride loop over flat contiguous arrays; flags are tallied as in
numprec.kernels.gpu (per block in shared memory, one atomic per block and flag), only when asked.
"""
import numpy as np
from numba import cuda, types

from .codes import SR
from .gpu import (F64, PARAMS, ROUNDING_ARGS, TALLY_SLOTS, S, publish_tallies, start_tallies,
                  tally_flags)
from .gpu_jit import gpu_kernel

random62 = S.random62
add_round = S.add_round
sub_round = S.sub_round
mul_round = S.mul_round
div_round = S.div_round
sqrt_round = S.sqrt_round
fma_round = S.fma_round


@gpu_kernel
def binary_kernel(op, a, b, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] op b[i] rounded once (op: scalar_arith.OP_ADD/SUB/MUL/DIV)."""
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    block = cuda.shared.array(TALLY_SLOTS, types.int64)
    if want_flags:
        start_tallies(local, block)
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        rand = random62(key, offset + i) if mode == SR else np.int64(0)
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
            tally_flags(local, flags)
    if want_flags:
        publish_tallies(local, block, counts)


@gpu_kernel
def sqrt_kernel(a, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = sqrt(a[i]) rounded once."""
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    block = cuda.shared.array(TALLY_SLOTS, types.int64)
    if want_flags:
        start_tallies(local, block)
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        rand = random62(key, offset + i) if mode == SR else np.int64(0)
        value, flags = sqrt_round(a[i], P, mode, saturate, ftz, rand, rbits)
        out[i] = value
        if want_flags:
            tally_flags(local, flags)
    if want_flags:
        publish_tallies(local, block, counts)


@gpu_kernel
def fma_kernel(a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] * b[i] + c[i] rounded once."""
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    block = cuda.shared.array(TALLY_SLOTS, types.int64)
    if want_flags:
        start_tallies(local, block)
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        rand = random62(key, offset + i) if mode == SR else np.int64(0)
        value, flags = fma_round(a[i], b[i], c[i], P, mode, saturate, ftz, rand, rbits)
        out[i] = value
        if want_flags:
            tally_flags(local, flags)
    if want_flags:
        publish_tallies(local, block, counts)


SIGNATURES = {
    "binary_kernel": [(types.int64, F64, F64, F64) + ROUNDING_ARGS],
    "sqrt_kernel": [(F64, F64) + ROUNDING_ARGS],
    "fma_kernel": [(F64, F64, F64, F64) + ROUNDING_ARGS],
}
SCALAR_SIGNATURES = {
    name: (types.float64,) * arity + (PARAMS, types.int64, types.boolean, types.boolean,
                                      types.int64, types.int64)
    for name, arity in (("add_round", 2), ("sub_round", 2), ("mul_round", 2), ("div_round", 2),
                        ("sqrt_round", 1), ("fma_round", 3))
}
KERNELS = {"binary_kernel": binary_kernel, "sqrt_kernel": sqrt_kernel, "fma_kernel": fma_kernel}
