"""The engine's one call into numprec.round, and small kernels kept on the calling thread.

Training runs many small kernels (a batch of activations, a bias, a 32x64 by 64x256 product).
numprec's CPU rounding kernels and OpenBLAS are multi-threaded; on a busy machine waking their
thread pools costs milliseconds per call, far more than the work itself. Kernels below
SERIAL_BELOW elements (or multiply-adds) therefore run on the calling thread. Results are the
same bits: rounding is element-wise, and OpenBLAS splits a product over output blocks, never
inside one dot product.
"""
from __future__ import annotations

import numba
import numpy as np

from .. import ops as _ops

SERIAL_BELOW = 1 << 15
SERIAL_MATMUL_BELOW = 1 << 22  # multiply-adds


def _blas_controllers() -> list:
    """Thread controls of the BLAS libraries loaded so far (NumPy's among them), when
    threadpoolctl is installed; empty otherwise."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


_BLAS = _blas_controllers()


class serial_threads:
    """Run the enclosed numba kernels and BLAS calls on one thread."""

    __slots__ = ("_numba", "_blas")

    def __enter__(self):
        self._numba = numba.get_num_threads()
        numba.set_num_threads(1)
        self._blas = [lib.get_num_threads() for lib in _BLAS]
        for lib in _BLAS:
            lib.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        numba.set_num_threads(self._numba)
        for lib, threads in zip(_BLAS, self._blas):
            lib.set_num_threads(threads)
        return False


def round_array(x, fmt, mode: str = "rne", *, seed=None, saturate: bool = False) -> np.ndarray:
    """numprec.round(x, fmt, mode, ...) as a float64 ndarray (0-d for scalars)."""
    if np.size(x) >= SERIAL_BELOW:
        return np.asarray(_ops.round(x, fmt, mode, saturate=saturate, seed=seed))
    with serial_threads():
        return np.asarray(_ops.round(x, fmt, mode, saturate=saturate, seed=seed))


def float64_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul in float64 (small products on the calling thread)."""
    rows, cols = (a.shape[-2] if a.ndim > 1 else 1), (b.shape[-1] if b.ndim > 1 else 1)
    work = max(np.size(a) * cols, np.size(b) * rows)  # multiply-adds, batches included
    if work >= SERIAL_MATMUL_BELOW:
        return np.matmul(a, b)
    with serial_threads():
        return np.matmul(a, b)
