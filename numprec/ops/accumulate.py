"""Public accumulation models: sum, dot and matmul with the rounding of real hardware.

A reduction adds n terms (x_i, or products a_i * b_i) in an accumulator format `acc`, in an
`order` (see numprec.kernels.scalar.accum), and rounds the result once more to the output format.
All three take their formats the same way: `fmt` (positional, or fmt=) is the default of both
the accumulator `acc` and the output format `out_fmt`, keywords that override it; matmul's
accumulator is fp32 when no format is given at all.
Inputs are taken as given (float64 values) unless `in_fmt` is set: then they are first rounded
to it, in the same mode. Products are exact unless `product_fmt` is set: then each product is
rounded to it once. Every rounding uses `mode`; stochastic rounding draws from a stream per kind
of rounding at index (output element, step), so results do not depend on threads or tiling.
Flags count output elements whose computation raised each flag at any step (rounding the inputs
to `in_fmt` is not counted: use numprec.round with flags= for that).
"""
from __future__ import annotations

import numbers
import os
import warnings
from dataclasses import dataclass

import numpy as np

from ..codes import (C_BLOCK, C_EXACT, C_FTZ, C_MODE, C_ORDER, C_RBITS, C_SAT, C_TERMS,
                     C_USE_PROD, C_USE_Y, C_WIDTH, K_INPUT_A, K_INPUT_B, K_OUT, MAX_FUSED_TERMS,
                     NCONFIG, NCOUNTS, NKEYS, NROLES, ORDER_CODE, ORDERS, RNE, SEQUENTIAL, SR,
                     STREAM_ACCUM)
from ..formats import Format, get_format
from ..kernels.scalar.rng import key_from_seed
from . import backend as _backend
from .backend import entry_point
from .native_fp32 import ieee_environment, round_fp32_in_place
from .validate import as_float64, check_flags, check_format, check_mode, check_rbits

DEFAULT_BLOCK = 128                  # DeepSeek-V3's promotion interval N_C
DEFAULT_FUSED_TERMS, DEFAULT_FUSED_WIDTH = 32, 14   # the Hopper FP8 model
MAX_FUSED_WIDTH = 53
MATMUL_DEFAULT_ACC = "fp32"          # matmul's accumulator when no format is given
_FP32 = get_format("fp32")


@dataclass(frozen=True)
class Plan:
    """A validated accumulation configuration."""
    op: str
    acc: object
    out: object
    inp: object
    product: object
    promote: object
    order: str
    config: tuple
    keys: np.ndarray


