"""The public array API."""
from .backend import get_backend, set_backend
from .flags import Flags
from .rounding import decode, encode, round
from .arith import add, div, fma, mul, sqrt, sub
from .accumulate import dot, matmul, sum
from .error_analysis import (ErrorAnalysis, bound_probability, dot_error, gamma, matmul_error,
                             probabilistic_bound, sum_error, unit_roundoff)

__all__ = ["round", "encode", "decode", "Flags", "set_backend", "get_backend",
           "add", "sub", "mul", "div", "sqrt", "fma", "sum", "dot", "matmul",
           "ErrorAnalysis", "sum_error", "dot_error", "matmul_error", "gamma",
           "probabilistic_bound", "bound_probability", "unit_roundoff"]
