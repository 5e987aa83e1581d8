"""Layer-level ops: softmax, log_softmax, losses, layer norm, dropout, embedding (each computed
in float64 and rounded once: a fused-kernel model). Gradients: numprec.autodiff.vjp."""
from __future__ import annotations

import numpy as np

from ..policy.streams import generator
from .graph import apply
from .shapes import broadcast_shape, shape_of, single_axis
from .tensor import Tensor


def _log_softmax(a, axis):
    shifted = a - np.max(a, axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis: int = -1):
    """exp(x) / sum(exp(x)) along an axis (computed stably in float64, rounded once)."""
    axis = single_axis("softmax", axis, shape_of(x))
    return apply("softmax", "softmax", lambda a, k, axis: np.exp(_log_softmax(a, axis)), (x,),
                 axis=axis)


def log_softmax(x, axis: int = -1):
    """x - logsumexp(x) along an axis (float64, rounded once)."""
    axis = single_axis("log_softmax", axis, shape_of(x))
    return apply("log_softmax", "softmax", lambda a, k, axis: _log_softmax(a, axis), (x,),
                 axis=axis)


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {', '.join(_REDUCTIONS)}, "
                         f"got {reduction!r}")


def cross_entropy(logits, target, reduction: str = "mean"):
    """Softmax cross-entropy of logits (N, C) against class indices (N,), like PyTorch's."""
    _check_reduction("cross_entropy", reduction)
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    shape = shape_of(logits)
    if len(shape) != 2 or target.shape != (shape[0],):
        raise ValueError(f"cross_entropy: logits shape {shape} and target shape {target.shape} "
                         "are incompatible (need logits[N, C] and target[N])")
    if target.dtype.kind not in "iu" and not np.all(target == np.floor(target)):
        raise TypeError("cross_entropy: target must hold integer class indices")
    target = target.astype(np.int64)
    outside = target[(target < 0) | (target >= shape[1])]
    if outside.size:
        raise ValueError(f"cross_entropy: target class {int(outside[0])} is out of range for "
                         f"{shape[1]} classes")
    rows = np.arange(shape[0])
    weight = np.full(shape[0], 1.0 / shape[0] if reduction == "mean" else 1.0)

    def forward(a, k, target, reduction):
        logp = _log_softmax(a, 1)
        losses = -logp[rows, target]
        value = losses if reduction == "none" else np.sum(losses * weight)
        return value, {"probs": np.exp(logp), "weight_of_row": weight}
    return apply("cross_entropy", "loss", forward, (logits,), target=target, reduction=reduction)


def mse_loss(prediction, target, reduction: str = "mean"):
    """Mean (or summed) squared error."""
    _check_reduction("mse_loss", reduction)
    size = int(np.prod(broadcast_shape("mse_loss", shape_of(prediction), shape_of(target))))
    scale = 1.0 / size if reduction == "mean" else 1.0

    def forward(a, b, k, scale, reduction):
        squares = (a - b) ** 2
        return squares if reduction == "none" else np.sum(squares) * scale
    return apply("mse_loss", "loss", forward, (prediction, target), scale=scale,
                 reduction=reduction)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the trailing `normalized_shape` dims, then scale and shift (float64
    statistics, rounded once)."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) \
        else tuple(normalized_shape)
    shape = shape_of(x)
    if tuple(shape[len(shape) - len(normalized_shape):]) != normalized_shape:
        raise ValueError(f"layer_norm: input shape {shape} does not end with normalized_shape "
                         f"{normalized_shape}")
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(shape_of(param)) != normalized_shape:
            raise ValueError(f"layer_norm: {name} shape {shape_of(param)} does not match "
                             f"normalized_shape {normalized_shape}")
    weight = np.ones(normalized_shape) if weight is None else weight
    bias = np.zeros(normalized_shape) if bias is None else bias
    axes = tuple(range(len(shape) - len(normalized_shape), len(shape)))

    def forward(a, w, b, k, axes, eps):
        centred = a - a.mean(axis=axes, keepdims=True)
        rstd = 1.0 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + eps)
        xhat = centred * rstd
        return xhat * w + b, {"xhat": xhat, "rstd": rstd}
    return apply("layer_norm", "norm", forward, (x, weight, bias), axes=axes, eps=eps)


def dropout(x, p: float = 0.5, training: bool = True, seed=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) (a no-op when not
    training). The mask comes from numprec.manual_seed's generator, or from `seed`."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    rng = generator() if seed is None else np.random.default_rng(seed)
    keep = rng.random(shape_of(x)) >= p
    mask = keep / (1.0 - p) if p < 1.0 else np.zeros(shape_of(x))
    return apply("dropout", "elementwise", lambda a, k: (a * mask, {"mask": mask}), (x,))


def embedding(indices, weight):
    """Rows of `weight` (num_embeddings, dim) picked by integer indices (exact)."""
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        if idx.size and not np.all(idx == np.floor(idx)):
            raise TypeError("embedding: indices must be integers")
        idx = idx.astype(np.int64)
    rows = shape_of(weight)[0] if len(shape_of(weight)) == 2 else None
    if rows is None:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got shape "
                         f"{shape_of(weight)}")
    outside = idx[(idx < 0) | (idx >= rows)]
    if outside.size:
        raise ValueError(f"embedding: index {int(outside[0])} is out of range for {rows} "
                         "embeddings")
    return apply("embedding", None, lambda w, indices: w[indices], (weight,), indices=idx)
