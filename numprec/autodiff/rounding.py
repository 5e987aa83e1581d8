"""The engine's one call into numprec.round, and its float64 matrix product.

Training runs many small products (a 32x64 by 64x256 matmul). OpenBLAS is multi-threaded; on a
busy machine waking its thread pool costs milliseconds per call, far more than the work itself,
so products below SERIAL_MATMUL_BELOW multiply-adds run on the calling thread. The bits are the
same: OpenBLAS splits a product over blocks of the output, never inside one dot product.
(numprec's rounding kernels make the same choice for small arrays themselves.)
"""
from __future__ import annotations

import numpy as np

from .. import ops as _ops

SERIAL_MATMUL_BELOW = 1 << 22  # multiply-adds


def round_array(x, fmt, mode: str = "rne", *, seed=None, saturate: bool = False) -> np.ndarray:
    """numprec.round(x, fmt, mode, ...) as a float64 ndarray (0-d for scalars)."""
    return np.asarray(_ops.round(x, fmt, mode, saturate=saturate, seed=seed))


def _blas_controllers() -> list:
    """Thread controls of the BLAS libraries loaded so far (NumPy's among them), when
    threadpoolctl is installed; empty otherwise."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


_BLAS = _blas_controllers()


class single_threaded_blas:
    """Run the enclosed BLAS calls on one thread (restoring the thread counts after)."""

    __slots__ = ("_threads",)

    def __enter__(self):
        self._threads = [lib.get_num_threads() for lib in _BLAS]
        for lib in _BLAS:
            lib.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        for lib, threads in zip(_BLAS, self._threads):
            lib.set_num_threads(threads)
        return False


def float64_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul in float64 (small products on the calling thread)."""
    rows, cols = (a.shape[-2] if a.ndim > 1 else 1), (b.shape[-1] if b.ndim > 1 else 1)
    work = max(np.size(a) * cols, np.size(b) * rows)  # multiply-adds, batches included
    if work >= SERIAL_MATMUL_BELOW or not _BLAS:
        return np.matmul(a, b)
    with single_threaded_blas():
        return np.matmul(a, b)
