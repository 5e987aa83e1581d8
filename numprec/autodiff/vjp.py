"""THE table of gradient rules: one short vector-Jacobian product per op and operand.

A rule gets the output gradient `g` (already cast to the op class's backward input format), the
op's rounded output `ans`, the operands as the op saw them (cast to the forward input format),
the backward pass's arithmetic `k` (a numprec.policy.OpArithmetic: k.matmul and k.sum apply the
policy's accumulation model; None for data movement) and the op's attributes. It returns the gradient for its operand at the output's
broadcast shape; the engine sums broadcasting away (broadcast.unbroadcast) and rounds.
Element-wise rules are evaluated in float64 and rounded once (a fused-kernel model).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from .im2col import col2im, max_windows_grad, scatter_windows

VJP: dict = {}


def defvjp(op: str, *rules) -> None:
    """Register one rule per operand of `op` (None for an operand without a gradient)."""
    VJP[op] = ("fixed", rules)


def defvjp_argnum(op: str, rule) -> None:
    """Register one rule for every operand of a variadic op: rule(argnum, g, ans, *xs, ...)."""
    VJP[op] = ("argnum", rule)


def rules_for(op: str, count: int) -> list:
    """The rules of an op with `count` operands; a clear error when any is missing."""
    if op not in VJP:
        raise NotImplementedError(f"no gradient rule for op {op!r}: register one in "
                                  "numprec.autodiff.vjp with defvjp (ops with rules: "
                                  f"{', '.join(sorted(VJP))})")
    kind, rules = VJP[op]
    if kind == "argnum":
        return [lambda *args, _i=i, **kw: rules(_i, *args, **kw) for i in range(count)]
    if len(rules) < count or any(r is None for r in rules[:count]):
        raise NotImplementedError(f"op {op!r} has no gradient rule for some of its {count} "
                                  "operands")
    return list(rules[:count])


def swap(x: np.ndarray) -> np.ndarray:
    """Transpose of the last two axes (the matrices of a batched matmul)."""
    return np.swapaxes(x, -1, -2)


def _keep(g, x_shape, axis, keepdims):
    """A reduced gradient with the reduced axes restored (for broadcasting back)."""
    if axis is None or keepdims:
        return g if keepdims or np.ndim(g) == len(x_shape) else np.reshape(g, (1,) * len(x_shape))
    return np.expand_dims(g, axis)


def _count(shape, axis) -> int:
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in np.atleast_1d(axis)]))


# --- element-wise arithmetic ------------------------------------------------------------------
defvjp("add", lambda g, ans, a, b, **_: g, lambda g, ans, a, b, **_: g)
defvjp("sub", lambda g, ans, a, b, **_: g, lambda g, ans, a, b, **_: -g)
defvjp("mul", lambda g, ans, a, b, **_: g * b, lambda g, ans, a, b, **_: g * a)
defvjp("div", lambda g, ans, a, b, **_: g / b, lambda g, ans, a, b, **_: -g * a / (b * b))
defvjp("neg", lambda g, ans, a, **_: -g)
defvjp("pow", lambda g, ans, a, b, **_: g * b * a ** (b - 1),
       lambda g, ans, a, b, **_: g * ans * np.log(a))

# --- element-wise functions -------------------------------------------------------------------
defvjp("exp", lambda g, ans, x, **_: g * ans)
defvjp("log", lambda g, ans, x, **_: g / x)
defvjp("sqrt", lambda g, ans, x, **_: g / (2.0 * ans))
defvjp("tanh", lambda g, ans, x, **_: g * (1.0 - ans * ans))
defvjp("sigmoid", lambda g, ans, x, **_: g * ans * (1.0 - ans))
defvjp("relu", lambda g, ans, x, **_: g * (x > 0))
defvjp("dropout", lambda g, ans, x, mask, **_: g * mask)


def _gelu_grad(g, ans, x, approximate, **_):
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        t = np.tanh(c * (x + 0.044715 * x ** 3))
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * x * x))
    cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
    return g * (cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi))


defvjp("gelu", _gelu_grad)

# --- reductions -------------------------------------------------------------------------------
defvjp("sum", lambda g, ans, x, axis, keepdims, **_: np.broadcast_to(
    _keep(g, x.shape, axis, keepdims), x.shape))
defvjp("mean", lambda g, ans, x, axis, keepdims, **_: np.broadcast_to(
    _keep(g, x.shape, axis, keepdims), x.shape) / _count(x.shape, axis))


def _max_grad(g, ans, x, axis, keepdims, **_):
    winners = x == _keep(ans, x.shape, axis, keepdims)  # ties share the gradient equally
    return winners * _keep(g, x.shape, axis, keepdims) / winners.sum(axis=axis, keepdims=True)


defvjp("max", _max_grad)

# --- data movement (exact) --------------------------------------------------------------------
defvjp("reshape", lambda g, ans, x, **_: np.reshape(g, x.shape))
defvjp("transpose", lambda g, ans, x, axes, **_: np.transpose(g, np.argsort(axes)))
defvjp("cast", lambda g, ans, x, **_: g)


def _getitem_grad(g, ans, x, index, **_):
    out = np.zeros(x.shape)
    np.add.at(out, index, g)
    return out


defvjp("getitem", _getitem_grad)


def _concatenate_grad(argnum, g, ans, *xs, axis, **_):
    start = sum(x.shape[axis] for x in xs[:argnum])
    return np.take(g, np.arange(start, start + xs[argnum].shape[axis]), axis=axis)


defvjp_argnum("concatenate", _concatenate_grad)


def _embedding_grad(g, ans, weight, indices, **_):
    out = np.zeros(weight.shape)
    np.add.at(out, indices, g)
    return out


defvjp("embedding", _embedding_grad)

# --- products ---------------------------------------------------------------------------------


def _as_matrices(g, a, b):
    """1-D operands promoted as NumPy's matmul does (a as a row, b as a column), g to match."""
    if a.ndim == 1 and b.ndim == 1:
        return np.reshape(g, (1, 1)), a[None, :], b[:, None]
    if a.ndim == 1:
        a, g = a[None, :], np.expand_dims(g, -2)
    if b.ndim == 1:
        b, g = b[:, None], np.expand_dims(g, -1)
    return g, a, b


