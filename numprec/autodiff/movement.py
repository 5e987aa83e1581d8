"""Data movement (exact, no op class): reshape, flatten, transpose, indexing, concatenation,
and cast (a change of format, rounded in the policy's mode). Gradients: numprec.autodiff.vjp."""
from __future__ import annotations

import numpy as np

from ..formats import get_format
from ..policy.casting import round_to
from ..policy.context import current_policy
from .graph import apply
from .shapes import reduction_axes, shape_of
from .tensor import Tensor


def reshape(x, *shape):
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    try:
        target = np.empty(shape_of(x), dtype=np.bool_).reshape(shape).shape
    except ValueError:
        raise ValueError(f"reshape: cannot reshape shape {shape_of(x)} into {shape}") from None
    return apply("reshape", None, lambda a, shape: a.reshape(shape), (x,), shape=target)


def flatten(x, start_dim: int = 1):
    shape = shape_of(x)
    return reshape(x, shape[:start_dim] + (-1,))


def transpose(x, *axes):
    """Permute axes (default: reverse them); x.T is transpose(x)."""
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    ndim = len(shape_of(x))
    axes = tuple(range(ndim))[::-1] if not axes else axes
    if sorted(a % ndim if ndim else a for a in axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor with shape "
                         f"{shape_of(x)}")
    axes = tuple(a % ndim for a in axes)
    return apply("transpose", None, lambda a, axes: np.transpose(a, axes), (x,), axes=axes)


def _plain_index(index):
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.astype(np.int64)
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        raise TypeError("tensor indices must be integers or booleans, got floats")
    return index


def getitem(x, index):
    """x[index]: basic and advanced NumPy indexing."""
    index = _plain_index(index)
    try:
        np.empty(shape_of(x), dtype=np.bool_)[index]
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} does not fit shape {shape_of(x)}: "
                         f"{err}") from None
    return apply("getitem", None, lambda a, index: a[index], (x,), index=index)


def concatenate(tensors, axis: int = 0):
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    shapes = [shape_of(t) for t in tensors]
    ndim = len(shapes[0])
    axis = reduction_axes("concatenate", axis, ndim)[0]
    for other in shapes[1:]:
        if len(other) != ndim or any(a != b for i, (a, b) in enumerate(zip(shapes[0], other))
                                     if i != axis):
            raise ValueError(f"concatenate: shapes {shapes[0]} and {other} differ outside "
                             f"axis {axis}")
    return apply("concatenate", None, lambda *arrays, axis: np.concatenate(arrays, axis=axis),
                 tensors, axis=axis)


cat = concatenate


def cast(x, fmt):
    """x rounded to another format (with the active policy's rounding mode); differentiable."""
    fmt = get_format(fmt)
    policy = current_policy()
    return apply("cast", None, lambda a: round_to(a, fmt, policy.mode, policy.seed), (x,),
                 out_format=fmt)
