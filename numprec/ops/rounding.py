"""Public rounding API: round, encode, decode."""
from __future__ import annotations

import numpy as np

from ..codes import NCOUNTS, SR, STREAM_ROUND
from ..formats import FixedPoint
from ..kernels.gpu import is_device_array
from ..kernels.scalar.rng import key_from_seed
from . import backend as _backend
from .validate import (as_float64, as_rounding_input, check_flags, check_format, check_mode,
                       check_out, check_rbits)

_CONTAINERS = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}
_DECODE_TABLES: dict = {}


def _options(fmt, mode, seed, rbits, flags):
    """The checked options of a rounding: (format, mode code, random bits, stream key)."""
    fmt = check_format(fmt)
    code = check_mode(mode)
    rbits = check_rbits(rbits, code)
    check_flags(flags)
    key = np.uint64(key_from_seed(seed, STREAM_ROUND)) if code == SR else _NO_KEY
    return fmt, code, rbits, key


_NO_KEY = np.uint64(0)  # the stream key of the deterministic modes (which draw nothing)


def _prepare(x, fmt, mode, seed, rbits, flags, kernels):
    """The checked options and the input array: float32 arrays stay float32 for the CPU kernels
    (the GPU's take float64)."""
    fmt, code, rbits, key = _options(fmt, mode, seed, rbits, flags)
    arr = as_rounding_input(x) if kernels.name == "cpu" else as_float64(x)
    return fmt, code, rbits, arr, key


def result_dtype(x_dtype, fmt) -> np.dtype:
    """What round returns: float32 for float32 input when every value of the format is a
    float32 value (fp32 and narrower, qM.N with M + N <= 24), float64 otherwise."""
    return _FLOAT32 if x_dtype == _FLOAT32 and fmt.fits_float32 else _FLOAT64


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def _shaped(out, like):
    return out.reshape(like.shape) if like.ndim else out.reshape(())[()]


def _device_kernels(backend, name):
    """The GPU kernel set for a call whose input is a CUDA device array."""
    kernels = _backend.kernels(backend if backend is not None else "gpu")
    if kernels.name != "gpu":
        raise TypeError(f"{name}: the input is a CUDA device array but backend={backend!r}; use "
                        "backend='gpu' or copy it to the host first (.copy_to_host())")
    return kernels


def _device_out(shape, dtype):
    from numba import cuda
    return cuda.device_array(shape, dtype=dtype)


def _on_device(name, kernel_name, x, fmt, mode, saturate, ftz, seed, rbits, flags, backend,
               out_dtype):
    """round/encode of a device array: computed and returned on the device."""
    fmt, code, rbits, key = _options(fmt, mode, seed, rbits, flags)
    kernels = _device_kernels(backend, name)
    out = _device_out(x.shape, out_dtype)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    bad = getattr(kernels, kernel_name)(x, out, fmt.kernel_params, code, bool(saturate),
                                        bool(ftz), key, 0, rbits, flags is not None, counts)
    if bad:
        raise ValueError(f"format {fmt.name} has no bit pattern for {bad} element(s) (NaN or "
                         "inf in a format without them)")
    if flags is not None:
        flags.add(counts)
    return out


