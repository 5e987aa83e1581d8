"""Every target exposes one kernel set with the same interface, which numprec.ops asks for by
backend name; the GPU set is checked here without building it (no CUDA needed)."""
import inspect

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
    names = {k for k in vars(cpu.kernel_set()) if k not in ("name", "device")}
    assert names == set(ENTRY_POINTS)


def test_ops_ask_for_a_kernel_set_by_backend_name():
    assert backend.kernels("cpu") is cpu.kernel_set()
    with pytest.raises(ValueError, match="unknown backend 'tpu'; valid backends: cpu, gpu"):
        backend.kernels("tpu")
