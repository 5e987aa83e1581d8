"""Every scalar kernel compiled once as a CUDA device function, and the per-block flag tallies.

The scalar modules are the very ones the CPU compiles (numprec.kernels.scalar), compiled here
into the module `S` with `compile_scalars` and libdevice's bit casts: one source of truth, so the
GPU gives the CPU's bits. Exception flags are tallied per thread (scalar.flags.tally_flags),
summed per block in shared memory and added to the caller's tallies with one atomic per block
and slot. Also the argument types the launchers use (compiled to PTX by the tests).
"""
from numba import cuda, types

from ...codes import NCONFIG, NPARAMS, TALLY_SLOTS
from .. import scalar
from ..jit import compile_scalars
from .compiler import SIMULATOR, gpu_device

if SIMULATOR:  # device code runs as Python, with the scalar modules' own (view) bit casts
    PRIMITIVES = {}
else:
    from numba.cuda import libdevice
    PRIMITIVES = {"f64_bits": libdevice.double_as_longlong,
                  "bits_f64": libdevice.longlong_as_double}

S = compile_scalars("numprec.kernels.gpu.S", scalar.MODULES, gpu_device, PRIMITIVES)


@gpu_device
def start_tallies(local, block):
    """Zero the thread's tally and (first threads) the block's shared one."""
    for k in range(TALLY_SLOTS):
        local[k] = 0
    if cuda.threadIdx.x < TALLY_SLOTS:
        block[cuda.threadIdx.x] = 0
    cuda.syncthreads()


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


# Argument types of the launches (numprec.kernels.gpu.launch), for compile_ptx.
PARAMS = types.UniTuple(types.int64, NPARAMS)
CONFIG = types.UniTuple(types.int64, NCONFIG)
F64 = types.float64[::1]
I64 = types.int64[::1]
KEYS = types.uint64[::1]
ROUNDING_ARGS = (PARAMS, types.int64, types.boolean, types.boolean, types.uint64, types.int64,
                 types.int64, types.boolean, I64)
SCALAR_SIGNATURES = {
    "round_scalar": (types.float64, PARAMS, types.int64, types.boolean, types.boolean,
                     types.int64, types.int64),
    "encode_scalar": (types.float64, PARAMS),
    "decode_scalar": (types.int64, PARAMS),
    "random62": (types.uint64, types.int64),
    **{name: (types.float64,) * arity + (PARAMS, types.int64, types.boolean, types.boolean,
                                         types.int64, types.int64)
       for name, arity in (("add_round", 2), ("sub_round", 2), ("mul_round", 2),
                           ("div_round", 2), ("sqrt_round", 1), ("fma_round", 3))},
}
