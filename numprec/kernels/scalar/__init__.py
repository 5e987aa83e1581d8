"""The scalar kernels, the one source of every bit numprec computes.

Plain Python functions (rounding, arithmetic, accumulation, the random generator, flag counting)
that numprec.kernels.jit.compile_scalars compiles once per target: numprec.kernels.cpu.scalars
with numba.njit, numprec.kernels.gpu.scalars as CUDA device functions. Only the bit casts between
float64 and int64 (f64_bits, bits_f64) are bound per target. Nothing here imports numba.
"""
from . import accum, arith, flags, rng, rounding

MODULES = (rounding, rng, arith, accum, flags)