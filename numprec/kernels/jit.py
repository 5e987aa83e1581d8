"""The one module that owns every JIT setting and the kernel cache.

- Flags: the options every CPU kernel (numba.njit) and every GPU kernel and device function
  (numba.cuda.jit) is compiled with. fastmath stays off everywhere: it flushes subnormals and
  contracts a*b+c into an FMA. numprec.kernels.gpu.compiler applies the CUDA ones (it imports
  numba.cuda, which this module does not).
- The cache: CPU kernels are cached on disk. Array kernels inline scalar kernels from other
  modules, and numba keys a cache entry only on the function's own file, so every kernel's entry
  is keyed on a hash of all kernel sources (every file under numprec/kernels, and
  numprec/codes.py, whose constants are compiled in).
- compile_scalars: scalar kernels are plain Python functions written once
  (numprec.kernels.scalar); it compiles them for one target by cloning each function with a
  globals table in which every sibling helper is replaced by its compiled version (and, on the
  GPU, the float64 <-> int64 bit casts by libdevice's).
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import os
import types

import numba
from numba.core import caching

from ..codes import MODES

CPU_OPTIONS = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")
# Parallel kernels parallelise their prange loops only: numba would otherwise turn every
# np.zeros, np.empty and .sum() around the loop into a parallel region of its own, and each
# region costs microseconds to enter (5 regions made the monitor's statistics call 12 us
# slower than its serial copy on a tiny batch). ParallelOptions pops the keys of the dict it
# is given, so every kernel gets a fresh one (parallel_options()).
PRANGE_ONLY = dict(prange=True, comprehension=False, reduction=False, inplace_binop=False,
                   setitem=False, numpy=False, stencil=False, fusion=False)
CPU_PARALLEL_OPTIONS = dict(CPU_OPTIONS, parallel=PRANGE_ONLY)
GPU_DEVICE_OPTIONS = dict(device=True, fastmath=False)
# lto=False: kernels launch through the PTX the tests check (the simulator has no lto switch).
GPU_KERNEL_OPTIONS = dict(fastmath=False, lto=False)
GPU_SIMULATOR_KERNEL_OPTIONS = dict(fastmath=False)
# NVVM contracts a*b+c into one fma by default, fastmath or not: numprec kernels switch it off.
NVVM_OPTIONS = {"fma": False}

KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))
CODES_FILE = os.path.join(os.path.dirname(KERNEL_DIR), "codes.py")


def kernel_sources() -> list[str]:
    """Every source file the compiled kernels are made of, in a fixed order."""
    found = [CODES_FILE]
    for folder, subfolders, files in os.walk(KERNEL_DIR):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        found += [os.path.join(folder, name) for name in sorted(files) if name.endswith(".py")]
    return found


@functools.lru_cache(maxsize=None)
def kernel_source_stamp() -> bytes:
    """Hash of every kernel source file (names relative to the package, and contents)."""
    digest = hashlib.sha256()
    package = os.path.dirname(KERNEL_DIR)
    for path in kernel_sources():
        with open(path, "rb") as handle:
            digest.update(os.path.relpath(path, package).encode() + b"\0" + handle.read())
    return digest.digest()


def _is_kernel_source(py_file) -> bool:
    path = os.path.abspath(py_file)
    return os.path.commonpath([path, KERNEL_DIR]) == KERNEL_DIR


class _KernelStampMixin:
    @classmethod
    def from_function(cls, py_func, py_file):
        if not _is_kernel_source(py_file):
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


class threads_for:
    """Run the parallel kernels inside on one thread when `work` (elements, or flops) is small.

    Entered around every kernel call of every op, so it is a plain class (no generator) that
    calls numba's thread-count setter below its Python wrapper once the thread pool is up (the
    wrapper's checks cost more than the small kernels it wraps; 1 is always a valid count)."""
    __slots__ = ("work", "previous")

    def __init__(self, work: int):
        self.work = work
        self.previous = 0

    def __enter__(self):
        if self.work >= SMALL_WORK:
            return self
        get, put = _thread_count_calls()
        previous = get()
        if previous != 1:
            put(1)
            self.previous = previous
        return self

    def __exit__(self, *exc):
        if self.previous:
            _thread_count_calls()[1](self.previous)
        return False


