"""Public element-wise arithmetic: add, sub, mul, div, sqrt, fma.

Each result is the exact real result of the float64 operands rounded once to the format (see
numprec.kernels.scalar.arith for how), with IEEE special values and signed zeros: inf - inf,
0 * inf, 0 / 0, inf / inf and sqrt(x < 0) give NaN and raise invalid; x / 0 gives +-inf and raises
divbyzero; an exact zero sum is +0, or -0 in mode rdn (and for -0 + -0). NaN operands give NaN
and raise nothing. Operands broadcast like NumPy's; stochastic rounding draws element i's bits
from the flat C-order index i of the broadcast result, in a stream of its own per operation, so
add and mul with one seed do not share draws.
"""
from __future__ import annotations

import numpy as np

from ..codes import NCOUNTS, OP_CODE, SR, STREAM_ARITH
from ..kernels.scalar.rng import key_from_seed
from . import backend as _backend
from .backend import entry_point
from .validate import as_float64, check_flags, check_format, check_mode, check_rbits


def _run(op, operands, fmt, mode, saturate, ftz, seed, rbits, flags, backend):
    fmt = check_format(fmt)
    code = check_mode(mode)
    rbits = check_rbits(rbits, code)
    check_flags(flags)
    arrays = [as_float64(value, name) for name, value in operands]
    try:
        shape = np.broadcast_shapes(*(arr.shape for arr in arrays))
    except ValueError:
        shapes = " and ".join(f"{name} {arr.shape}" for (name, _), arr in zip(operands, arrays))
        raise ValueError(f"{op}: operand shapes do not broadcast: {shapes}") from None
    flat = [np.ascontiguousarray(np.broadcast_to(arr, shape)).reshape(-1) for arr in arrays]
    out = np.empty(flat[0].size, dtype=np.float64)
    # the kernels add their counts (+=): straight into the Flags
    counts = flags.all if flags is not None else np.zeros(NCOUNTS, dtype=np.int64)
    key = np.uint64(key_from_seed(seed, STREAM_ARITH[op]) if code == SR else 0)
    kernels = _backend.kernels(backend)
    common = (fmt.kernel_params, code, bool(saturate), bool(ftz), key, 0, rbits,
              flags is not None, counts)
    if op == "sqrt":
        entry_point(kernels, "sqrt_into")(flat[0], out, *common)
    elif op == "fma":
        entry_point(kernels, "fma_into")(flat[0], flat[1], flat[2], out, *common)
    else:
        entry_point(kernels, "binary_into")(OP_CODE[op], flat[0], flat[1], out, *common)
    return out.reshape(shape) if shape else out.reshape(())[()]


def add(a, b, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, flags=None,
        backend=None):
    """a + b rounded once to fmt (float64 in and out, NumPy broadcasting)."""
    return _run("add", (("a", a), ("b", b)), fmt, mode, saturate, ftz, seed, rbits, flags,
                backend)


def sub(a, b, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, flags=None,
        backend=None):
    """a - b rounded once to fmt."""
    return _run("sub", (("a", a), ("b", b)), fmt, mode, saturate, ftz, seed, rbits, flags,
                backend)


def mul(a, b, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, flags=None,
        backend=None):
    """a * b rounded once to fmt."""
    return _run("mul", (("a", a), ("b", b)), fmt, mode, saturate, ftz, seed, rbits, flags,
                backend)


def div(a, b, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, flags=None,
        backend=None):
    """a / b rounded once to fmt."""
    return _run("div", (("a", a), ("b", b)), fmt, mode, saturate, ftz, seed, rbits, flags,
                backend)


def sqrt(a, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, flags=None,
         backend=None):
    """sqrt(a) rounded once to fmt (sqrt(-0) = -0)."""
    return _run("sqrt", (("a", a),), fmt, mode, saturate, ftz, seed, rbits, flags, backend)


def fma(a, b, c, fmt, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None,
        flags=None, backend=None):
    """a * b + c with a single rounding to fmt."""
    return _run("fma", (("a", a), ("b", b), ("c", c)), fmt, mode, saturate, ftz, seed, rbits,
                flags, backend)
