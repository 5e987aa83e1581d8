"""Differentiable ops on Tensors (numprec.functional): arithmetic, math, reductions, shapes.

Every op runs through numprec.autodiff.graph.apply under the active precision policy; its
gradient is its rule in numprec.autodiff.vjp. Layer-level ops (linear, softmax, losses, norms,
dropout, embedding) live in nnops, convolution and pooling in conv; all are exported here.
"""
from __future__ import annotations

import numpy as np

from .broadcast import broadcast_shape
from .context import current_policy
from .graph import apply
from .precision import round_to
from .tensor import Tensor

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "matmul", "exp", "log", "sqrt", "tanh",
           "sigmoid", "relu", "gelu", "sum", "mean", "max", "reshape", "flatten", "transpose",
           "getitem", "concatenate", "cat", "cast"]


def _shape(x):
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def _axes(op: str, axis, ndim: int):
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


# --- element-wise arithmetic ------------------------------------------------------------------
def _binary(op: str):
    def forward(a, b, k):
        return k.arith(op, a, b)

    def run(a, b):
        broadcast_shape(op, _shape(a), _shape(b))
        return apply(op, "elementwise", forward, (a, b))
    run.__name__ = op
    run.__doc__ = f"Element-wise {op} with broadcasting, correctly rounded to the output format."
    return run


add, sub, mul, div = (_binary(name) for name in ("add", "sub", "mul", "div"))


def neg(x):
    return apply("neg", "elementwise", lambda a, k: -a, (x,), exact=True)


def pow(x, exponent):
    """x ** exponent (element-wise; the exponent may be a number or a tensor)."""
    broadcast_shape("pow", _shape(x), _shape(exponent))
    return apply("pow", "transcendental", lambda a, b, k: np.power(a, b), (x, exponent))


def matmul(a, b):
    """Matrix product with NumPy's batching rules; products summed in the accumulation format."""
    sa, sb = _shape(a), _shape(b)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: shapes {sa} and {sb}: both operands need at least 1 dim")
    inner_a, inner_b = sa[-1], (sb[0] if len(sb) == 1 else sb[-2])
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned ({inner_a} != {inner_b})")
    if len(sa) > 2 and len(sb) > 2:
        broadcast_shape("matmul (batch dims)", sa[:-2], sb[:-2])
    return apply("matmul", "matmul", lambda x, y, k: k.matmul(x, y), (a, b),
                 roles=("input", "weight"))


# --- element-wise functions -------------------------------------------------------------------
def _unary(op: str, op_class: str, fn, doc: str):
    def run(x):
        return apply(op, op_class, lambda a, k: fn(a), (x,))
    run.__name__, run.__doc__ = op, doc
    return run


exp = _unary("exp", "transcendental", np.exp, "e**x, rounded once.")
log = _unary("log", "transcendental", np.log, "Natural logarithm, rounded once.")
sqrt = _unary("sqrt", "elementwise", np.sqrt, "Square root, correctly rounded.")
tanh = _unary("tanh", "elementwise", np.tanh, "Hyperbolic tangent, rounded once.")
sigmoid = _unary("sigmoid", "elementwise", lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)),
                 "Logistic sigmoid 1 / (1 + e**-x), rounded once.")


def relu(x):
    """max(x, 0) element-wise (exact)."""
    return apply("relu", "elementwise", lambda a, k: np.maximum(a, 0.0), (x,), exact=True)


