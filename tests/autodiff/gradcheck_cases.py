"""One or more gradient-check cases per op of the VJP table: (op name, function, input arrays).

Inputs avoid the points where an op is not differentiable (relu at 0, ties of max, log of <= 0).
"""
import numpy as np

from numprec import functional as F

_rng = np.random.default_rng(1234)


def randn(*shape):
    return _rng.standard_normal(shape)


def positive(*shape):
    return _rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    values = _rng.uniform(0.2, 1.5, shape)
    return values * _rng.choice([-1.0, 1.0], shape)


def distinct(*shape):
    return _rng.permutation(np.arange(np.prod(shape), dtype=float)).reshape(shape) * 0.1 - 1.0


_WEIGHTS = distinct(4, 3)

CASES = [
    ("add", lambda a, b: F.add(a, b), [randn(3, 4), randn(4)]),
    ("add", lambda a, b: a + b, [randn(2, 1, 3), randn(4, 3)]),
    ("sub", lambda a, b: a - b, [randn(3, 4), randn(3, 1)]),
    ("mul", lambda a, b: a * b, [randn(3, 4), randn(1, 4)]),
    ("div", lambda a, b: a / b, [randn(3, 4), away_from_zero(4)]),
    ("neg", lambda a: -a, [randn(5)]),
    ("pow", lambda a, b: a ** b, [positive(3, 2), randn(3, 2)]),
    ("pow", lambda a: F.pow(a, 3.0), [randn(4)]),
    ("exp", F.exp, [randn(3, 3)]),
    ("log", F.log, [positive(3, 3)]),
    ("sqrt", F.sqrt, [positive(6)]),
    ("tanh", F.tanh, [randn(2, 5)]),
    ("sigmoid", F.sigmoid, [randn(2, 5)]),
    ("relu", F.relu, [away_from_zero(3, 4)]),
    ("gelu", F.gelu, [randn(3, 4)]),
    ("gelu", lambda a: F.gelu(a, approximate="tanh"), [randn(3, 4)]),
    ("dropout", lambda a: F.dropout(a, 0.3, seed=7), [randn(4, 5)]),
    ("sum", lambda a: F.sum(a), [randn(3, 4)]),
    ("sum", lambda a: F.sum(a, axis=(0, 2), keepdims=True), [randn(2, 3, 4)]),
    ("sum", lambda a: a.sum(axis=-1), [randn(2, 3, 4)]),
    ("mean", lambda a: F.mean(a, axis=1), [randn(3, 4)]),
    ("mean", lambda a: a.mean(), [randn(3, 4)]),
    ("max", lambda a: F.max(a, axis=1), [distinct(3, 4)]),
    ("max", lambda a: a.max(keepdims=True), [distinct(3, 4)]),
    ("reshape", lambda a: a.reshape(4, 3) * _WEIGHTS, [randn(3, 4)]),
    ("transpose", lambda a: a.transpose(2, 0, 1), [randn(2, 3, 4)]),
    ("transpose", lambda a: a.T, [randn(2, 3)]),
    ("getitem", lambda a: a[1:, ::2], [randn(3, 4)]),
    ("getitem", lambda a: a[np.array([0, 2, 0])], [randn(3, 4)]),
    ("concatenate", lambda a, b, c: F.concatenate([a, b, c], axis=1),
     [randn(2, 1), randn(2, 3), randn(2, 2)]),
    ("cast", lambda a: a.to("fp64") * 2.0, [randn(3)]),
    ("embedding", lambda w: F.embedding(np.array([[0, 2], [2, 1]]), w), [randn(3, 4)]),
    ("matmul", lambda a, b: a @ b, [randn(3, 4), randn(4, 2)]),
    ("matmul", lambda a, b: a @ b, [randn(2, 3, 4), randn(4, 5)]),
    ("matmul", lambda a, b: a @ b, [randn(2, 1, 3, 4), randn(3, 4, 2)]),
    ("matmul", lambda a, b: a @ b, [randn(4), randn(4, 3)]),
    ("matmul", lambda a, b: a @ b, [randn(2, 4), randn(4)]),
    ("matmul", lambda a, b: a @ b, [randn(4), randn(4)]),
    ("linear", lambda x, w, b: F.linear(x, w, b), [randn(2, 3, 4), randn(5, 4), randn(5)]),
    ("linear", lambda x, w: F.linear(x, w), [randn(3, 4), randn(2, 4)]),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     [randn(2, 3, 5, 5), randn(4, 3, 3, 3), randn(4)]),
    ("conv2d", lambda x, w: F.conv2d(x, w), [randn(1, 2, 4, 4), randn(3, 2, 2, 2)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, stride=1, padding=1), [randn(2, 2, 3, 3)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), [distinct(2, 2, 4, 4)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, stride=1, padding=1), [distinct(1, 2, 4, 4)]),
    ("softmax", lambda x: F.softmax(x, axis=-1), [randn(3, 4)]),
    ("softmax", lambda x: x.softmax(axis=0), [randn(3, 4)]),
    ("log_softmax", lambda x: F.log_softmax(x, axis=1), [randn(3, 4)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, 4, w, b), [randn(2, 3, 4), randn(4), randn(4)]),
    ("layer_norm", lambda x: F.layer_norm(x, (2, 3)), [randn(2, 2, 3)]),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([1, 0, 3])), [randn(3, 4)]),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([2, 2]), reduction="sum"),
     [randn(2, 3)]),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([0, 1]), reduction="none"),
     [randn(2, 3)]),
    ("mse_loss", lambda a, b: F.mse_loss(a, b), [randn(3, 4), randn(3, 4)]),
    ("mse_loss", lambda a, b: F.mse_loss(a, b, reduction="none"), [randn(3, 4), randn(4)]),
]
