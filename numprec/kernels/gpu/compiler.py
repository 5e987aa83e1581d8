"""How numprec's GPU kernels are compiled: numba.cuda with the flags of numprec.kernels.jit.

Three things differ from a plain `cuda.jit`:

- No FMA contraction. NVVM contracts a*b+c into one fma.rn.f64 by default (`-fma=1`), even with
  fastmath off, and ptxas may fuse a plain mul.f64/add.f64 pair too. The emulation needs the two
  roundings it wrote, so every numprec kernel is compiled with NVVM `-fma=0`, under which NVVM
  emits mul.rn.f64/add.rn.f64 (explicitly rounded: never fused by ptxas). numba-cuda 0.30 has no
  switch for it, so the two call sites of `compile_cuda` (kernel launch and `compile_ptx`) are
  wrapped; the wrapper adds `fma=0` only for functions marked by `gpu_kernel`, so user kernels in
  the same process are untouched. tests/kernels/gpu/test_gpu_ptx.py checks the emitted PTX.
- `compile_ptx` builds any kernel on a machine without a GPU: numba-cuda compiles each device
  function a kernel calls on its own, asking the driver for the current device's compute
  capability, so while compiling for a target with no GPU present that question is answered
  with the target's capability. (Inlining device functions at the Numba IR level avoids the
  question too, but makes the arithmetic kernels take minutes to type.)
- The simulator (NUMBA_ENABLE_CUDASIM=1, read when numba.cuda is first imported) runs the same
  Python functions on the host; `SIMULATOR` tells which target this process has.
"""
from __future__ import annotations

import contextlib
from types import SimpleNamespace

from numba import cuda

from ..jit import GPU_DEVICE_OPTIONS, GPU_KERNEL_OPTIONS, GPU_SIMULATOR_KERNEL_OPTIONS, NVVM_OPTIONS

SIMULATOR = bool(cuda.config.ENABLE_CUDASIM)
KERNEL_OPTIONS = GPU_SIMULATOR_KERNEL_OPTIONS if SIMULATOR else GPU_KERNEL_OPTIONS
_MARK = "__numprec_no_fma_contraction__"


def _without_contraction(compile_cuda):
    def compile_cuda_for_numprec(pyfunc, *args, **kwargs):
        if getattr(pyfunc, _MARK, False):
            kwargs["nvvm_options"] = {**(kwargs.get("nvvm_options") or {}),
                                      **NVVM_OPTIONS}
        return compile_cuda(pyfunc, *args, **kwargs)

    compile_cuda_for_numprec.wrapped = compile_cuda
    return compile_cuda_for_numprec


def _install_no_contraction() -> None:
    """Wrap numba-cuda's compile_cuda where kernels and compile_ptx look it up (idempotent)."""
    from numba.cuda import compiler, dispatcher
    for module in (compiler, dispatcher):
        current = getattr(module, "compile_cuda", None)
        if current is None:
            raise ImportError(f"numba-cuda changed: {module.__name__}.compile_cuda is gone, so "
                              "numprec cannot switch off FMA contraction for its GPU kernels")
        if not hasattr(current, "wrapped"):
            module.compile_cuda = _without_contraction(current)


if not SIMULATOR:
    _install_no_contraction()


def gpu_device(func):
    """Compile a scalar helper as a CUDA device function."""
    return cuda.jit(func, **GPU_DEVICE_OPTIONS)


def gpu_kernel(func):
    """Compile an array kernel for CUDA, without FMA contraction."""
    setattr(func, _MARK, True)
    # cuda.jit(func, ...), not cuda.jit(...)(func): numba-cuda 0.30's decorator form drops lto.
    return cuda.jit(func, **KERNEL_OPTIONS)


@contextlib.contextmanager
def _compute_capability_without_gpu(cc):
    """Let device functions compile for `cc` where no GPU can be asked for its capability."""
    from numba.cuda import dispatcher
    if cuda.is_available():
        yield
        return
    asked = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=cc)
    try:
        yield
    finally:
        dispatcher.get_current_device = asked


def compile_ptx(function, signature, cc=(9, 0), device=False) -> str:
    """PTX of a numprec kernel or device function (a dispatcher) for one signature, compiled as
    the kernels are (no contraction); needs no GPU."""
    if SIMULATOR:
        raise RuntimeError("compile_ptx needs the real CUDA target; this process runs the CUDA "
                           "simulator (NUMBA_ENABLE_CUDASIM=1)")
    setattr(function.py_func, _MARK, True)
    with _compute_capability_without_gpu(cc):
        ptx, _ = cuda.compile_ptx(function.py_func, signature, cc=cc, device=device)
    return ptx
