"""The autodiff engine: Tensor, the graph machinery, the VJP table, differentiable ops.

Modules form a chain, each importing only those before it:
    shapes, context                 shape helpers; grad mode
    tensor                          the Tensor core (values, format, graph node, backward)
    vjp                             THE table of gradient rules
    graph                           apply: an op under the active policy, recorded for backward
    elementwise, linalg, reductions, movement, nnops, conv, attention   the ops, by topic
    functional                      every op in one namespace (numprec.functional)
    operators                       Tensor's operators and methods (attached on import)
Precision policies live in numprec.policy (re-exported here for old import paths).
"""
from ..policy import NATIVE, OP_CLASSES, ORDERS, DelayedScaling, Pass, Policy
from ..policy.context import current_policy, using_policy
from ..policy.streams import generator, manual_seed
from . import functional, operators  # noqa: F401  (operators attaches Tensor's methods)
from .context import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor
from .vjp import VJP, defvjp

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed", "generator",
           "functional", "Policy", "Pass", "OP_CLASSES", "ORDERS", "NATIVE", "current_policy",
           "using_policy", "DelayedScaling", "VJP", "defvjp"]
