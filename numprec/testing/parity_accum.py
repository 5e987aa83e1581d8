"""Bit-for-bit comparison of a kernel set's accumulation entry points (reduce, matmul) with the
CPU's: the same configuration tuple, keys and operands through both, the outputs compared as bit
patterns and the per-element flags exactly. Used by the simulator tests and gpu_check.py.
"""
from __future__ import annotations

import numpy as np

from ..codes import (C_BLOCK, C_EXACT, C_FTZ, C_MODE, C_ORDER, C_RBITS, C_SAT, C_TERMS,
                     C_USE_PROD, C_USE_Y, C_WIDTH, KERNEL_ORDERS, MODE_CODE, MODES, NCONFIG,
                     NCOUNTS, NKEYS, ORDER_CODE, SR_MAX_BITS, STREAM_ACCUM)
from ..formats import get_format
from ..kernels.scalar.rng import key_from_seed
from .parity import CPU, Parity, stress_inputs


def accumulation_config(order, mode, *, block=8, terms=4, width=14, use_y=True, product=False,
                        exact=True, saturate=False, ftz=False, rbits=SR_MAX_BITS) -> tuple:
    """The configuration tuple of scalar.accum (slots C_* of numprec.codes)."""
    config = [0] * NCONFIG
    for slot, value in ((C_ORDER, ORDER_CODE[order]), (C_BLOCK, block), (C_TERMS, terms),
                        (C_WIDTH, width), (C_USE_Y, use_y), (C_USE_PROD, product),
                        (C_EXACT, exact), (C_MODE, MODE_CODE[mode]), (C_SAT, saturate),
                        (C_FTZ, ftz), (C_RBITS, rbits)):
        config[slot] = int(value)
    return tuple(config)


def accumulation_keys(seed) -> np.ndarray:
    """The kernels' keys (roles K_STEP .. K_MERGE) of numprec.matmul under `seed`."""
    return np.array([key_from_seed(seed, STREAM_ACCUM["matmul"] + role) for role in range(NKEYS)],
                    dtype=np.uint64)


def grid_operands(fmt, shape, seed, specials=False) -> np.ndarray:
    """Values of fmt's grid (finite unless `specials`), as the inputs of a real low-precision
    matmul; fp32-representable formats keep every product exact in float64."""
    x = stress_inputs(fmt, int(np.prod(shape)) * 2 + 8, seed)
    fmt = get_format(fmt)
    if not specials:
        x = x[np.isfinite(x) & (np.abs(x) <= fmt.max)]
    return np.resize(x, shape).astype(np.float64)


def _flag_counts(row_flags):
    return [int(np.count_nonzero(row_flags & (1 << bit))) for bit in range(NCOUNTS)]


def _compare(kernel, label, options, outs, flags):
    bits = [o.view(np.int64) for o in outs]
    bad = np.flatnonzero((bits[0] != bits[1]) | (flags[0] != flags[1]))
    first = ""
    if bad.size:
        i = bad[0]
        first = (f"(first at output {i}: cpu {outs[0][i]!r} flags {flags[0][i]:#x}, gpu "
                 f"{outs[1][i]!r} flags {flags[1][i]:#x})")
    return Parity(kernel, label, options.get("mode", "-"), options, int(outs[0].size),
                  int(bad.size), first, _flag_counts(flags[0]), _flag_counts(flags[1]))


