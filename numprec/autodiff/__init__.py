"""The autodiff engine: Tensor, the VJP table, differentiable ops under precision policies."""
from .context import (current_policy, enable_grad, generator, is_grad_enabled, manual_seed,
                      no_grad, using_policy)
from .tensor import Tensor
from . import functional
from .policy import NATIVE, OP_CLASSES, ORDERS, Pass, Policy
from .scaling import DelayedScaling
from .vjp import VJP, defvjp

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed", "generator",
           "functional", "Policy", "Pass", "OP_CLASSES", "ORDERS", "NATIVE", "current_policy",
           "using_policy", "DelayedScaling", "VJP", "defvjp"]
