"""Every scalar kernel compiled once for the CPU, as the module `S`.

The array kernels of rounding, arith and accum all call these compiled functions (S.<name>), so
each scalar is compiled (and cached) once however many array kernels use it.
"""
from .. import scalar
from ..jit import compile_scalars, cpu_scalar

S = compile_scalars("numprec.kernels.cpu.S", scalar.MODULES, cpu_scalar)