def _positive_int(value, name, upper=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 1 or (upper is not None and value > upper):
        bound = f"1..{upper}" if upper is not None else ">= 1"
        raise ValueError(f"{name}={value} is out of range; valid: {bound}")
    return int(value)


def _wider(a, b) -> bool:
    """a holds more significand bits than b (only compared between float formats)."""
    return isinstance(a, Format) and isinstance(b, Format) and a.precision > b.precision


_PLANS = {}  # the arguments of a plan that draws no fresh seed (and their types) -> the plan
_MAX_PLANS = 4096


def make_plan(op, fmt, acc, out, in_fmt, product_fmt, order, block, promote, fused_terms,
              fused_width, mode, saturate, ftz, seed, rbits, flags, uses_products):
    """Check every option of an accumulation op and pack them for the kernels; the plan of
    arguments seen before comes from a cache (their types are part of the key: block=128.0 is
    refused although it equals 128). sr without a seed draws a fresh one: never cached."""
    args = (op, fmt, acc, out, in_fmt, product_fmt, order, block, promote, fused_terms,
            fused_width, mode, saturate, ftz, seed, rbits, uses_products)
    try:
        key = (args, tuple(map(type, args)))
        plan = _PLANS.get(key)
    except TypeError:  # an unhashable argument: checked (and refused, or not) the long way
        key = plan = None
    if plan is not None:
        check_flags(flags)
        return plan
    plan = _new_plan(*args[:16], flags, uses_products)
    if key is not None and not (seed is None and plan.config[C_MODE] == SR):
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _new_plan(op, fmt, acc, out, in_fmt, product_fmt, order, block, promote, fused_terms,
              fused_width, mode, saturate, ftz, seed, rbits, flags, uses_products):
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; valid orders: {', '.join(ORDERS)}")
    code = check_mode(mode)
    rbits = check_rbits(rbits, code)
    check_flags(flags)
    acc = check_format(acc if acc is not None else fmt)
    out = check_format(out if out is not None else fmt)
    inp = check_format(in_fmt) if in_fmt is not None else None
    promote = check_format(promote)
    product = check_format(product_fmt) if product_fmt is not None else None
    if block is not None and order != "blocked":
        raise ValueError(f"block={block!r} applies only to order='blocked', not {order!r}")
    block = _positive_int(block, "block") if block is not None else DEFAULT_BLOCK
    for value, name in ((fused_terms, "fused_terms"), (fused_width, "fused_width")):
        if value is not None and order != "fused":
            raise ValueError(f"{name}={value!r} applies only to order='fused', not {order!r}")
    terms = _positive_int(DEFAULT_FUSED_TERMS if fused_terms is None else fused_terms,
                          "fused_terms", MAX_FUSED_TERMS)
    width = _positive_int(DEFAULT_FUSED_WIDTH if fused_width is None else fused_width,
                          "fused_width", MAX_FUSED_WIDTH)
    if order == "blocked" and _wider(acc, promote):
        raise ValueError(f"promote={promote.name} ({promote.precision} bits) is narrower than "
                         f"the accumulator {acc.name} ({acc.precision} bits): promotion must "
                         "widen the partial sums")
    if product is not None:
        if not uses_products:
            raise ValueError("product_fmt applies to products; sum has none")
        if order in ("fused", "fp64"):
            raise ValueError(f"product_fmt does not apply to order={order!r}: its products are "
                             + ("exact inside the multi-term adder" if order == "fused"
                                else "float64 products of BLAS"))
        if _wider(product, acc):
            raise ValueError(f"product_fmt={product.name} ({product.precision} bits) is wider "
                             f"than the accumulator {acc.name} ({acc.precision} bits): every "
                             "product would be rounded twice")
    keys = np.zeros(NROLES, dtype=np.uint64)
    if code == SR:
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        keys[:] = [key_from_seed(seed, STREAM_ACCUM[op] + role) for role in range(NROLES)]
    config = [0] * NCONFIG
    for slot, value in ((C_ORDER, ORDER_CODE[order]), (C_BLOCK, block), (C_TERMS, terms),
                        (C_WIDTH, width), (C_USE_Y, uses_products),
                        (C_USE_PROD, product is not None), (C_EXACT, False), (C_MODE, code),
                        (C_SAT, saturate), (C_FTZ, ftz), (C_RBITS, rbits)):
        config[slot] = int(value)
    return Plan(op, acc, out, inp, product, promote, order, tuple(config), keys)


def _with_exact(plan, exact):
    """The configuration with the kernels' hint that products are exact in float64."""
    return plan.config[:C_EXACT] + (int(exact),) + plan.config[C_EXACT + 1:]


def _fits_fp32(arr) -> bool:
    """Every value is a float32 value, so products of two are exact in float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.array_equal(arr.astype(np.float32).astype(np.float64), arr))


def round_inputs(arr, plan, role, backend):
    """The input rounded to plan.inp (identity without in_fmt), in its own stream (role
    K_INPUT_A or K_INPUT_B)."""
    if plan.inp is None:
        return arr
    flat = np.ascontiguousarray(arr).reshape(-1)
    out = np.empty_like(flat)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    c = plan.config
    _backend.kernels(backend).round_into(flat, out, plan.inp.kernel_params, c[C_MODE],
                                         bool(c[C_SAT]), bool(c[C_FTZ]), plan.keys[role],
                                         0, c[C_RBITS], False, counts)
    return out.reshape(arr.shape)


def round_result(values, plan, flags, backend):
    """The fp64 order's single rounding of a float64 result (a temporary of the caller's, which
    this may overwrite) to the output format. On one thread: BLAS's threads keep spinning for a
    while after the product, and a parallel rounding right behind them fights them for the
    cores (10x slower for a 256 x 256 product). fp32 in rne without flags takes the CPU's own
    float32 rounding (numprec.ops.native_fp32: the kernel's bits, in place)."""
    c = plan.config
    if (flags is None and c[C_MODE] == RNE and not c[C_SAT] and not c[C_FTZ]
            and plan.out == _FP32 and isinstance(values, np.ndarray)
            and values.dtype == np.float64 and values.flags.c_contiguous
            and values.flags.writeable and (backend or _backend.get_backend()) == "cpu"
            and ieee_environment()):
        return round_fp32_in_place(values)
    flat = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    out = np.empty_like(flat)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    from ..kernels.jit import threads_for  # numba loads on the first kernel call, not on import
    with threads_for(0):
        _backend.kernels(backend).round_into(flat, out, plan.out.kernel_params, c[C_MODE],
                                             bool(c[C_SAT]), bool(c[C_FTZ]), plan.keys[K_OUT], 0,
                                             c[C_RBITS], flags is not None, counts)
    if flags is not None:
        flags.add(counts)
    return out.reshape(np.shape(values))


def count_flags(row_flags, flags):
    if flags is not None:
        flags.add([np.count_nonzero(row_flags & (1 << bit)) for bit in range(NCOUNTS)])


def reduce_rows(x, y, plan, flags, backend):
    """Reduce each row of the 2-D arrays x (and y, same shape, for products)."""
    rows, n = x.shape
    out = np.empty(rows, dtype=np.float64)
    row_flags = np.zeros(rows, dtype=np.int64)
    exact = y is None or plan.product is not None or (_fits_fp32(x) and _fits_fp32(y))
    kernels = _backend.kernels(backend)
    xf = np.ascontiguousarray(x).reshape(-1)
    yf = xf if y is None else np.ascontiguousarray(y).reshape(-1)
    entry_point(kernels, "reduce_into")(
        xf, yf, n, out, _with_exact(plan, exact), plan.acc.kernel_params,
        (plan.product or plan.acc).kernel_params, plan.promote.kernel_params,
        plan.out.kernel_params, plan.keys[:NKEYS], row_flags)
    count_flags(row_flags, flags)
    return out


def matmul_3d(a, b, batch, plan, flags, backend):
    """out[o] = a[a_index[o]] @ b[b_index[o]] for the broadcast batch shape `batch`;
    a: (..., m, k), b: (..., k, n) with their own batch shapes."""
    m, k = a.shape[-2:]
    n = b.shape[-1]
    a_index = np.broadcast_to(np.arange(int(np.prod(a.shape[:-2]))).reshape(a.shape[:-2]),
                              batch).reshape(-1).astype(np.int64)
    b_index = np.broadcast_to(np.arange(int(np.prod(b.shape[:-2]))).reshape(b.shape[:-2]),
                              batch).reshape(-1).astype(np.int64)
    out = np.empty(a_index.size * m * n, dtype=np.float64)
    row_flags = np.zeros(out.size, dtype=np.int64)
    if out.size == 0 or k == 0:
        out[:] = 0.0
        return out.reshape(batch + (m, n))
    exact = plan.product is not None or (_fits_fp32(a) and _fits_fp32(b))
    config = _with_exact(plan, exact)
    kernels = _backend.kernels(backend)
    af = np.ascontiguousarray(a).reshape(-1)
    if plan.config[C_ORDER] == SEQUENTIAL and plan.product is None:
        bf = np.ascontiguousarray(b).reshape(-1)
        entry_point(kernels, "matmul_sequential_into")(
            af, bf, a_index, b_index, m, n, k, out, config, plan.acc.kernel_params,
            plan.out.kernel_params, plan.keys[:NKEYS], row_flags, plan.config[C_MODE])
    else:
        bt = np.ascontiguousarray(np.swapaxes(b, -1, -2)).reshape(-1)
        entry_point(kernels, "matmul_into")(
            af, bt, a_index, b_index, m, n, k, out, config, plan.acc.kernel_params,
            (plan.product or plan.acc).kernel_params, plan.promote.kernel_params,
            plan.out.kernel_params, plan.keys[:NKEYS], row_flags)
    count_flags(row_flags, flags)
    return out.reshape(batch + (m, n))


def _axis(axis, ndim):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {ndim} dimension(s)")
    return int(axis) % ndim


def _broadcast(op, left, right, a_shape, b_shape):
    if left == right:
        return left
    try:
        return np.broadcast_shapes(left, right)
    except ValueError:
        raise ValueError(f"{op}: a has shape {a_shape} and b has shape {b_shape}, whose "
                         f"{'batch' if op == 'matmul' else 'other'} dimensions do not broadcast"
                         ) from None


def _scalar_or(result):
    return result if result.ndim else result.reshape(())[()]


def sum(x, fmt=None, *, axis=-1, acc=None, out_fmt=None, in_fmt=None, order="sequential",
        block=None, promote="fp32", fused_terms=None, fused_width=None, mode="rne",
        saturate=False, ftz=False, seed=None, rbits=None, flags=None, backend=None):
    """Sum of x along `axis`, accumulated in `acc` (default fmt) in the given order and rounded
    to `out_fmt` (default fmt). order: sequential, pairwise, blocked (block terms per block,
    default 128, partial sums promoted to `promote`), kahan, fused (fused_terms terms aligned
    and truncated to fused_width bits, default 32 and 14: the Hopper FP8 model), fp64 (float64,
    one rounding). x is taken as given unless in_fmt is set (then rounded to it first)."""
    acc, out_fmt = resolve_formats("sum", fmt, acc, out_fmt)
    plan = make_plan("sum", acc, acc, out_fmt, in_fmt, None, order, block, promote, fused_terms,
                     fused_width, mode, saturate, ftz, seed, rbits, flags, False)
    arr = as_float64(x, "x")
    arr = round_inputs(arr.reshape(1) if arr.ndim == 0 else arr, plan, K_INPUT_A, backend)
    moved = np.moveaxis(arr, _axis(axis, arr.ndim), -1)
    lead, n = moved.shape[:-1], moved.shape[-1]
    if plan.order == "fp64":
        return _scalar_or(round_result(np.sum(moved, axis=-1), plan, flags, backend))
    rows = int(np.prod(lead))
    return _scalar_or(reduce_rows(moved.reshape(rows, n), None, plan, flags, backend)
                      .reshape(lead))


def dot(a, b, fmt=None, *, axis=-1, acc=None, out_fmt=None, in_fmt=None, product_fmt=None,
        order="sequential", block=None, promote="fp32", fused_terms=None, fused_width=None,
        mode="rne", saturate=False, ftz=False, seed=None, rbits=None, flags=None, backend=None):
    """Inner products of a and b along `axis` (other dimensions broadcast), products exact
    unless product_fmt is given; options as for numprec.sum."""
    acc, out_fmt = resolve_formats("dot", fmt, acc, out_fmt)
    plan = make_plan("dot", acc, acc, out_fmt, in_fmt, product_fmt, order, block, promote,
                     fused_terms, fused_width, mode, saturate, ftz, seed, rbits, flags, True)
    A, B = as_float64(a, "a"), as_float64(b, "b")
    if A.ndim == 0 or B.ndim == 0:
        raise ValueError(f"dot needs arrays of at least one dimension; got shapes {A.shape} "
                         f"and {B.shape}")
    ax_a, ax_b = _axis(axis, A.ndim), _axis(axis, B.ndim)
    if A.shape[ax_a] != B.shape[ax_b]:
        raise ValueError(f"dot: a has shape {A.shape} and b has shape {B.shape}; their lengths "
                         f"along axis {axis} ({A.shape[ax_a]} and {B.shape[ax_b]}) differ")
    A = np.moveaxis(round_inputs(A, plan, K_INPUT_A, backend), ax_a, -1)
    B = np.moveaxis(round_inputs(B, plan, K_INPUT_B, backend), ax_b, -1)
    n = A.shape[-1]
    lead = _broadcast("dot", A.shape[:-1], B.shape[:-1], np.shape(a), np.shape(b))
    A, B = np.broadcast_to(A, lead + (n,)), np.broadcast_to(B, lead + (n,))
    if plan.order == "fp64":
        return _scalar_or(round_result(np.einsum("...i,...i->...", A, B), plan, flags, backend))
    rows = int(np.prod(lead))
    return _scalar_or(reduce_rows(A.reshape(rows, n), B.reshape(rows, n), plan, flags, backend)
                      .reshape(lead))


def resolve_formats(op, fmt=None, acc=None, out_fmt=None, out=None):
    """(accumulator, output format) of sum, dot or matmul: fmt is the default of both, acc and
    out_fmt override it; with no format at all matmul accumulates in fp32 and the others refuse.
    out is matmul's deprecated name of out_fmt."""
    if out is not None:
        if isinstance(out, np.ndarray) or hasattr(out, "__cuda_array_interface__"):
            raise TypeError(f"{op}: out= names an output format (deprecated: use out_fmt=); "
                            f"numprec.{op} does not write into an output array")
        if out_fmt is not None:
            raise TypeError(f"{op}: give out_fmt only (out= is its deprecated name)")
        warnings.warn(f"numprec.{op}(..., out=FMT) is deprecated; use out_fmt=FMT (NumPy "
                      "users read out= as an output array)", DeprecationWarning, stacklevel=3)
        out_fmt = out
    if acc is None:
        acc = fmt if fmt is not None else MATMUL_DEFAULT_ACC if op == "matmul" else None
    if acc is None:
        raise TypeError(f"{op}() needs a format: give fmt (the accumulator's and the output's) "
                        "or acc=")
    return acc, (out_fmt if out_fmt is not None else fmt if fmt is not None else acc)


def matmul(a, b, fmt=None, *, acc=None, out_fmt=None, in_fmt=None, product_fmt=None,
           order="sequential", block=None, promote="fp32", fused_terms=None, fused_width=None,
           mode="rne", saturate=False, ftz=False, seed=None, rbits=None, flags=None,
           backend=None, out=None):
    """a @ b with NumPy's matmul rules (1-D operands, broadcast batch dimensions), accumulated
    in `acc` (default fmt, or fp32 when no format is given) and rounded to `out_fmt` (default
    fmt, else acc); options as numprec.sum. `out=` is a deprecated name of out_fmt."""
    acc, out_fmt = resolve_formats("matmul", fmt, acc, out_fmt, out)
    plan = make_plan("matmul", acc, acc, out_fmt, in_fmt, product_fmt, order, block, promote,
                     fused_terms, fused_width, mode, saturate, ftz, seed, rbits, flags, True)
    A, B = as_float64(a, "a"), as_float64(b, "b")
    if A.ndim == 0 or B.ndim == 0:
        raise ValueError(f"matmul needs arrays of at least one dimension; got shapes {A.shape} "
                         f"and {B.shape}")
    A2 = round_inputs(A, plan, K_INPUT_A, backend)
    B2 = round_inputs(B, plan, K_INPUT_B, backend)
    A2 = A2[None, :] if A.ndim == 1 else A2
    B2 = B2[:, None] if B.ndim == 1 else B2
    if A2.shape[-1] != B2.shape[-2]:
        raise ValueError(f"matmul: a has shape {A.shape} and b has shape {B.shape}; the inner "
                         f"dimensions ({A2.shape[-1]} and {B2.shape[-2]}) differ")
    batch = _broadcast("matmul", A2.shape[:-2], B2.shape[:-2], A.shape, B.shape)
    if plan.order == "fp64":
        result = round_result(np.matmul(A2, B2), plan, flags, backend)
    else:
        result = matmul_3d(A2, B2, batch, plan, flags, backend)
    if A.ndim == 1:
        result = result[..., 0, :]
    if B.ndim == 1:
        result = result[..., 0]
    return _scalar_or(result)