def _matmul_grad_a(g, ans, a, b, k, **_):
    g2, a2, b2 = _as_matrices(g, a, b)
    grad = k.matmul(g2, swap(b2))
    return grad[..., 0, :] if a.ndim == 1 else grad


def _matmul_grad_b(g, ans, a, b, k, **_):
    g2, a2, b2 = _as_matrices(g, a, b)
    grad = k.matmul(swap(a2), g2)
    return grad[..., 0] if b.ndim == 1 else grad


defvjp("matmul", _matmul_grad_a, _matmul_grad_b)


def _rows(x):
    return x.reshape(-1, x.shape[-1])


defvjp("linear",
       lambda g, ans, x, w, *b, k, **_: k.matmul(g, w),
       lambda g, ans, x, w, *b, k, **_: k.matmul(_rows(g).T, _rows(x)),
       lambda g, ans, x, w, *b, k, **_: k.sum(_rows(g), axis=0))


def _conv_grad_x(g, ans, x, w, *b, k, cols, stride, padding, **_):
    n, o, oh, ow = g.shape
    g2 = g.reshape(n, o, oh * ow)
    dcols = k.matmul(w.reshape(o, -1).T, g2)   # (N, C*kh*kw, OH*OW)
    return col2im(dcols, x.shape, w.shape[2:], stride, padding, (oh, ow))


def _conv_grad_w(g, ans, x, w, *b, k, cols, **_):
    n, o = g.shape[:2]
    g2 = g.reshape(n, o, -1).transpose(1, 0, 2).reshape(o, -1)       # (O, N*OH*OW)
    c2 = cols.transpose(1, 0, 2).reshape(cols.shape[1], -1)          # (C*kh*kw, N*OH*OW)
    return k.matmul(g2, c2.T).reshape(w.shape)


defvjp("conv2d", _conv_grad_x, _conv_grad_w,
       lambda g, ans, x, w, *b, k, **_: k.sum(g, axis=(0, 2, 3)))

# --- pooling ----------------------------------------------------------------------------------


def _avg_pool_grad(g, ans, x, kernel, stride, padding, **_):
    share = np.broadcast_to((g / (kernel[0] * kernel[1]))[..., None, None],
                            g.shape + tuple(kernel))
    return scatter_windows(share, x.shape, kernel, stride, padding)


def _max_pool_grad(g, ans, x, kernel, stride, padding, argmax, **_):
    return max_windows_grad(g, argmax, x.shape, kernel, stride, padding)


defvjp("avg_pool2d", _avg_pool_grad)
defvjp("max_pool2d", _max_pool_grad)

# --- softmax, normalisation, losses -----------------------------------------------------------
defvjp("softmax", lambda g, ans, x, axis, **_: ans * (g - np.sum(g * ans, axis=axis,
                                                                  keepdims=True)))
defvjp("log_softmax", lambda g, ans, x, axis, **_: g - np.exp(ans) * np.sum(g, axis=axis,
                                                                           keepdims=True))


def _layer_norm_x(g, ans, x, w, b, xhat, rstd, axes, **_):
    gx = g * w
    return rstd * (gx - gx.mean(axis=axes, keepdims=True)
                   - xhat * (gx * xhat).mean(axis=axes, keepdims=True))


defvjp("layer_norm", _layer_norm_x,
       lambda g, ans, x, w, b, xhat, **_: g * xhat,
       lambda g, ans, x, w, b, **_: g)


def _cross_entropy_grad(g, ans, logits, probs, target, weight_of_row, **_):
    grad = probs.copy()
    grad[np.arange(len(target)), target] -= 1.0
    return grad * (g * weight_of_row)[:, None]


defvjp("cross_entropy", _cross_entropy_grad)
defvjp("mse_loss", lambda g, ans, a, b, scale, **_: g * scale * 2.0 * (a - b),
       lambda g, ans, a, b, scale, **_: -g * scale * 2.0 * (a - b))
