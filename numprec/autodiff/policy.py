"""Deprecated import path: numprec.autodiff.policy moved to numprec.policy.policy.

This module re-exports it and warns."""
import warnings

from ..codes import ORDERS  # noqa: F401
from ..policy.policy import (LOSS_SCALES, NATIVE, OP_CLASSES, PASS_FIELDS, PROMOTE,  # noqa: F401
                             SCALINGS, Pass, Policy, check_format_name)

warnings.warn("numprec.autodiff.policy is deprecated: import from numprec.policy.policy",
              DeprecationWarning, stacklevel=2)
