"""GPU arithmetic kernels (add, sub, mul, div, sqrt, fma) against the CPU kernels, bit for bit,
and the public arithmetic ops on backend="gpu". Needs a usable numba.cuda: run by
test_gpu_sim.py (see gpu_rounding_cases.py)."""
import zlib

import numpy as np
import pytest

import numprec
from numprec.kernels import gpu
from numprec.testing import parity as gpu_parity

GPU = gpu.kernel_set()
N = 32
_ARITY = {"sqrt": 1, "fma": 3}


def _id(value):
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
    return getattr(value, "name", value)


@pytest.mark.parametrize("fmt, op, mode, options", list(gpu_parity.arith_cases()), ids=_id)
def test_arith_matches_cpu(fmt, op, mode, options):
    seed = zlib.crc32(f"{fmt.name} {op} {mode}".encode())
    operands = gpu_parity.operand_inputs(fmt, N, _ARITY.get(op, 2), seed=seed % 10000)
    result = gpu_parity.check_arith(GPU, op, fmt, mode, operands, seed=seed, **options)
    assert result.ok, result.describe()


def test_special_operands_in_every_position():
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -3.0, 5e-324])
    a, b, c = (g.reshape(-1) for g in np.meshgrid(specials, specials, specials, indexing="ij"))
    for op, operands in (("add", (a, b)), ("sub", (a, b)), ("mul", (a, b)), ("div", (a, b)),
                         ("sqrt", (a,)), ("fma", (a, b, c))):
        for mode in ("rne", "rdn"):
            result = gpu_parity.check_arith(GPU, op, "fp16", mode, operands)
            assert result.ok, result.describe()


@pytest.mark.parametrize("op", gpu_parity.ARITH_OPS)
def test_public_arith_is_identical_on_both_backends(op):
    operands = gpu_parity.operand_inputs("bf16", 24, _ARITY.get(op, 2), seed=8)
    operands = [operands[0].reshape(4, 6)] + [v[:6] for v in operands[1:]]  # broadcasting
    results = {}
    for backend in ("cpu", "gpu"):
        flags = numprec.Flags()
        value = getattr(numprec, op)(*operands, "bf16", "sr", seed=5, flags=flags,
                                     backend=backend)
        results[backend] = (value.view(np.int64), flags)
    assert results["gpu"][0].shape == (4, 6)
    assert np.array_equal(results["cpu"][0], results["gpu"][0])
    assert results["cpu"][1] == results["gpu"][1]