def check_matmul(gpu_set, order, mode, a, b, a_batch, b_batch, *, acc="fp32", out="fp32",
                 product=None, promote="fp32", seed=0, sequential_entry=False, **config):
    """matmul over batches: a (A, m, k), b (B, k, n), output o = a[a_batch[o]] @ b[b_batch[o]].
    sequential_entry runs matmul_sequential_into (B as is) instead of matmul_into (B^T)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    m, k = a.shape[-2:]
    n = b.shape[-1]
    a_batch = np.asarray(a_batch, dtype=np.int64)
    b_batch = np.asarray(b_batch, dtype=np.int64)
    PA, PO = get_format(acc).kernel_params, get_format(out).kernel_params
    PP = get_format(product or acc).kernel_params
    PB = get_format(promote).kernel_params
    C = accumulation_config(order, mode, product=product is not None, **config)
    keys = accumulation_keys(seed)
    outs, flags = [], []
    for side in ("cpu", "gpu"):
        result = np.empty(a_batch.size * m * n)
        row_flags = np.zeros(result.size, dtype=np.int64)
        if sequential_entry:
            entry = (CPU if side == "cpu" else gpu_set).matmul_sequential_into
            entry(a.reshape(-1), b.reshape(-1), a_batch, b_batch, m, n, k, result, C, PA, PO,
                  keys, row_flags, MODE_CODE[mode])
        else:
            entry = (CPU if side == "cpu" else gpu_set).matmul_into
            bt = np.ascontiguousarray(np.swapaxes(b, -1, -2)).reshape(-1)
            entry(a.reshape(-1), bt, a_batch, b_batch, m, n, k, result, C, PA, PP, PB, PO, keys,
                  row_flags)
        outs.append(result)
        flags.append(row_flags)
    label = f"acc={get_format(acc).name} out={get_format(out).name}" + (
        f" product={get_format(product).name}" if product else "")
    options = dict(mode=mode, order=order, m=m, n=n, k=k, **config)
    if sequential_entry:
        options["entry"] = "matmul_sequential_into"
    return _compare("matmul", label, options, outs, flags)


def check_reduce(gpu_set, order, mode, x, y=None, *, acc="fp32", out="fp32", product=None,
                 promote="fp32", seed=0, **config):
    """Row reductions of x (rows, n), or of the products x * y, through reduce_into."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    rows, n = x.shape
    use_y = y is not None
    y = x if y is None else np.ascontiguousarray(y, dtype=np.float64)
    C = accumulation_config(order, mode, use_y=use_y, product=product is not None, **config)
    params = [get_format(f).kernel_params for f in (acc, product or acc, promote, out)]
    keys = accumulation_keys(seed)
    outs, flags = [], []
    for entry in (CPU.reduce_into, gpu_set.reduce_into):
        result = np.empty(rows)
        row_flags = np.zeros(rows, dtype=np.int64)
        entry(x.reshape(-1), y.reshape(-1), n, result, C, *params, keys, row_flags)
        outs.append(result)
        flags.append(row_flags)
    options = dict(mode=mode, order=order, rows=rows, n=n, products=use_y, **config)
    return _compare("reduce", f"acc={get_format(acc).name} out={get_format(out).name}", options,
                    outs, flags)


def matmul_cases(modes=MODES):
    """(order, mode, formats, options): every mode for the tiled orders (sequential, blocked,
    fused) and rne/sr for the others, with fp32 accumulation of exact products of bf16 inputs;
    then narrow accumulators, rounded products, inexact products (float64 inputs), saturation
    and flush-to-zero, the sequential entry, a wrapping fixed-point accumulator and unsigned
    formats. formats["inputs"] is the grid the operands are drawn from (see grid_operands); the
    rest go to check_matmul."""
    for order in KERNEL_ORDERS:
        for mode in (modes if order in ("sequential", "blocked", "fused") else ("rne", "sr")):
            yield order, mode, {}, {}
    for order in KERNEL_ORDERS:
        yield order, "sr", {"acc": "fp16", "out": "fp8_e4m3fn"}, {"saturate": True}
        yield order, "rtz", {"acc": "fp32", "inputs": "fp64"}, {"exact": False}
        if order != "fused":
            yield order, "rna", {"acc": "bf16", "product": "bf16"}, {}
    for mode in ("rne", "sr"):
        yield "sequential", mode, {"acc": "bf16", "out": "fp32"}, {"sequential_entry": True}
    yield "blocked", "rup", {"acc": "fp8_e5m2", "promote": "fp16"}, {"block": 3, "ftz": True}
    yield "fused", "rne", {"acc": "fp32"}, {"terms": 7, "width": 24}
    # a wrapping int8 accumulator (integer hardware) in every order, and the unsigned formats
    for order in KERNEL_ORDERS:
        yield order, "rne", {"acc": "int8_wrap", "out": "q15.0", "inputs": "int8"}, {}
    yield "sequential", "sr", {"acc": "q3.4_wrap", "out": "q3.4_wrap", "inputs": "q3.4"}, {}
    yield "sequential", "rne", {"acc": "fp8_ue4m3", "out": "fp8_e8m0fnu",
                                "inputs": "fp8_ue4m3"}, {}
