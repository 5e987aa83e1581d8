"""Every scalar kernel compiled once for the CPU, with the CPU's bit-cast primitives.

The array kernels of cpu, cpu_arith and cpu_accum all call these compiled functions (`S`), so
each scalar is compiled (and cached) once however many array kernels use it.
"""
import numpy as np

from . import rng, scalar_accum, scalar_arith, scalar_round
from .jit import compile_scalars, cpu_scalar, scalar_names

SCALAR_MODULES = (scalar_round, rng, scalar_arith, scalar_accum)


@cpu_scalar
def f64_bits(x):
    return np.float64(x).view(np.int64)


@cpu_scalar
def bits_f64(b):
    return np.int64(b).view(np.float64)


PRIMITIVES = {"f64_bits": f64_bits, "bits_f64": bits_f64}
S = compile_scalars(SCALAR_MODULES,
                    [name for module in SCALAR_MODULES for name in scalar_names(module, PRIMITIVES)],
                    cpu_scalar, PRIMITIVES)
