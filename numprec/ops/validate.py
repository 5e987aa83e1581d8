"""Argument checking shared by every public op: formats, modes, arrays, seeds, flags."""
from __future__ import annotations

import numbers

import numpy as np

from ..formats import get_format
from ..codes import MODE_CODE, MODES, SR, SR_MAX_BITS
from .flags import Flags

_EXACT_INT_LIMIT = 2 ** 53
_AS_IS = (np.dtype(np.float64), np.dtype(np.float32))  # what the CPU rounding kernels read


def check_format(fmt):
    return get_format(fmt)


def check_mode(mode) -> int:
    if not isinstance(mode, str) or mode not in MODE_CODE:
        raise ValueError(f"invalid rounding mode {mode!r}; valid modes: {', '.join(MODES)}")
    return MODE_CODE[mode]


def check_rbits(rbits, mode_code: int) -> int:
    if rbits is None:
        return SR_MAX_BITS
    if isinstance(rbits, bool) or not isinstance(rbits, numbers.Integral):
        raise TypeError(f"rbits must be an int in 1..{SR_MAX_BITS}, got {rbits!r}")
    if not 1 <= rbits <= SR_MAX_BITS:
        raise ValueError(f"rbits={rbits} is out of range; valid: 1..{SR_MAX_BITS}")
    if mode_code != SR:
        raise ValueError(f"rbits={rbits} only applies to mode 'sr'")
    return int(rbits)


def check_flags(flags):
    if flags is not None and not isinstance(flags, Flags):
        raise TypeError(f"flags must be a numprec.Flags, got {type(flags).__name__}")
    return flags


def as_rounding_input(x, name: str = "x") -> np.ndarray:
    """x for the rounding kernels: a float32 array as it is (C-contiguous; the kernels widen
    each element exactly), anything else as as_float64 makes it."""
    if type(x) is np.ndarray and x.flags.c_contiguous and x.dtype in _AS_IS:  # (most calls)
        return x
    if isinstance(x, (np.ndarray, np.float32)) and x.dtype == np.float32:
        return np.require(x, requirements="C")
    return as_float64(x, name)


def check_out(out, shape, dtype, name: str = "round") -> np.ndarray:
    """`out=` of a rounding: a writeable C-contiguous ndarray of the result's shape and dtype."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: out must be a numpy array, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"{name}: out has shape {out.shape}, the result has shape "
                         f"{tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"{name}: out has dtype {out.dtype}, the result has dtype "
                        f"{np.dtype(dtype)}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError(f"{name}: out must be a writeable C-contiguous array")
    return out


def as_float64(x, name: str = "x") -> np.ndarray:
    """Any real array-like as a float64 ndarray, refusing what cannot convert exactly."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as err:
            raise TypeError(f"{name} must be a real number or array of them: {err}") from None
    kind = arr.dtype.kind
    if kind == "f":
        if arr.dtype.itemsize > 8:
            raise TypeError(f"{name} has dtype {arr.dtype}; wider than float64 is not supported")
        return np.require(arr, dtype=np.float64, requirements='C')
    if kind in "iub":
        if kind != "b" and arr.size and np.abs(arr.reshape(-1).astype(object)).max() > _EXACT_INT_LIMIT:
            raise ValueError(f"{name} holds integers beyond 2**53, which float64 cannot hold "
                             "exactly")
        return np.require(arr, dtype=np.float64, requirements='C')
    if kind == "V" and arr.dtype.itemsize in (1, 2):  # ml_dtypes extension types
        return np.require(arr.astype(np.float64), requirements='C')
    raise TypeError(f"{name} must be real numbers (float16/32/64, int or bool); got dtype "
                    f"{arr.dtype}" + (" (complex values are not supported)" if kind == "c" else ""))
