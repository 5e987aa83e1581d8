"""Mixed precision: policies (presets, user policies), autocast, loss scaling, FP8 scaling."""
from ..autodiff.policy import OP_CLASSES, ORDERS, Pass, Policy
from ..autodiff.scaling import DelayedScaling, scale_from_amax
from .autocast import autocast, get_autocast_policy
from .grad_scaler import GradScaler, OptState
from .loader import get_policy, policy_from_dict, policy_from_file, preset_names
from .presets import DEFAULT_AUTOCAST, PRESETS
from .static_scaler import StaticLossScaler

__all__ = ["autocast", "get_autocast_policy", "GradScaler", "StaticLossScaler", "OptState",
           "DelayedScaling", "scale_from_amax", "Policy", "Pass", "OP_CLASSES", "ORDERS",
           "PRESETS", "DEFAULT_AUTOCAST", "get_policy", "policy_from_dict", "policy_from_file",
           "preset_names"]
