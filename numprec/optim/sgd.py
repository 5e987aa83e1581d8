"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's
update rule)."""
from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, policy=None):
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if not value >= 0.0:
                raise ValueError(f"SGD: invalid {name} {value!r} (must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov), policy)

    def _update(self, param, grad, group, state) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.data
        if group["momentum"]:
            if "momentum_buffer" not in state:
                buf = grad
            else:
                buf = group["momentum"] * state["momentum_buffer"] + (1 - group["dampening"]) * grad
            state["momentum_buffer"] = buf = self.store_state(buf, param, "momentum_buffer")
            grad = grad + group["momentum"] * buf if group["nesterov"] else buf
        self.store_weight(param, param.data - group["lr"] * grad)
