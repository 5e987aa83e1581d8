"""Layers: Linear, Conv2d, LayerNorm, Embedding, Dropout, activations, pooling, losses."""
from __future__ import annotations

import numpy as np

from ..autodiff import functional as F
from ..autodiff.im2col import pair
from . import init
from .module import Module, Parameter


def _positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x @ W.T + b; W and b drawn from U(-1/sqrt(in), 1/sqrt(in)), stored in `format`."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, format="fp32"):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        bound = init.fan_in_bound(self.in_features)
        self.weight = Parameter(init.uniform((out_features, in_features), bound), format=format)
        self.bias = Parameter(init.uniform((out_features,), bound), format=format) if bias else None
        self.fp8_states = {}  # delayed-scaling amax histories (used by FP8 policies)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias, scaling_states=self.fp8_states)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution (NCHW), PyTorch's default initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, format="fp32"):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = _positive_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride, self.padding = pair(stride, "stride"), pair(padding, "padding")
        bound = init.fan_in_bound(in_channels * self.kernel_size[0] * self.kernel_size[1])
        shape = (out_channels, in_channels) + self.kernel_size
        self.weight = Parameter(init.uniform(shape, bound), format=format)
        self.bias = Parameter(init.uniform((out_channels,), bound), format=format) if bias else None
        self.fp8_states = {}

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                        scaling_states=self.fp8_states)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
               f"stride={self.stride}, padding={self.padding}"


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 format="fp32"):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = Parameter(np.ones(shape), format=format) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape), format=format) if elementwise_affine else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


class Embedding(Module):
    """A table of num_embeddings vectors, drawn from N(0, 1) as in PyTorch."""

    def __init__(self, num_embeddings: int, embedding_dim: int, format="fp32"):
        super().__init__()
        _positive_int(num_embeddings, "num_embeddings", "Embedding")
        _positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.weight = Parameter(init.normal((num_embeddings, embedding_dim)), format=format)

    def forward(self, indices):
        return F.embedding(indices, self.weight)


class Dropout(Module):
    def __init__(self, p: float = 0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class GELU(Module):
    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Flatten(Module):
    def __init__(self, start_dim: int = 1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim)


class _Pool2d(Module):
    """Pooling over windows of kernel_size (stride defaults to kernel_size), with padding."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding


class MaxPool2d(_Pool2d):
    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class _Loss(Module):
    """A loss with PyTorch's reduction argument ("mean", "sum" or "none")."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    def forward(self, logits, target):
        return F.cross_entropy(logits, target, self.reduction)


class MSELoss(_Loss):
    def forward(self, prediction, target):
        return F.mse_loss(prediction, target, self.reduction)