def gelu(x, approximate: str = "none"):
    """GELU: x * Phi(x) (approximate="tanh": the tanh approximation), rounded once."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    from scipy.special import erf

    def forward(a, k, approximate):
        if approximate == "tanh":
            c = np.sqrt(2.0 / np.pi)
            return 0.5 * a * (1.0 + np.tanh(c * (a + 0.044715 * a ** 3)))
        return 0.5 * a * (1.0 + erf(a / np.sqrt(2.0)))
    return apply("gelu", "elementwise", forward, (x,), approximate=approximate)


# --- reductions -------------------------------------------------------------------------------
def sum(x, axis=None, keepdims: bool = False):
    """Sum over axes (all by default), accumulated in the policy's accumulation format."""
    axes = _axes("sum", axis, len(_shape(x)))
    return apply("sum", "reduction", lambda a, k, axis, keepdims: k.sum(a, axis, keepdims),
                 (x,), axis=axes, keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False):
    """Mean over axes: the accumulated sum divided by the count, rounded once more."""
    axes = _axes("mean", axis, len(_shape(x)))

    def forward(a, k, axis, keepdims):
        count = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
        return k.sum(a, axis, keepdims) / count
    return apply("mean", "reduction", forward, (x,), axis=axes, keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False):
    """Maximum over axes (exact; ties share the gradient)."""
    axes = _axes("max", axis, len(_shape(x)))
    if 0 in _shape(x):
        raise ValueError(f"max: empty tensor of shape {_shape(x)} has no maximum")
    return apply("max", "reduction", lambda a, k, axis, keepdims: np.max(a, axis, keepdims=keepdims),
                 (x,), exact=True, axis=axes, keepdims=keepdims)


# --- data movement (exact) --------------------------------------------------------------------
def reshape(x, *shape):
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    try:
        target = np.empty(_shape(x), dtype=np.bool_).reshape(shape).shape
    except ValueError:
        raise ValueError(f"reshape: cannot reshape shape {_shape(x)} into {shape}") from None
    return apply("reshape", None, lambda a, shape: a.reshape(shape), (x,), shape=target)


def flatten(x, start_dim: int = 1):
    shape = _shape(x)
    return reshape(x, shape[:start_dim] + (-1,))


def transpose(x, *axes):
    """Permute axes (default: reverse them); x.T is transpose(x)."""
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    ndim = len(_shape(x))
    axes = tuple(range(ndim))[::-1] if not axes else axes
    if sorted(a % ndim if ndim else a for a in axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor with shape "
                         f"{_shape(x)}")
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
        np.empty(_shape(x), dtype=np.bool_)[index]
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} does not fit shape {_shape(x)}: {err}") from None
    return apply("getitem", None, lambda a, index: a[index], (x,), index=index)


def concatenate(tensors, axis: int = 0):
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    shapes = [_shape(t) for t in tensors]
    ndim = len(shapes[0])
    axis = _axes("concatenate", axis, ndim)[0]
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
    from ..formats import get_format
    fmt = get_format(fmt)
    policy = current_policy()
    return apply("cast", None, lambda a: round_to(a, fmt, policy.mode, policy.seed), (x,),
                 out_format=fmt)


# --- Tensor operators and methods -------------------------------------------------------------
def attach_tensor_methods(cls) -> None:
    """Give Tensor its operators and methods (they call the functions of this module)."""
    def flip(fn):
        return lambda self, other: fn(other, self)
    ops = {
        "__add__": add, "__radd__": flip(add), "__sub__": sub, "__rsub__": flip(sub),
        "__mul__": mul, "__rmul__": flip(mul), "__truediv__": div, "__rtruediv__": flip(div),
        "__matmul__": matmul, "__rmatmul__": flip(matmul), "__pow__": pow, "__rpow__": flip(pow),
        "__neg__": neg, "__getitem__": getitem,
        "exp": exp, "log": log, "sqrt": sqrt, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
        "gelu": gelu, "sum": sum, "mean": mean, "max": max, "reshape": reshape, "view": reshape,
        "flatten": flatten, "transpose": transpose, "permute": transpose,
        "to": cast,
        "float": lambda self: cast(self, "fp32"), "half": lambda self: cast(self, "fp16"),
        "bfloat16": lambda self: cast(self, "bf16"), "double": lambda self: cast(self, "fp64"),
    }
    for name, fn in ops.items():
        setattr(cls, name, fn)
    cls.T = property(transpose)
    from .nnops import log_softmax, softmax
    cls.softmax = softmax
    cls.log_softmax = log_softmax


from .conv import avg_pool2d, conv2d, max_pool2d  # noqa: E402
from .nnops import (cross_entropy, dropout, embedding, layer_norm, linear, log_softmax,  # noqa: E402
                    mse_loss, scaled_dot_product_attention, softmax)

attach_tensor_methods(Tensor)

__all__ += ["linear", "softmax", "log_softmax", "cross_entropy", "mse_loss", "layer_norm",
            "dropout", "embedding", "scaled_dot_product_attention", "conv2d", "avg_pool2d",
            "max_pool2d"]
