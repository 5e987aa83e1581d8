"""GPU (numba.cuda) rounding kernels, and the scalar kernels compiled as CUDA device functions.

The scalar modules are the very ones the CPU kernels compile (scalar_round, rng, scalar_arith,
scalar_accum), compiled here once, into `S`, with `compile_scalars` and the CUDA primitives: one
source of truth, so the GPU gives the CPU's bits (gpu_arith and gpu_accum use `S` too). Array
kernels use a grid-stride loop over flat contiguous arrays; each element takes the branch-light
fast path (round_fast) and falls back to the general round_scalar, as on the CPU. Exception flags
are tallied per thread, summed per block in shared memory and added to `counts` with one atomic
per block and flag, and only when asked. Launching (grid size, host/device copies) lives in
numprec.kernels.gpu_dispatch.
"""
import inspect

import numpy as np
from numba import cuda, from_dtype, types

from . import rng, scalar_accum, scalar_arith, scalar_round
from .codes import NFLAGS, P_NBITS, SR
from .gpu_jit import SIMULATOR, gpu_device, gpu_kernel
from .jit import compile_scalars, scalar_names

# Slots of the tally array: the NFLAGS flag counts, then elements with no bit pattern (encode).
TALLY_SLOTS = NFLAGS + 1
UNENCODABLE = NFLAGS

if SIMULATOR:
    # The simulator runs device code as Python, and does not implement the libdevice bit casts.
    @gpu_device
    def _f64_bits(x):
        return np.float64(x).view(np.int64)

    @gpu_device
    def _bits_f64(b):
        return np.int64(b).view(np.float64)
else:
    from numba.cuda import libdevice
    _f64_bits = libdevice.double_as_longlong
    _bits_f64 = libdevice.longlong_as_double

PRIMITIVES = {"f64_bits": _f64_bits, "bits_f64": _bits_f64}


SCALAR_MODULES = (scalar_round, rng, scalar_arith, scalar_accum)
S = compile_scalars(SCALAR_MODULES,
                    [name for m in SCALAR_MODULES for name in scalar_names(m, PRIMITIVES)],
                    gpu_device, PRIMITIVES)

round_value = S.round_value  # round_fast, else round_scalar: (value, flags)
fast_path_limits = S.fast_path_limits
encode_scalar = S.encode_scalar
decode_scalar = S.decode_scalar
random62 = S.random62


@gpu_device
def tally_flags(local, flags):
    """Count each raised flag bit of one element in the thread's local tally."""
    for k in range(NFLAGS):
        local[k] += (flags >> k) & 1


@gpu_device
def publish_tallies(local, block, counts):
    """Sum the threads' tallies in shared memory, then add each block total to counts once.
    Every thread of the block must call this (it synchronises the block)."""
    for k in range(TALLY_SLOTS):
        if local[k] != 0:
            cuda.atomic.add(block, k, local[k])
    cuda.syncthreads()
    t = cuda.threadIdx.x
    if t < TALLY_SLOTS and block[t] != 0:
        cuda.atomic.add(counts, t, block[t])


@gpu_device
def start_tallies(local, block):
    for k in range(TALLY_SLOTS):
        local[k] = 0
    if cuda.threadIdx.x < TALLY_SLOTS:
        block[cuda.threadIdx.x] = 0
    cuda.syncthreads()


@gpu_kernel
def round_kernel(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = round(x[i]); counts[f] += elements raising flag f (when want_flags)."""
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    block = cuda.shared.array(TALLY_SLOTS, types.int64)
    if want_flags:
        start_tallies(local, block)
    fast = fast_path_limits(P)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        rand = random62(key, offset + i) if mode == SR else np.int64(0)
        value, flags = round_value(x[i], P, mode, saturate, ftz, rand, rbits, fast)
        out[i] = value
        if want_flags:
            tally_flags(local, flags)
    if want_flags:
        publish_tallies(local, block, counts)


@gpu_kernel
def encode_kernel(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = bit pattern of round(x[i]), -1 where the format has none; counts[UNENCODABLE]
    counts those (always), counts[f] the flags (when want_flags)."""
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    block = cuda.shared.array(TALLY_SLOTS, types.int64)
    start_tallies(local, block)
    fast = fast_path_limits(P)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        rand = random62(key, offset + i) if mode == SR else np.int64(0)
        value, flags = round_value(x[i], P, mode, saturate, ftz, rand, rbits, fast)
        code = encode_scalar(value, P)
        out[i] = code
        if code == -1:  # not `< 0`: 64-bit patterns of negative values are negative int64
            local[UNENCODABLE] += 1
        if want_flags:
            tally_flags(local, flags)
    publish_tallies(local, block, counts)


@gpu_kernel
def decode_kernel(bits, out, P):
    """out[i] = value of the bit pattern bits[i]."""
    for i in range(cuda.grid(1), bits.size, cuda.gridsize(1)):
        out[i] = decode_scalar(np.int64(bits[i]), P)


# The argument types gpu_dispatch launches each kernel with (PTX-compiled by the tests).
PARAMS = types.UniTuple(types.int64, P_NBITS + 1)
F64 = types.float64[::1]
TALLIES = types.int64[::1]
ROUNDING_ARGS = (PARAMS, types.int64, types.boolean, types.boolean, types.uint64, types.int64,
                 types.int64, types.boolean, TALLIES)
BIT_PATTERN_DTYPES = (np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
SIGNATURES = {
    "round_kernel": [(F64, F64) + ROUNDING_ARGS],
    "encode_kernel": [(F64, types.int64[::1]) + ROUNDING_ARGS],
    "decode_kernel": [(types.Array(from_dtype(np.dtype(d)), 1, "C"), F64, PARAMS)
                      for d in BIT_PATTERN_DTYPES],
}
SCALAR_SIGNATURES = {
    "round_scalar": (types.float64, PARAMS, types.int64, types.boolean, types.boolean,
                     types.int64, types.int64),
    "encode_scalar": (types.float64, PARAMS),
    "decode_scalar": (types.int64, PARAMS),
    "random62": (types.uint64, types.int64),
}
KERNELS = {"round_kernel": round_kernel, "encode_kernel": encode_kernel,
           "decode_kernel": decode_kernel}
