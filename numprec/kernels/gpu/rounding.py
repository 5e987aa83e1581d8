"""GPU (numba.cuda) kernels for rounding, encoding and decoding.

Grid-stride loops over flat contiguous arrays: each element takes the branch-light fast path
(round_fast) and falls back to the general round_scalar (scalar.accum.round_value), as on the
CPU; the mode is a runtime value, the same for every thread, so its branches never diverge.
Flags are tallied per thread and published per block (numprec.kernels.gpu.scalars), only when
asked. Launching (grid size, host/device copies) lives in numprec.kernels.gpu.launch.
"""
import numpy as np
from numba import cuda, from_dtype, types

from ...codes import TALLY_SLOTS
from .compiler import gpu_kernel
from .scalars import F64, I64, PARAMS, ROUNDING_ARGS, S, publish_tallies, start_tallies


@gpu_kernel
def rounding_kernel(encode, x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags,
                    counts):
    """out[i] = round(x[i]), or with `encode` its bit pattern (-1 where the format has none,
    counted in counts[TALLY_UNENCODABLE]); counts[f] += elements raising flag f when want_flags."""
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    block = cuda.shared.array(TALLY_SLOTS, types.int64)
    start_tallies(local, block)
    fast = S.fast_path_limits(P)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        value, flags = S.round_value(x[i], P, mode, saturate, ftz,
                                     S.element_draw(key, offset + i, mode), rbits, fast)
        if encode:
            out[i] = S.encode_counted(value, P, local)
        else:
            out[i] = value
        if want_flags:
            S.tally_flags(local, flags)
    publish_tallies(local, block, counts)


@gpu_kernel
def decode_kernel(bits, out, P):
    """out[i] = value of the bit pattern bits[i]."""
    for i in range(cuda.grid(1), bits.size, cuda.gridsize(1)):
        out[i] = S.decode_scalar(np.int64(bits[i]), P)


BIT_PATTERN_DTYPES = (np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
SIGNATURES = {
    "rounding_kernel": [(types.boolean, F64, F64) + ROUNDING_ARGS,
                        (types.boolean, F64, I64) + ROUNDING_ARGS],
    "decode_kernel": [(types.Array(from_dtype(np.dtype(d)), 1, "C"), F64, PARAMS)
                      for d in BIT_PATTERN_DTYPES],
}
KERNELS = {"rounding_kernel": rounding_kernel, "decode_kernel": decode_kernel}
