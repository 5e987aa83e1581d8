"""GPU accumulation kernels (reduce, matmul: generic, streaming-tiled and fused-tiled) against
the CPU kernels, bit for bit with per-element flags, and the public sum/dot/matmul on
backend="gpu". Needs a usable numba.cuda: run by test_gpu_sim.py (see gpu_rounding_cases.py).

Under the simulator the tiles are 4 x 4 (fused: 2 x 2) and grids have at most two blocks per
dimension, so these small shapes span several tiles, stages and strided blocks."""
import zlib

import numpy as np
import pytest

import numprec
from numprec.codes import KERNEL_ORDERS as ORDERS
from numprec.kernels import gpu
from numprec.testing import parity_accum as accum

GPU = gpu.kernel_set()
M, N, K = 5, 5, 9
A_BATCH, B_BATCH = [0, 1, 0], [0, 0, 1]  # three products of two A and two B matrices


def _id(value):
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
    return value


@pytest.mark.parametrize("order, mode, formats, options", list(accum.matmul_cases()), ids=_id)
def test_matmul_matches_cpu(order, mode, formats, options):
    formats = dict(formats)
    inputs = formats.pop("inputs", "bf16")
    seed = zlib.crc32(f"{order} {mode} {formats} {options}".encode()) % 10000
    a = accum.grid_operands(inputs, (2, M, K), seed)
    b = accum.grid_operands(inputs, (2, K, N), seed + 1)
    result = accum.check_matmul(GPU, order, mode, a, b, A_BATCH, B_BATCH, seed=seed, **formats,
                                **options)
    assert result.ok, result.describe()


def test_matmul_with_special_values_and_edge_shapes():
    a = accum.grid_operands("fp8_e5m2", (1, 3, 6), 1, specials=True)
    b = accum.grid_operands("fp8_e5m2", (1, 6, 2), 2, specials=True)
    for order in ORDERS:
        result = accum.check_matmul(GPU, order, "rne", a, b, [0], [0], acc="fp16")
        assert result.ok, result.describe()
    for m, n, k in ((1, 1, 1), (4, 4, 4), (1, 7, 0)):  # single element, one full tile, no terms
        a = accum.grid_operands("bf16", (1, m, k), 3)
        b = accum.grid_operands("bf16", (1, k, n), 4)
        for order in ("sequential", "blocked", "fused"):
            result = accum.check_matmul(GPU, order, "sr", a, b, [0], [0], seed=9)
            assert result.ok, result.describe()


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("products", [False, True])
def test_reduce_matches_cpu(order, products):
    x = accum.grid_operands("bf16", (6, 13), 5, specials=True)
    y = accum.grid_operands("bf16", (6, 13), 6) if products else None
    result = accum.check_reduce(GPU, order, "sr", x, y, acc="bf16", out="fp16", seed=4)
    assert result.ok, result.describe()


@pytest.mark.parametrize("order", ORDERS)
def test_public_accumulation_is_identical_on_both_backends(order):
    rng = np.random.default_rng(3)
    a = numprec.round(rng.standard_normal((2, 3, 7)), "bf16")
    b = numprec.round(rng.standard_normal((7, 4)), "bf16")
    x = numprec.round(rng.standard_normal((3, 10)), "fp16")
    options = dict(order=order, mode="sr", seed=11)
    for op, call in (("matmul", lambda be, f: numprec.matmul(a, b, acc="bf16", flags=f,
                                                              backend=be, **options)),
                     ("dot", lambda be, f: numprec.dot(a[0], a[1], "fp16", flags=f,
                                                        backend=be, **options)),
                     ("sum", lambda be, f: numprec.sum(x, "fp16", axis=0, flags=f, backend=be,
                                                        **options))):
        flags = {be: numprec.Flags() for be in ("cpu", "gpu")}
        cpu, gpu = (np.asarray(call(be, flags[be])) for be in ("cpu", "gpu"))
        assert cpu.shape == gpu.shape
        assert np.array_equal(cpu.view(np.int64), gpu.view(np.int64)), op
        assert flags["cpu"] == flags["gpu"], op
