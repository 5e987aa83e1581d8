"""Shapes for the ops: an operand's shape, axis arguments checked against it, the broadcast check
that names the op, and the one helper that undoes broadcasting in gradients (summing over the axes
an operand was stretched along)."""
from __future__ import annotations

import numpy as np

from .tensor import Tensor


def shape_of(x) -> tuple:
    """The shape of a Tensor, array or number operand."""
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def reduction_axes(op: str, axis, ndim: int):
    """Reduction axes as a sorted tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return None
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a!r} is out of range for a tensor with {ndim} dims")
        out.append(int(a) % ndim)
    return tuple(sorted(set(out)))


def single_axis(op: str, axis, shape) -> int:
    """One axis of `shape` as a non-negative int."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -len(shape) <= axis < len(shape):
        raise ValueError(f"{op}: axis {axis!r} is out of range for shape {shape}")
    return int(axis) % len(shape)


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