_THREAD_COUNT_CALLS = []


def _thread_count_calls():
    """(get, set) of the calling thread's numba thread count: numba's C entry points once its
    thread pool is launched (numba.np.ufunc.parallel), else (another numba) its public API."""
    if not _THREAD_COUNT_CALLS:
        from numba.np.ufunc import parallel
        parallel._launch_threads()
        get = getattr(parallel, "_get_num_threads", None)
        put = getattr(parallel, "_set_num_threads", None)
        if not (callable(get) and callable(put)):
            get, put = numba.get_num_threads, numba.set_num_threads
        _THREAD_COUNT_CALLS[:] = [get, put]
    return _THREAD_COUNT_CALLS


def cpu_scalar(func):
    """Compile a scalar helper for the CPU."""
    return numba.njit(**CPU_OPTIONS)(func)


def cpu_serial_kernel(func):
    """Compile a serial array kernel for the CPU (small arrays, or a reduction that must be
    deterministic: the monitors' statistics)."""
    return numba.njit(**CPU_OPTIONS)(func)


def cpu_parallel_kernel(func):
    """Compile a parallel (prange) array kernel for the CPU.

    Call parallel kernels from Python only, never from another jitted function: a jitted caller
    loaded from the cache can reach the parallel region before numba has started its threads.
    """
    return numba.njit(**parallel_options())(func)


def parallel_options() -> dict:
    """The options of a parallel kernel, with a parallel dict of its own."""
    return dict(CPU_PARALLEL_OPTIONS, parallel=dict(PRANGE_ONLY))


def _clone(func, table, qualname):
    """A copy of a plain function that reads its globals from `table`."""
    clone = types.FunctionType(func.__code__, table, func.__name__, func.__defaults__,
                               func.__closure__)
    clone.__module__ = func.__module__
    clone.__qualname__ = qualname
    clone.__doc__ = func.__doc__
    return clone


def compile_scalars(name, modules, jit, primitives=None):
    """Compile every function defined in `modules` with `jit` (lazily: a helper no kernel calls
    is never compiled), into a module object `name`. `primitives` maps function names to
    already-compiled, target-specific replacements. The clones share one globals table, so
    helpers call compiled helpers; kernels call them as S.<function> (numba resolves a module's
    attributes at compile time)."""
    primitives = primitives or {}
    table = {}
    for module in modules:
        table.update(vars(module))
    table.update(primitives)
    compiled = types.ModuleType(name, f"The scalar kernels of numprec.kernels.scalar, compiled "
                                      f"with {getattr(jit, '__name__', jit)}.")
    for module in modules:
        for fname, source in vars(module).items():
            if not (inspect.isfunction(source) and source.__module__ == module.__name__):
                continue
            if fname not in primitives:
                table[fname] = jit(_clone(source, table, source.__qualname__))
            setattr(compiled, fname, table[fname])
    return compiled


def specialize(functions, **constants):
    """Compile copies of `functions` (plain function -> jit decorator) in which each name of
    `constants` is a compile-time constant: numba freezes a global's value into the code, so the
    branches on it fold away and the loops around them vectorise. The copies call each other by
    their names and are registered under names of their own (so each has its own cache entry);
    they compile on first call. Returns a namespace of them by function name. The one mechanism
    by which kernels specialise (by_mode: per rounding mode)."""
    first = next(iter(functions))
    table = dict(vars(inspect.getmodule(first)))
    table.update(constants)
    suffix = "_".join(f"{key.lower()}{value}" for key, value in sorted(constants.items()))
    for func, jit in functions.items():
        table[func.__name__] = jit(_clone(func, table, f"{func.__qualname__}__{suffix}"))
    return types.SimpleNamespace(**{func.__name__: table[func.__name__] for func in functions})


def by_mode(functions) -> list:
    """specialize(functions, MODE=m) for every rounding mode m, indexed by mode code
    (numprec.codes.MODES): the functions read the global MODE, a constant in each copy."""
    return [specialize(functions, MODE=code) for code in range(len(MODES))]
