"""Which kernel set a numprec.quant entry point runs on: backend="cpu" or "gpu", None taking
numprec.get_backend() (NUMPREC_BACKEND), as the ops do. The GPU path checks its arguments on the
host with the CPU path's own code and then calls numprec.kernels.gpu.quant / intmatmul, whose
results are bit for bit the CPU's (tests/kernels/gpu)."""
from __future__ import annotations

from ..ops import backend as _ops_backend


def on_gpu(backend) -> bool:
    """Whether `backend` (or the process default for None) is "gpu"; raises ValueError for an
    unknown name, and GPUUnavailableError (naming why) when the GPU is asked for but neither a
    GPU nor the CUDA simulator is usable."""
    name = _ops_backend._check(backend) if backend is not None else _ops_backend.get_backend()
    if name != "gpu":
        return False
    _ops_backend.kernels("gpu")  # raises GPUUnavailableError with the reason
    return True
