"""Deprecated import path: numprec.autodiff.scaling moved to numprec.policy.scaling.

This module re-exports it and warns."""
import warnings

from ..policy.scaling import DelayedScaling, scale_from_amax  # noqa: F401

warnings.warn("numprec.autodiff.scaling is deprecated: import from numprec.policy.scaling",
              DeprecationWarning, stacklevel=2)
