"""Scaled dot-product attention, composed of the primitive ops (its gradient follows from
theirs): softmax(q @ k^T / sqrt(d) + mask) @ v."""
from __future__ import annotations

import math

from .elementwise import add, mul
from .linalg import matmul
from .movement import transpose
from .nnops import softmax
from .shapes import shape_of


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q @ k^T / sqrt(d) + mask) @ v over the last two dims (mask: additive,
    broadcastable to the score shape, e.g. -inf above the diagonal)."""
    scale = 1.0 / math.sqrt(shape_of(q)[-1])
    scores = mul(matmul(q, transpose(k, _swap_last(len(shape_of(k))))), scale)
    if mask is not None:
        scores = add(scores, mask)
    return matmul(softmax(scores, axis=-1), v)


def _swap_last(ndim: int) -> tuple:
    axes = list(range(ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return tuple(axes)
