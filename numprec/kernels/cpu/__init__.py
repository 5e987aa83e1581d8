"""The CPU kernel set: numba.njit array kernels over the compiled scalars (cpu/scalars.py).

Each entry point's module is imported when the entry point is first asked for, so that a first
`round` does not pay for decorating the arithmetic, accumulation and matmul kernels too.
"""
import importlib

# entry point -> (module of this package, its name there)
_SOURCES = {
    "round_into": ("rounding", "round_into"), "encode_into": ("rounding", "encode_into"),
    "decode_into": ("rounding", "decode_into"), "binary_into": ("arith", "binary_into"),
    "sqrt_into": ("arith", "sqrt_into"), "fma_into": ("arith", "fma_into"),
    "reduce_into": ("accum", "reduce_kernel"), "matmul_into": ("accum", "matmul_kernel"),
    "matmul_sequential_into": ("sequential_matmul", "matmul_sequential_kernel")}


class CPUKernelSet:
    """The namespace of the CPU entry points (numprec.kernels.ENTRY_POINTS), each loaded on
    first access and then kept as a plain attribute."""
    name = "cpu"
    device = "CPU"

    def __getattr__(self, entry):
        source = _SOURCES.get(entry)
        if source is None:
            raise AttributeError(f"the CPU kernel set has no entry point {entry!r}")
        module, attribute = source
        function = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        setattr(self, entry, function)  # (later lookups skip __getattr__)
        return function

    def __dir__(self):
        return sorted(set(_SOURCES) | {"name", "device"})


_KERNEL_SET = CPUKernelSet()


def kernel_set() -> CPUKernelSet:
    """The CPU entry points (numprec.kernels.ENTRY_POINTS)."""
    return _KERNEL_SET
