"""2-D convolution (im2col + one matmul under the policy's accumulation model) and pooling."""
from __future__ import annotations

from .graph import apply
from .im2col import im2col, max_windows, output_size, pair, windows
from .shapes import shape_of


def _conv_forward(x, w, *bias, k, stride, padding):
    n, o = x.shape[0], w.shape[0]
    cols = im2col(x, w.shape[2:], stride, padding)              # (N, C*kh*kw, OH*OW)
    add = bias[0][None, :, None] if bias else None
    out = k.matmul(w.reshape(o, -1), cols, add=add)             # (N, O, OH*OW)
    oh, ow = output_size("conv2d", x.shape[2:], w.shape[2:], stride, padding)
    return out.reshape(n, o, oh, ow), {"cols": cols}


def conv2d(x, weight, bias=None, stride=1, padding=0, *, scaling_states=None):
    """Cross-correlation of x (N, C, H, W) with weight (O, C, kh, kw), plus bias (O,)."""
    sx, sw = shape_of(x), shape_of(weight)
    if len(sx) != 4 or len(sw) != 4 or sx[1] != sw[1]:
        raise ValueError(f"conv2d: input shape {sx} and weight shape {sw} are incompatible "
                         "(need input[N, C, H, W] and weight[O, C, kh, kw])")
    if bias is not None and shape_of(bias) != (sw[0],):
        raise ValueError(f"conv2d: bias shape {shape_of(bias)} does not match weight shape {sw}")
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
    output_size("conv2d", sx[2:], sw[2:], stride, padding)
    operands = (x, weight) if bias is None else (x, weight, bias)
    return apply("conv2d", "matmul", _conv_forward, operands, roles=("input", "weight"),
                 states=scaling_states, stride=stride, padding=padding)


def _pool_args(op, x, kernel_size, stride, padding):
    shape = shape_of(x)
    if len(shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {shape}")
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    output_size(op, shape[2:], kernel, stride, padding)
    return kernel, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Maximum over each window (exact; the first maximum of a window takes the gradient)."""
    kernel, stride, padding = _pool_args("max_pool2d", x, kernel_size, stride, padding)

    def forward(a, k, kernel, stride, padding):
        values, argmax = max_windows(a, kernel, stride, padding)
        return values, {"argmax": argmax}
    return apply("max_pool2d", "pool", forward, (x,), exact=True, kernel=kernel, stride=stride,
                 padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window (zero padding counted, as PyTorch's default), rounded once."""
    kernel, stride, padding = _pool_args("avg_pool2d", x, kernel_size, stride, padding)

    def forward(a, k, kernel, stride, padding):
        return windows(a, kernel, stride, padding).mean(axis=(-2, -1))
    return apply("avg_pool2d", "pool", forward, (x,), kernel=kernel, stride=stride,
                 padding=padding)
