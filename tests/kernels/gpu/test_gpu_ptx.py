"""Every GPU kernel and scalar device function compiles to real PTX for compute capability 9.0
(no GPU needed), with the argument types numprec.kernels.gpu.launch launches them with, and without FMA
contraction: the simulator runs Python and would hide both type errors and contraction."""
import re

import pytest
from numba import cuda, float64

from numprec.kernels.gpu import compiler as gpu_jit

if gpu_jit.SIMULATOR:
    pytest.skip("PTX compilation needs the real CUDA target; this process runs the simulator "
                "(test_gpu_sim.py covers the simulator side)", allow_module_level=True)

from numprec.kernels.gpu import (accum, arith, intmatmul, quant, rounding,  # noqa: E402
                                 scalars)  # (after the check)

KERNEL_MODULES = (rounding, arith, accum, quant, intmatmul)

CC = (9, 0)
UNROUNDED_FLOAT_OP = re.compile(r"\b(mul|add|sub)\.f(32|64)\b")  # fusable by ptxas
FMA = re.compile(r"\bfma\.\w+\.f(32|64)\b")


def _kernel_cases():
    for module in KERNEL_MODULES:
        for name, signatures in module.SIGNATURES.items():
            for index, signature in enumerate(signatures):
                yield pytest.param(module.KERNELS[name], signature, id=f"{name}[{index}]")


def _scalar_cases():
    for name, signature in scalars.SCALAR_SIGNATURES.items():
        yield pytest.param(getattr(scalars.S, name), signature, id=name)


def assert_no_contraction(ptx, allowed_fma=0):
    assert not UNROUNDED_FLOAT_OP.search(ptx), UNROUNDED_FLOAT_OP.search(ptx).group(0)
    assert len(FMA.findall(ptx)) == allowed_fma


@pytest.mark.parametrize("kernel, signature", list(_kernel_cases()))
def test_kernel_compiles_to_ptx_without_contraction(kernel, signature):
    ptx = gpu_jit.compile_ptx(kernel, signature, cc=CC)
    assert ".target sm_90" in ptx and ".entry" in ptx
    assert_no_contraction(ptx)


@pytest.mark.parametrize("function, signature", list(_scalar_cases()))
def test_scalar_device_function_compiles_to_ptx(function, signature):
    ptx = gpu_jit.compile_ptx(function, signature, cc=CC, device=True)
    assert ".target sm_90" in ptx and ".func" in ptx
    assert_no_contraction(ptx)


@pytest.mark.parametrize("module", KERNEL_MODULES, ids=lambda m: m.__name__)
def test_every_kernel_has_launch_signatures(module):
    kernels = {name for name, value in vars(module).items()
               if hasattr(value, "targetoptions") and not value.targetoptions["device"]
               and value.py_func.__module__ == module.__name__}
    assert kernels == set(module.KERNELS) == set(module.SIGNATURES)
    for kernel in module.KERNELS.values():  # launched through the checked PTX, not LTO-IR
        assert kernel.targetoptions["lto"] is False and kernel.targetoptions["fastmath"] is False


def _plain_multiply_add(a, b, c, out):
    out[0] = a[0] * b[0] + c[0]


def _numprec_multiply_add(a, b, c, out):
    out[0] = a[0] * b[0] + c[0]


def test_contraction_is_off_for_numprec_kernels_only():
    signature = (float64[::1],) * 4
    # A plain cuda.jit kernel contracts a*b+c into one fma (NVVM's default, fastmath or not) ...
    plain, _ = cuda.compile_ptx(cuda.jit(_plain_multiply_add).py_func, signature, cc=CC)
    assert len(FMA.findall(plain)) == 1
    # ... a numprec kernel rounds the product and the sum separately, with explicit .rn ops.
    ptx = gpu_jit.compile_ptx(gpu_jit.gpu_kernel(_numprec_multiply_add), signature, cc=CC)
    assert_no_contraction(ptx)
    assert "mul.rn.f64" in ptx and "add.rn.f64" in ptx
