"""The one place that gives Tensor its operators and methods (a + b, x @ w, x.sum(), x.T, ...):
each calls the op of numprec.autodiff.functional. numprec.autodiff imports this module, so any
import of the engine attaches them; the Tensor core itself imports no op."""
from __future__ import annotations

from . import functional as F
from .tensor import Tensor


def _flip(fn):
    return lambda self, other: fn(other, self)


METHODS = {
    "__add__": F.add, "__radd__": _flip(F.add), "__sub__": F.sub, "__rsub__": _flip(F.sub),
    "__mul__": F.mul, "__rmul__": _flip(F.mul), "__truediv__": F.div,
    "__rtruediv__": _flip(F.div), "__matmul__": F.matmul, "__rmatmul__": _flip(F.matmul),
    "__pow__": F.pow, "__rpow__": _flip(F.pow), "__neg__": F.neg, "__getitem__": F.getitem,
    "exp": F.exp, "log": F.log, "sqrt": F.sqrt, "tanh": F.tanh, "sigmoid": F.sigmoid,
    "relu": F.relu, "gelu": F.gelu, "sum": F.sum, "mean": F.mean, "max": F.max,
    "reshape": F.reshape, "view": F.reshape, "flatten": F.flatten, "transpose": F.transpose,
    "permute": F.transpose, "softmax": F.softmax, "log_softmax": F.log_softmax, "to": F.cast,
    "float": lambda self: F.cast(self, "fp32"), "half": lambda self: F.cast(self, "fp16"),
    "bfloat16": lambda self: F.cast(self, "bf16"), "double": lambda self: F.cast(self, "fp64"),
}


def attach(cls=Tensor) -> None:
    """Give `cls` (Tensor) the operators and methods of METHODS, and the property T."""
    for name, fn in METHODS.items():
        setattr(cls, name, fn)
    cls.T = property(F.transpose)


attach()
