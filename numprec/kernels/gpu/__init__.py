"""The GPU kernel set: numba.cuda kernels over the scalar kernels compiled as device functions.

Importing this package does not import numba.cuda: `kernel_set()` checks that a GPU (or the CUDA
simulator, NUMBA_ENABLE_CUDASIM=1) is usable first, and raises GPUUnavailableError naming why
not. Modules: compiler (how kernels are compiled), scalars (the device functions, tallies,
argument types), rounding / arith / accum (the kernels), arrays (host and device arrays),
launch (the entry points).
"""
from __future__ import annotations

from types import SimpleNamespace

__all__ = ["GPUUnavailableError", "availability", "kernel_set", "is_device_array"]


class GPUUnavailableError(RuntimeError):
    """backend="gpu" was asked for where numba.cuda has neither a GPU nor the simulator."""


_SIM_HINT = ("set NUMBA_ENABLE_CUDASIM=1 in the environment before Python starts (before numba "
             "is imported) to run the GPU kernels in the CUDA simulator, or use backend='cpu'")


def is_device_array(obj) -> bool:
    """A numba device array (real or simulated) or any __cuda_array_interface__ object."""
    return (getattr(obj, "__cuda_ndarray__", False) is True
            or hasattr(obj, "__cuda_array_interface__"))


def availability() -> tuple[bool, str]:
    """(whether backend="gpu" can run here, and on what or why not)."""
    try:
        from numba import cuda
    except ImportError as err:
        return False, (f"numba.cuda cannot be imported ({err}); install the 'cuda' extra "
                       "(numba-cuda[cu13])")
    if cuda.config.ENABLE_CUDASIM:
        return True, "CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    if cuda.is_available():
        return True, f"GPU {cuda.get_current_device().name}"
    from numba.cuda.cudadrv.driver import driver
    error = (driver.initialization_error or "").strip()
    reason = f"the CUDA driver is unusable ({error.splitlines()[0]})" if error else \
        "the CUDA driver found no GPU"
    return False, reason


def kernel_set() -> SimpleNamespace:
    """The GPU entry points (numprec.kernels.ENTRY_POINTS); raises GPUUnavailableError without
    a GPU or the simulator."""
    usable, what = availability()
    if not usable:
        raise GPUUnavailableError(f"backend='gpu' needs a CUDA GPU or the CUDA simulator, and "
                                  f"neither is usable here: {what}. To go on, {_SIM_HINT}.")
    from . import launch  # imports numba.cuda: only once the GPU is known to be usable
    return SimpleNamespace(
        name="gpu", device=what, round_into=launch.round_into, encode_into=launch.encode_into,
        decode_into=launch.decode_into, binary_into=launch.binary_into,
        sqrt_into=launch.sqrt_into, fma_into=launch.fma_into, reduce_into=launch.reduce_into,
        matmul_into=launch.matmul_into, matmul_sequential_into=launch.matmul_sequential_into)
