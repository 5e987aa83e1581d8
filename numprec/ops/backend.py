"""Backend selection: which kernel set ("cpu" or "gpu") an op runs on."""
from __future__ import annotations

import os
from types import SimpleNamespace

BACKENDS = ("cpu", "gpu")
_default = None


def _check(name) -> str:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)}")
    return name


def set_backend(name: str) -> None:
    """Set the process-wide default backend (overrides NUMPREC_BACKEND)."""
    global _default
    _default = _check(name)


def get_backend() -> str:
    if _default is not None:
        return _default
    return _check(os.environ.get("NUMPREC_BACKEND", "cpu").strip().lower() or "cpu")


def kernels(backend=None):
    """The kernel set of a backend: a namespace of array entry points with one signature."""
    name = _check(backend) if backend is not None else get_backend()
    if name == "cpu":
        from ..kernels import cpu, cpu_accum, cpu_arith
        return SimpleNamespace(name="cpu", round_into=cpu.round_kernel,
                               encode_into=cpu.encode_kernel, decode_into=cpu.decode_kernel,
                               binary_into=cpu_arith.binary_kernel, sqrt_into=cpu_arith.sqrt_kernel,
                               fma_into=cpu_arith.fma_kernel, reduce_into=cpu_accum.reduce_kernel,
                               matmul_into=cpu_accum.matmul_kernel,
                               matmul_sequential_into=cpu_accum.matmul_sequential_kernel)
    from ..kernels import gpu_dispatch  # raises a clear error without a GPU or the simulator
    return gpu_dispatch.kernel_set()
