"""Host and device arrays of one GPU call, and launch shapes (used by numprec.kernels.gpu.launch).

Every data array of one call must be on the same side: NumPy arrays are copied to the device and
outputs copied back into the given array; device arrays (numba device arrays, real or simulated,
or any object with `__cuda_array_interface__`) are used in place, viewed flat. A host/device mix,
a device array of the wrong dtype (TypeError) or a non-contiguous device array (ValueError) is
refused; host inputs of any layout, and host integer bit patterns of any width, are copied into
the kernel's layout, which is exact.
"""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from . import is_device_array
from .compiler import SIMULATOR


def size_of(arr) -> int:
    return int(np.prod(getattr(arr, "shape", np.shape(arr))))


def check_sizes(entry, **sizes):
    """Each keyword is (array, expected size)."""
    for name, (arr, expected) in sizes.items():
        if size_of(arr) != expected:
            raise ValueError(f"{entry}: {name} has {size_of(arr)} elements, expected {expected}")


def launch_shape(n: int) -> tuple[int, int]:
    """(blocks, threads) of a grid-stride launch over n elements. Under the simulator (one
    Python thread per GPU thread) a tiny grid that still has two blocks and strides."""
    if SIMULATOR:
        return max(1, min(2, math.ceil(n / 16))), 16
    from numba import cuda
    threads = 256
    sm_count = cuda.get_current_device().MULTIPROCESSOR_COUNT
    return max(1, min(math.ceil(n / threads), 16 * sm_count)), threads


def tile_grid(batches: int, m: int, n: int, tile: int) -> tuple[int, int, int]:
    """Blocks of a tiled matmul: (column tiles, row tiles, batch), each at most the grid limit
    (the kernels stride over the rest)."""
    limit = 2 if SIMULATOR else 65535
    return (min(max(1, math.ceil(n / tile)), limit), min(max(1, math.ceil(m / tile)), limit),
            min(max(1, batches), limit))


@contextlib.contextmanager
def quiet_simulator():
    """Under the simulator the kernels run on NumPy scalars, which compute what the compiled code
    does (uint64 products wrap, inf - inf is NaN) but warn about it; there the warnings are
    noise."""
    with warnings.catch_warnings():
        if SIMULATOR:
            warnings.filterwarnings("ignore", r".* encountered in scalar", RuntimeWarning)
        yield


def to_device(host, dtype):
    """A parameter array (indices, keys, tallies) copied to the device."""
    from numba import cuda
    return cuda.to_device(np.ascontiguousarray(host, dtype=dtype).reshape(-1))


class Staged:
    """The data arrays of one call, on the device, and the copies back to the host."""

    def __init__(self, entry: str, **arrays):
        sides = {name: is_device_array(arr) for name, arr in arrays.items()}
        if len(set(sides.values())) > 1:
            device = [n for n, d in sides.items() if d]
            host = [n for n, d in sides.items() if not d]
            raise TypeError(f"{entry}: {', '.join(device)} on the device but {', '.join(host)} "
                            "on the host; pass all arrays of one call on the same side "
                            "(numba.cuda.to_device / .copy_to_host())")
        self.entry = entry
        self.on_device = any(sides.values())
        self.results = []  # (device array, host output) pairs to copy back

    def _device_view(self, name, arr, dtypes):
        from numba import cuda
        dev = arr if getattr(arr, "__cuda_ndarray__", False) is True else cuda.as_cuda_array(arr)
        if dev.dtype not in dtypes:
            raise TypeError(f"{self.entry}: device array {name} has dtype {dev.dtype}; the GPU "
                            f"kernels take {' or '.join(map(str, dtypes))} (convert it on the "
                            "device first)")
        if not dev.is_c_contiguous():
            raise ValueError(f"{self.entry}: device array {name} (shape {dev.shape}, strides "
                             f"{dev.strides}) is not C-contiguous; make a contiguous copy on the "
                             "device first")
        return dev.reshape(dev.size)

    def input(self, name, arr, *dtypes):
        """A data input on the device (dtypes: the accepted ones, the first preferred)."""
        dtypes = tuple(np.dtype(d) for d in dtypes)
        if self.on_device:
            return self._device_view(name, arr, dtypes)
        host = np.asarray(arr)
        if host.dtype not in dtypes:
            if not (host.dtype.kind in "iu" and dtypes[0].kind in "iu"):
                raise TypeError(f"{self.entry}: {name} has dtype {host.dtype}; expected "
                                f"{' or '.join(map(str, dtypes))}")
            host = host.astype(dtypes[0])  # integer bit patterns widen exactly
        return to_device(host, host.dtype)

    def output(self, name, arr, dtype):
        """A data output on the device, copied back by finish() when it came from the host."""
        dtype = np.dtype(dtype)
        if self.on_device:
            return self._device_view(name, arr, (dtype,))
        from numba import cuda
        host = arr
        if not (isinstance(host, np.ndarray) and host.dtype == dtype
                and host.flags.c_contiguous and host.flags.writeable):
            raise TypeError(f"{self.entry}: {name} must be a writeable C-contiguous {dtype} "
                            f"NumPy array, got {type(arr).__name__} "
                            f"{getattr(arr, 'dtype', '')}".rstrip())
        dev = cuda.device_array(host.size, dtype=dtype)
        self.results.append((dev, host))
        return dev

    def finish(self):
        for dev, host in self.results:
            dev.copy_to_host(host.reshape(-1))
