"""Reductions: sum and mean accumulated in the policy's accumulation format (its order and
format: numprec.policy.OpArithmetic.sum), and max (exact). Gradients: numprec.autodiff.vjp."""
from __future__ import annotations

import numpy as np

from .graph import apply
from .shapes import reduction_axes, shape_of


def sum(x, axis=None, keepdims: bool = False):
    """Sum over axes (all by default), accumulated in the policy's accumulation format."""
    axes = reduction_axes("sum", axis, len(shape_of(x)))
    return apply("sum", "reduction", lambda a, k, axis, keepdims: k.sum(a, axis, keepdims),
                 (x,), axis=axes, keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False):
    """Mean over axes: the accumulated sum divided by the count, rounded once more."""
    axes = reduction_axes("mean", axis, len(shape_of(x)))

    def forward(a, k, axis, keepdims):
        count = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
        return k.sum(a, axis, keepdims) / count
    return apply("mean", "reduction", forward, (x,), axis=axes, keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False):
    """Maximum over axes (exact; ties share the gradient)."""
    axes = reduction_axes("max", axis, len(shape_of(x)))
    if 0 in shape_of(x):
        raise ValueError(f"max: empty tensor of shape {shape_of(x)} has no maximum")
    return apply("max", "reduction",
                 lambda a, k, axis, keepdims: np.max(a, axis, keepdims=keepdims), (x,),
                 exact=True, axis=axes, keepdims=keepdims)
