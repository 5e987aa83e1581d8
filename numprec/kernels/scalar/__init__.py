"""The scalar kernels, the one source of every bit numprec computes.

Plain Python functions (rounding and its fast paths, arithmetic, accumulation, the random
generator, flag counting) that numprec.kernels.jit.compile_scalars compiles once per target:
numprec.kernels.cpu.scalars with numba.njit, numprec.kernels.gpu.scalars as CUDA device
functions. Only the bit casts between float64 and int64 (f64_bits, bits_f64) are bound per
target. Nothing here imports numba.
"""
import importlib

# The modules in the order compile_scalars binds them; each is imported when first asked for
# (importing numprec reads the random generator's seed helpers only).
_MODULE_NAMES = ("rounding", "fast", "rng", "arith", "accum", "flags")


def __getattr__(name):
    if name == "MODULES":
        return tuple(importlib.import_module(f"{__name__}.{module}") for module in _MODULE_NAMES)
    if name in _MODULE_NAMES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")