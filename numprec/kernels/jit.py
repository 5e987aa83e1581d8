"""The one place that owns every CPU JIT setting (the CUDA ones live in gpu_jit, which imports
numba.cuda only when the GPU backend is used).

Scalar kernels are plain Python functions written once (numprec.kernels.scalar_*); `compile_scalars`
compiles a module of them for one target by cloning each function with a globals table in which
every sibling helper is replaced by its compiled version (and target-specific primitives, such as
the float64 <-> int64 bit casts, are bound to that target's implementation).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import types

import numba
from numba.core import caching

# fastmath stays off everywhere: it flushes subnormals and contracts a*b+c into an FMA.
CPU_OPTIONS = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")
CPU_PARALLEL_OPTIONS = dict(CPU_OPTIONS, parallel=True)


_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def kernel_source_stamp() -> bytes:
    """Hash of every kernel source file: array kernels inline scalars from sibling modules, and
    numba only watches a function's own file, so a cached kernel is keyed on all of them."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(_KERNEL_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(_KERNEL_DIR, name), "rb") as handle:
                digest.update(name.encode() + handle.read())
    return digest.digest()


class _KernelStampMixin:
    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.dirname(os.path.abspath(py_file)) != _KERNEL_DIR:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return kernel_source_stamp()


class _InTreeKernelLocator(_KernelStampMixin, caching.InTreeCacheLocator):
    pass


class _EnvDirKernelLocator(_KernelStampMixin, caching.InTreeCacheLocator):
    """Cache in $NUMPREC_CACHE_DIR when set (read-only installs, cold-start measurements)."""

    def __init__(self, py_func, py_file):
        super().__init__(py_func, py_file)
        self._cache_path = os.path.join(os.environ["NUMPREC_CACHE_DIR"],
                                        self.get_suitable_cache_subpath(py_file))

    @classmethod
    def from_function(cls, py_func, py_file):
        if not os.environ.get("NUMPREC_CACHE_DIR"):
            return None
        return super().from_function(py_func, py_file)


class _UserWideKernelLocator(_KernelStampMixin, caching.UserWideCacheLocator):
    pass


for _locator in (_UserWideKernelLocator, _InTreeKernelLocator, _EnvDirKernelLocator):
    if _locator not in caching.CacheImpl._locator_classes:
        caching.CacheImpl._locator_classes.insert(0, _locator)


# Below this many elements a parallel region costs more (waking threads) than it saves.
SMALL_WORK = 1 << 15


@contextlib.contextmanager
def threads_for(work: int):
    """Run the parallel kernels inside on one thread when `work` (elements, or flops) is small."""
    previous = numba.get_num_threads()
    if work >= SMALL_WORK or previous == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def cpu_scalar(func):
    """Compile a scalar helper for the CPU."""
    return numba.njit(**CPU_OPTIONS)(func)


def cpu_kernel(func):
    """Compile a serial array kernel for the CPU."""
    return numba.njit(**CPU_OPTIONS)(func)


def cpu_parallel_kernel(func):
    """Compile a parallel (prange) array kernel for the CPU.

    Call parallel kernels from Python only, never from another jitted function: a jitted caller
    loaded from the cache can reach the parallel region before numba has started its threads.
    """
    return numba.njit(**CPU_PARALLEL_OPTIONS)(func)


def scalar_names(module, primitives):
    """Every function defined in a scalar module, except the per-target primitives. Compiling
    is lazy, so host-only helpers listed here cost nothing."""
    return [name for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__
            and name not in primitives]


def compile_scalars(modules, names, jit, primitives):
    """Compile the functions `names` found in `modules` with `jit`.

    `primitives` maps names to already-compiled, target-specific functions. Returns a namespace of
    the compiled functions; the clones share one globals table so helpers call compiled helpers.
    """
    table = {}
    for module in modules:
        table.update(vars(module))
    table.update(primitives)
    compiled = {}
    for name in names:
        source = table[name]
        clone = types.FunctionType(source.__code__, table, name, source.__defaults__,
                                   source.__closure__)
        clone.__module__ = source.__module__
        clone.__qualname__ = source.__qualname__
        clone.__doc__ = source.__doc__
        compiled[name] = table[name] = jit(clone)
    return types.SimpleNamespace(**compiled)