def round(x, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, flags=None,
          backend=None, out=None):
    """Round x to the format once, exactly (same shape). float64 out, or float32 out for
    float32 input when every value of the format is a float32 value (result_dtype): float32
    arrays are read as they are, never copied to float64.

    mode: rne, rna, rtz, rup, rdn, rto or sr (stochastic: a pure function of seed and element
    index; rbits=k uses k random bits). saturate clamps overflow to +-max; ftz flushes subnormal
    results to signed zero; flags (a numprec.Flags) counts the exceptions raised. out: an array
    of the result's shape and dtype (writeable, C-contiguous) to write into; it is returned.
    """
    if not isinstance(x, np.ndarray) and is_device_array(x):
        if out is not None:
            raise TypeError("round: out= takes host arrays; a device array's result is a new "
                            "device array")
        return _on_device("round", "round_into", x, fmt, mode, saturate, ftz, seed, rbits, flags,
                          backend, np.float64)
    kernels = _backend.kernels(backend)
    fmt, code, rbits, arr, key = _prepare(x, fmt, mode, seed, rbits, flags, kernels)
    dtype = result_dtype(x.dtype if isinstance(x, (np.ndarray, np.generic)) else _FLOAT64, fmt)
    flat = arr.reshape(-1)
    shaped = check_out(out, arr.shape, dtype) if out is not None else np.empty(arr.shape, dtype)
    target = shaped.reshape(-1)  # a view (C-contiguous): the kernels write into it
    # the CPU kernels write float32 or float64; the GPU's write float64, narrowed here (exactly:
    # every value of the format is a float32 value)
    # (and an out= that overlaps the input gets the result through a scratch array: the general
    # pass reads inputs after the fast pass wrote its outputs)
    direct = ((kernels.name == "cpu" or dtype == _FLOAT64)
              and not (out is not None and np.may_share_memory(out, arr)))
    kernel_out = target if direct else np.empty(flat.shape, dtype=np.float64)
    # the kernels add their counts (+=): straight into the Flags (monitors pass one per op)
    counts = flags.all if flags is not None else np.zeros(NCOUNTS, dtype=np.int64)
    kernels.round_into(flat, kernel_out, fmt.kernel_params, code, bool(saturate), bool(ftz), key,
                       0, rbits, flags is not None, counts)
    if not direct:
        target[...] = kernel_out
    return out if out is not None else _shaped(target, arr)


def encode(x, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, flags=None,
           backend=None):
    """Bit patterns of round(x, fmt, ...), right-aligned in uint8/16/32/64."""
    if is_device_array(x):
        container = _CONTAINERS[check_format(fmt).container_bits]
        return _on_device("encode", "encode_into", x, fmt, mode, saturate, ftz, seed, rbits,
                          flags, backend, container)
    kernels = _backend.kernels(backend)
    fmt, code, rbits, arr, key = _prepare(x, fmt, mode, seed, rbits, flags, kernels)
    flat = arr.reshape(-1)
    # The kernels write the container type directly (no second pass over an int64 copy).
    out = np.empty(flat.shape, dtype=_CONTAINERS[fmt.container_bits])
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    bad = kernels.encode_into(flat, out, fmt.kernel_params, code, bool(saturate), bool(ftz),
                              key, 0, rbits, flags is not None, counts)
    if bad:  # only NaN lacks a pattern (formats without NaN saturate inf)
        first = float(flat[np.argmax(np.isnan(flat))])
        raise ValueError(f"format {fmt.name} has no bit pattern for {first!r} ({bad} element(s)); "
                         "it has no NaN" + ("" if isinstance(fmt, FixedPoint) else " or inf"))
    if flags is not None:
        flags.add(counts)
    return _shaped(out, arr)


def decode(bits, fmt, *, backend=None):
    """float64 values of bit patterns (any integer dtype, right-aligned) in the format.
    CUDA device arrays (round, encode, decode alike) are computed and returned on the device."""
    fmt = check_format(fmt)
    if is_device_array(bits):
        out = _device_out(bits.shape, np.float64)
        _device_kernels(backend, "decode").decode_into(bits, out, fmt.kernel_params)
        return out
    arr = np.asarray(bits)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"decode takes integer bit patterns, got dtype {arr.dtype}")
    flat = np.ascontiguousarray(arr.reshape(-1))
    if flat.size:
        low, high = int(flat.min()), int(flat.max())
        if low < 0 or high >= 1 << fmt.nbits:
            bad = low if low < 0 else high
            raise ValueError(f"bit pattern {bad} is out of range for {fmt.name} "
                             f"({fmt.nbits} bits: 0..{(1 << fmt.nbits) - 1})")
    kernels = _backend.kernels(backend)
    if fmt.nbits <= 16 and kernels.name == "cpu":
        table = _decode_table(fmt)
        out = table[flat.astype(np.intp)]
    else:
        out = np.empty(flat.shape, dtype=np.float64)
        kernels.decode_into(flat.astype(np.int64), out, fmt.kernel_params)
    return _shaped(out, arr)


def _decode_table(fmt):
    """All 2^nbits values of a small format, computed once per format."""
    table = _DECODE_TABLES.get(fmt)
    if table is None:
        patterns = np.arange(1 << fmt.nbits, dtype=np.int64)
        table = np.empty(patterns.shape, dtype=np.float64)
        _backend.kernels("cpu").decode_into(patterns, table, fmt.kernel_params)
        table.setflags(write=False)
        _DECODE_TABLES[fmt] = table
    return table
