"""The GPU kernel set: the CPU kernel set's entry points, run by numba.cuda.

numprec.ops.backend calls `kernel_set()` for backend="gpu". Each entry point takes the same
arguments as its CPU twin (numprec.kernels.cpu) and accepts either host or device arrays:

- NumPy arrays are copied to the device, and results copied back into the given `out`;
- device arrays (numba device arrays, or any object with `__cuda_array_interface__`) stay on the
  device: the kernel writes into the given device `out` and nothing is copied, except the 8
  tallies when flags are counted (and for encode, which must report unencodable values).

Every array of one call must be on the same side: a host/device mix raises TypeError, as does a
device array of the wrong dtype; a non-contiguous device array raises ValueError (host inputs of
any layout and integer dtype are copied into the kernel's layout, which is exact). `counts` is
always a host int64 array.
"""
from __future__ import annotations

import contextlib
import math
import warnings
from types import SimpleNamespace

import numpy as np

from .codes import NFLAGS


class GPUUnavailableError(RuntimeError):
    """backend="gpu" was asked for where numba.cuda has neither a GPU nor the simulator."""


_SIM_HINT = ("set NUMBA_ENABLE_CUDASIM=1 in the environment before Python starts (before numba "
             "is imported) to run the GPU kernels in the CUDA simulator, or use backend='cpu'")


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
    """The GPU entry points; raises GPUUnavailableError without a GPU or the simulator."""
    usable, what = availability()
    if not usable:
        raise GPUUnavailableError(f"backend='gpu' needs a CUDA GPU or the CUDA simulator, and "
                                  f"neither is usable here: {what}. To go on, {_SIM_HINT}.")
    return SimpleNamespace(name="gpu", device=what, round_into=round_into,
                           encode_into=encode_into, decode_into=decode_into)


def is_device_array(obj) -> bool:
    """A numba device array (real or simulated) or any __cuda_array_interface__ object."""
    return (getattr(obj, "__cuda_ndarray__", False) is True
            or hasattr(obj, "__cuda_array_interface__"))


# --- launching ------------------------------------------------------------------------------

def launch_shape(n: int) -> tuple[int, int]:
    """(blocks, threads) of a grid-stride launch over n elements. Under the simulator (one
    Python thread per GPU thread) a tiny grid that still has two blocks and strides."""
    from .gpu_jit import SIMULATOR
    if SIMULATOR:
        return max(1, min(2, math.ceil(n / 16))), 16
    from numba import cuda
    threads = 256
    sm_count = cuda.get_current_device().MULTIPROCESSOR_COUNT
    return max(1, min(math.ceil(n / threads), 16 * sm_count)), threads


class _Staged:
    """The arrays of one call, on the device, and how to hand results back."""

    def __init__(self, entry: str, on_device: bool):
        self.entry = entry
        self.on_device = on_device
        self.results = []  # (device array, host out) pairs to copy back

    def take(self, name, arr, dtypes, output=False):
        from numba import cuda
        dtypes = tuple(np.dtype(d) for d in dtypes)
        if self.on_device:
            dev = arr if getattr(arr, "__cuda_ndarray__", False) is True else cuda.as_cuda_array(arr)
            if dev.dtype not in dtypes:
                raise TypeError(f"{self.entry}: device array {name} has dtype {dev.dtype}; the "
                                f"GPU kernels take {' or '.join(map(str, dtypes))} (convert it on "
                                "the device first)")
            if not dev.is_c_contiguous():
                raise ValueError(f"{self.entry}: device array {name} (shape {dev.shape}, strides "
                                 f"{dev.strides}) is not C-contiguous; make a contiguous copy on "
                                 "the device first")
            return dev.reshape(dev.size)
        host = np.asarray(arr)
        if output:
            if host.dtype not in dtypes or not host.flags.c_contiguous or not host.flags.writeable:
                raise TypeError(f"{self.entry}: {name} must be a writeable C-contiguous "
                                f"{dtypes[0]} array, got {host.dtype} (contiguous: "
                                f"{host.flags.c_contiguous}, writeable: {host.flags.writeable})")
            dev = cuda.device_array(host.size, dtype=host.dtype)
            self.results.append((dev, host))
            return dev
        if host.dtype not in dtypes:
            if not (host.dtype.kind in "iu" and dtypes[0].kind in "iu"):
                raise TypeError(f"{self.entry}: {name} has dtype {host.dtype}; expected "
                                f"{' or '.join(map(str, dtypes))}")
            host = host.astype(dtypes[0])  # integer bit patterns widen exactly
        return cuda.to_device(np.ascontiguousarray(host).reshape(-1))

    def finish(self):
        for dev, host in self.results:
            dev.copy_to_host(host.reshape(-1))


