"""Every target exposes one kernel set with the same interface, which numprec.ops asks for by
backend name; the GPU set is checked here without building it (no CUDA needed)."""
import inspect
import os
import subprocess
import sys

import pytest

from numprec.kernels import ENTRY_POINTS, cpu
from numprec.kernels.gpu import launch
from numprec.ops import backend


def _signature(function):
    return inspect.signature(getattr(function, "py_func", function))


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_cpu_and_gpu_entry_points_take_the_same_arguments(name):
    cpu_entry = getattr(cpu.kernel_set(), name)
    gpu_entry = getattr(launch, name)
    assert list(_signature(cpu_entry).parameters) == list(_signature(gpu_entry).parameters)


def test_the_cpu_set_has_exactly_the_entry_points():
    kernels = cpu.kernel_set()
    names = {k for k in dir(kernels) if k not in ("name", "device")}
    assert names == set(ENTRY_POINTS)
    assert all(callable(getattr(kernels, name)) for name in ENTRY_POINTS)
    with pytest.raises(AttributeError, match="no entry point 'round'"):
        kernels.round


def test_a_first_round_loads_only_the_rounding_kernels():
    # a fresh process: the first round must not import the arithmetic, accumulation and
    # matmul kernel modules (their decoration is part of the first call's time)
    code = ("import sys, numpy as np, numprec; numprec.round(np.ones(4), 'bf16'); "
            "print(sorted(m for m in sys.modules if m.startswith('numprec.kernels.cpu.')))")
    env = dict(os.environ)
    env.pop("NUMPREC_BACKEND", None)
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=env).stdout
    assert "numprec.kernels.cpu.rounding" in loaded
    for module in ("accum", "arith", "sequential_matmul"):
        assert f"numprec.kernels.cpu.{module}'" not in loaded


def test_ops_ask_for_a_kernel_set_by_backend_name():
    assert backend.kernels("cpu") is cpu.kernel_set()
    with pytest.raises(ValueError, match="unknown backend 'tpu'; valid backends: cpu, gpu"):
        backend.kernels("tpu")
