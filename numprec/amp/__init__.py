"""Mixed precision: autocast and loss scaling (dynamic, static); the policies, presets, loaders
and FP8 scaling recipes of numprec.policy are re-exported here."""
from ..policy import (DEFAULT_AUTOCAST, OP_CLASSES, ORDERS, PRESETS, DelayedScaling, Pass, Policy,
                      get_policy, policy_from_dict, policy_from_file, preset_names,
                      scale_from_amax)
from .autocast import autocast, get_autocast_policy
from .grad_scaler import GradScaler, OptState
from .static_scaler import StaticLossScaler

__all__ = ["autocast", "get_autocast_policy", "GradScaler", "StaticLossScaler", "OptState",
           "DelayedScaling", "scale_from_amax", "Policy", "Pass", "OP_CLASSES", "ORDERS",
           "PRESETS", "DEFAULT_AUTOCAST", "get_policy", "policy_from_dict", "policy_from_file",
           "preset_names"]
