"""Deprecated import path: numprec.amp.loader moved to numprec.policy.loader.

This module re-exports it and warns."""
import warnings

from ..policy.loader import (get_policy, policy_from_dict, policy_from_file,  # noqa: F401
                             preset_names)

warnings.warn("numprec.amp.loader is deprecated: import from numprec.policy.loader",
              DeprecationWarning, stacklevel=2)
