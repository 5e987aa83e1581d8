"""Broadcasting: the shape check that names the op, and the one helper that undoes broadcasting
in gradients (summing over the axes an operand was stretched along)."""
from __future__ import annotations

import numpy as np


def broadcast_shape(op: str, *shapes) -> tuple:
    """The broadcast result shape; a ValueError naming the op and every shape otherwise."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` down to `shape`, the operand's shape before broadcasting."""
    grad = np.asarray(grad)
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return np.broadcast_to(grad, shape) if grad.shape != tuple(shape) else grad
