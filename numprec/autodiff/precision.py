"""Deprecated import path: numprec.autodiff.precision moved to numprec.policy.arithmetic
(its class Kernel is now OpArithmetic).

This module re-exports it and warns."""
import warnings

from ..policy.arithmetic import OpArithmetic, float64_matmul  # noqa: F401
from ..policy.casting import FP32, FP64, WEAK, contains, round_to, widest  # noqa: F401

Kernel = OpArithmetic

warnings.warn("numprec.autodiff.precision is deprecated: import from numprec.policy.arithmetic",
              DeprecationWarning, stacklevel=2)
