"""The parity checker (numprec.testing.parity*) catches every kind of difference: it is run
here against stand-in "GPU" kernel sets built from the CPU kernels, exact or subtly broken, so it
needs no CUDA."""
from types import SimpleNamespace

import numpy as np
import pytest

import numprec
from numprec.kernels import cpu
from numprec.testing import parity as gpu_parity
from numprec.testing import parity_accum as accum

CPU = cpu.kernel_set()


def _stand_in(break_value=False, break_flags=False, break_sign_of_zero=False):
    """The CPU kernels under the GPU entry-point names, optionally with one defect."""
    def damage(out, counts=None):
        if break_value:
            out.view(np.int64)[out.size // 2] ^= 1  # one ulp in one element
        if break_sign_of_zero:
            out[out == 0.0] = 0.0  # -0 becomes +0
        if break_flags and counts is not None:
            counts[0] += 1

    def rounding(kernel):
        def entry(*args):
            result = kernel(*args)
            out, counts = args[-10], args[-1]
            damage(out if out.dtype == np.float64 else out.view(np.float64), counts)
            return result
        return entry

    def matmul(kernel):
        def entry(*args):
            kernel(*args)
            out, row_flags = args[7], args[-1]
            damage(out)
            if break_flags:
                row_flags[0] ^= 1
        return entry

    return SimpleNamespace(
        round_into=rounding(CPU.round_into), encode_into=rounding(CPU.encode_into),
        decode_into=CPU.decode_into, binary_into=rounding(CPU.binary_into),
        sqrt_into=rounding(CPU.sqrt_into), fma_into=rounding(CPU.fma_into),
        matmul_into=matmul(CPU.matmul_into), reduce_into=CPU.reduce_into)


X = gpu_parity.stress_inputs("fp16", 64, seed=2)


def test_identical_kernels_pass():
    exact = _stand_in()
    assert gpu_parity.check_rounding(exact, "fp16", "sr", X, seed=3).ok
    assert gpu_parity.check_arith(exact, "fma", "bf16", "rto",
                                  gpu_parity.operand_inputs("bf16", 32, 3)).ok
    a = accum.grid_operands("bf16", (1, 3, 5), 1)
    b = accum.grid_operands("bf16", (1, 5, 2), 2)
    assert accum.check_matmul(exact, "pairwise", "rne", a, b, [0], [0]).ok


@pytest.mark.parametrize("defect", ["break_value", "break_flags", "break_sign_of_zero"])
def test_every_defect_is_caught(defect):
    broken = _stand_in(**{defect: True})
    x = np.concatenate([X, [-0.0, -1e-30]])  # negative zero results for the sign defect
    result = gpu_parity.check_rounding(broken, "fp16", "rtz", x)
    assert not result.ok
    assert ("mismatching" in result.describe()) and ("identical" not in result.describe())
    if defect != "break_flags":
        assert result.mismatches >= 1 and "first at" in result.first
    a = np.abs(accum.grid_operands("bf16", (1, 3, 5), 1))
    b = accum.grid_operands("bf16", (1, 5, 2), 2)
    b[0, :, 0] = -0.0  # a column of -0: that output column is -0
    assert not accum.check_matmul(broken, "kahan", "rdn", a, b, [0], [0]).ok


def test_stress_inputs_cover_the_format():
    x = gpu_parity.stress_inputs("fp8_e4m3fn", 2000, seed=0)
    assert x.size == 2000
    assert np.isnan(x).any() and np.isinf(x).any() and (np.signbit(x) & (x == 0)).any()
    finite = np.abs(x[np.isfinite(x)])
    assert (finite > 448).any()  # beyond max
    assert ((finite > 0) & (finite < 2.0 ** -6)).any()  # subnormal range
    grid = np.empty(256)
    CPU.decode_into(np.arange(256, dtype=np.int64), grid, numprec.get_format("e4m3")
                    .kernel_params)
    on_grid = np.isin(finite, np.abs(grid))
    assert on_grid.any() and (~on_grid).any()  # grid values, and values between them
    bits = gpu_parity.pattern_inputs("fp16", 5000, seed=0)
    assert bits.size == 5000 and bits.min() >= 0 and bits.max() < 1 << 16
    assert np.array_equal(gpu_parity.pattern_inputs("fp4_e2m1fn", 64), np.arange(16))
