"""Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay), with
PyTorch's bias-corrected update."""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, policy=None):
        if not lr >= 0.0 or not eps >= 0.0 or not weight_decay >= 0.0:
            raise ValueError(f"{type(self).__name__}: lr, eps and weight_decay must be >= 0, got "
                             f"{lr!r}, {eps!r}, {weight_decay!r}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), "
                             f"got {betas!r}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay), policy)

    def _update(self, param, grad, group, state) -> None:
        beta1, beta2 = group["betas"]
        lr, decay = group["lr"], group["weight_decay"]
        weight = param.data
        if decay and self.decoupled:
            weight = weight * (1.0 - lr * decay)
        elif decay:
            grad = grad + decay * weight
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(weight)
            state["exp_avg_sq"] = np.zeros_like(weight)
        state["step"] += 1
        step = state["step"]
        m = state["exp_avg"] = self.store_state(beta1 * state["exp_avg"] + (1 - beta1) * grad,
                                                param, "exp_avg")
        v = state["exp_avg_sq"] = self.store_state(
            beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad, param, "exp_avg_sq")
        step_size = lr / (1 - beta1 ** step)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** step) + group["eps"]
        self.store_weight(param, weight - step_size * m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01, as in PyTorch)."""
    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, *, policy=None):
        super().__init__(params, lr, betas, eps, weight_decay, policy=policy)