def _stage(entry: str, **arrays) -> _Staged:
    """Decide the side of a call from its arrays; a host/device mix is an error."""
    sides = {name: is_device_array(arr) for name, arr in arrays.items()}
    if len(set(sides.values())) > 1:
        device = [n for n, d in sides.items() if d]
        host = [n for n, d in sides.items() if not d]
        raise TypeError(f"{entry}: {', '.join(device)} on the device but {', '.join(host)} on the "
                        "host; pass all arrays of one call on the same side (numba.cuda.to_device"
                        " / .copy_to_host())")
    return _Staged(entry, any(sides.values()))


def _check_sizes(entry, **arrays):
    sizes = {name: int(np.prod(getattr(arr, "shape", ()))) for name, arr in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{entry}: array sizes differ: "
                         + ", ".join(f"{n} has {s}" for n, s in sizes.items()))
    return next(iter(sizes.values()))


@contextlib.contextmanager
def quiet_simulator():
    """Under the simulator the uint64 generator runs on NumPy scalars, which wrap exactly as the
    compiled code does but warn on overflow; there the warning is noise."""
    from .gpu_jit import SIMULATOR
    with warnings.catch_warnings():
        if SIMULATOR:
            warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning)
        yield


def _tallies():
    from numba import cuda
    from .gpu import TALLY_SLOTS
    return cuda.to_device(np.zeros(TALLY_SLOTS, dtype=np.int64))


def _params(P):
    return tuple(int(v) for v in P)


def _check_counts(entry, counts):
    if not (isinstance(counts, np.ndarray) and counts.dtype == np.int64
            and counts.shape == (NFLAGS,)):
        raise TypeError(f"{entry}: counts must be a host int64 array of shape ({NFLAGS},)")


def _rounding(entry, kernel, x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags,
              counts, out_dtype):
    _check_counts(entry, counts)
    n = _check_sizes(entry, x=x, out=out)
    staged = _stage(entry, x=x, out=out)
    d_x = staged.take("x", x, (np.float64,))
    d_out = staged.take("out", out, (out_dtype,), output=True)
    if n == 0:
        return 0
    tallies = _tallies()
    blocks, threads = launch_shape(n)
    with quiet_simulator():
        kernel[blocks, threads](d_x, d_out, _params(P), int(mode), bool(saturate), bool(ftz),
                                np.uint64(key), int(offset), int(rbits), bool(want_flags), tallies)
    staged.finish()
    totals = tallies.copy_to_host()
    if want_flags:
        counts += totals[:NFLAGS]
    return int(totals[NFLAGS])


def round_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = round(x[i]) on the GPU (float64); counts += flag counts when want_flags."""
    from .gpu import round_kernel
    _rounding("round_into", round_kernel, x, out, P, mode, saturate, ftz, key, offset, rbits,
              want_flags, counts, np.float64)


def encode_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = bit pattern (int64) of round(x[i]) on the GPU; returns how many elements have no
    bit pattern (marked -1)."""
    from .gpu import encode_kernel
    return _rounding("encode_into", encode_kernel, x, out, P, mode, saturate, ftz, key, offset,
                     rbits, want_flags, counts, np.int64)


def decode_into(bits, out, P):
    """out[i] = value of the bit pattern bits[i] on the GPU."""
    from .gpu import BIT_PATTERN_DTYPES, decode_kernel
    n = _check_sizes("decode_into", bits=bits, out=out)
    staged = _stage("decode_into", bits=bits, out=out)
    d_bits = staged.take("bits", bits, BIT_PATTERN_DTYPES)
    d_out = staged.take("out", out, (np.float64,), output=True)
    if n:
        blocks, threads = launch_shape(n)
        decode_kernel[blocks, threads](d_bits, d_out, _params(P))
        staged.finish()
