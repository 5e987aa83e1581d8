"""The CPU kernel set: numba.njit array kernels over the compiled scalars (cpu/scalars.py)."""
from types import SimpleNamespace

from . import accum, arith, rounding, sequential_matmul

_KERNEL_SET = SimpleNamespace(
    name="cpu", device="CPU", round_into=rounding.round_into, encode_into=rounding.encode_into,
    decode_into=rounding.decode_into, binary_into=arith.binary_into, sqrt_into=arith.sqrt_into,
    fma_into=arith.fma_into, reduce_into=accum.reduce_kernel, matmul_into=accum.matmul_kernel,
    matmul_sequential_into=sequential_matmul.matmul_sequential_kernel)


def kernel_set() -> SimpleNamespace:
    """The CPU entry points (numprec.kernels.ENTRY_POINTS)."""
    return _KERNEL_SET
