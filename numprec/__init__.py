"""numprec: bit-exact emulation of low-precision arithmetic, and training under it."""
from .formats import FixedPoint, Format, finfo, format_names, get_format, register_format
from .codes import MODES
from .ops import Flags, decode, encode, get_backend, round, set_backend
from .ops import (ErrorAnalysis, add, div, dot, dot_error, fma, matmul, matmul_error, mul, sqrt,
                  sub, sum, sum_error)

__version__ = "0.1.0"

# Training names load on first use, so `import numprec` stays fast.
_LAZY = {"Tensor": "autodiff", "no_grad": "autodiff", "enable_grad": "autodiff",
         "manual_seed": "autodiff", "Policy": "autodiff", "functional": "autodiff",
         "relu": "autodiff.functional", "gelu": "autodiff.functional",
         "tanh": "autodiff.functional", "sigmoid": "autodiff.functional",
         "softmax": "autodiff.functional", "log_softmax": "autodiff.functional",
         "nn": None, "optim": None, "amp": None}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'numprec' has no attribute {name!r}")
    import importlib
    where = _LAZY[name]
    value = importlib.import_module(f"{__name__}.{name if where is None else where}")
    if where is not None:
        value = getattr(value, name)
    globals()[name] = value
    return value

__all__ = ["Format", "FixedPoint", "finfo", "get_format", "format_names", "register_format", "MODES",
           "round", "encode", "decode", "Flags", "set_backend", "get_backend", "__version__",
           "add", "sub", "mul", "div", "sqrt", "fma", "sum", "dot", "matmul", "ErrorAnalysis",
           "sum_error", "dot_error", "matmul_error"]
