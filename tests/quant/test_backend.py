"""numprec.quant's backend choice: the names it takes, and a clear error where the GPU is asked
for but unusable (the GPU results themselves: tests/kernels/gpu/gpu_quant_cases.py, under the
CUDA simulator)."""
import numpy as np
import pytest

from numprec.kernels import gpu
from numprec.ops import backend as ops_backend
from numprec.quant import bfp_encode, int_matmul, mx_encode, quantize

X = np.linspace(-2.0, 2.0, 64)
CALLS = {
    "quantize": lambda backend: quantize(X, 8, backend=backend),
    "mx_encode": lambda backend: mx_encode(X, "mxfp8", backend=backend),
    "bfp_encode": lambda backend: bfp_encode(X, "fp8_e4m3fn", block=16, scale_bits=5,
                                             backend=backend),
    "int_matmul": lambda backend: int_matmul(np.ones((2, 3), np.int8), np.ones((3, 2), np.int8),
                                             backend=backend),
}


@pytest.mark.parametrize("name", CALLS)
def test_unknown_backend_is_named(name):
    with pytest.raises(ValueError, match="unknown backend 'tpu'; valid backends: cpu, gpu"):
        CALLS[name]("tpu")


@pytest.mark.parametrize("name", CALLS)
def test_gpu_without_a_gpu_says_why(monkeypatch, name):
    monkeypatch.setattr(gpu, "availability", lambda: (False, "the CUDA driver found no GPU"))
    with pytest.raises(gpu.GPUUnavailableError, match="the CUDA driver found no GPU"):
        CALLS[name]("gpu")
    monkeypatch.setattr(ops_backend, "_default", "gpu")  # the process default is followed too
    with pytest.raises(gpu.GPUUnavailableError):
        CALLS[name](None)


@pytest.mark.parametrize("name", CALLS)
def test_cpu_is_the_default(name):
    default, cpu = CALLS[name](None), CALLS[name]("cpu")
    for a, b in zip(default if isinstance(default, tuple) else (getattr(default, "q", default),),
                    cpu if isinstance(cpu, tuple) else (getattr(cpu, "q", cpu),)):
        assert np.array_equal(a, b)
