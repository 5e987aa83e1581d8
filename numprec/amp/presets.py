"""Deprecated import path: numprec.amp.presets moved to numprec.policy.presets.

This module re-exports it and warns."""
import warnings

from ..policy.presets import DEFAULT_AUTOCAST, PRESETS  # noqa: F401

warnings.warn("numprec.amp.presets is deprecated: import from numprec.policy.presets",
              DeprecationWarning, stacklevel=2)
