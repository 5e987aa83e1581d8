"""Sliding windows for convolution and pooling (NCHW): im2col views and their scatter-add adjoint."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pair(value, name: str) -> tuple:
    """An int or a pair of ints as a pair; a clear error otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        return int(value[0]), int(value[1])
    raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")


def output_size(op: str, size: tuple, kernel: tuple, stride: tuple, padding: tuple) -> tuple:
    out = tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))
    if min(out) < 1:
        raise ValueError(f"{op}: input spatial shape {tuple(size)} (padding {padding}) is smaller "
                         f"than the kernel {kernel}")
    return out


def windows(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
            fill: float = 0.0) -> np.ndarray:
    """A read-only view (N, C, OH, OW, kh, kw) of every window of the padded input."""
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    view = sliding_window_view(x, kernel, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]]


def im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """Columns (N, C*kh*kw, OH*OW): each column is one receptive field (zero padding)."""
    from ..kernels.cpu import windows as kernels  # numba loads on the first kernel call
    x = np.ascontiguousarray(x, dtype=np.float64)
    n, c = x.shape[:2]
    oh, ow = _out_hw(x.shape, kernel, stride, padding)
    out = np.empty((n, c * kernel[0] * kernel[1], oh * ow))
    kernels.im2col_into(x, *kernel, *stride, *padding, out)
    return out


def scatter_windows(values: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
                    padding: tuple) -> np.ndarray:
    """Adjoint of `windows`: add each window's values (N, C, OH, OW, kh, kw) back to the input
    positions they came from (overlaps summed in float64, from +0.0 in window-offset order, as
    numprec.kernels.cpu.windows sums them)."""
    n, c, h, w = x_shape
    ph, pw = padding
    sh, sw = stride
    oh, ow = values.shape[2:4]
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += values[:, :, :, :, i, j]
    return out[:, :, ph:ph + h, pw:pw + w]


def col2im(cols: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
           padding: tuple, out_hw: tuple) -> np.ndarray:
    """Adjoint of im2col (the same sums as scatter_windows of the columns' windows)."""
    from ..kernels.cpu import windows as kernels
    n, c, h, w = x_shape
    ph, pw = padding
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    kernels.col2im_add(np.ascontiguousarray(cols, dtype=np.float64), *kernel, *stride, *out_hw,
                       out)
    return out[:, :, ph:ph + h, pw:pw + w]


def max_windows(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> tuple:
    """(maximum of each window (N, C, OH, OW), its index in the window's row-major order): the
    first largest element, a NaN above every number, the padding -inf (np.argmax's choice)."""
    from ..kernels.cpu import windows as kernels
    x = np.ascontiguousarray(x, dtype=np.float64)
    shape = x.shape[:2] + _out_hw(x.shape, kernel, stride, padding)
    values, argmax = np.empty(shape), np.empty(shape, dtype=np.int64)
    kernels.max_windows(x, *kernel, *stride, *padding, values, argmax)
    return values, argmax


def max_windows_grad(g: np.ndarray, argmax: np.ndarray, x_shape: tuple, kernel: tuple,
                     stride: tuple, padding: tuple) -> np.ndarray:
    """The gradient of max_windows: g added at each window's argmax (scatter_windows of g placed
    at the argmax and 0.0 elsewhere)."""
    from ..kernels.cpu import windows as kernels
    n, c, h, w = x_shape
    ph, pw = padding
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    kernels.max_windows_grad_add(np.ascontiguousarray(g, dtype=np.float64),
                                 np.ascontiguousarray(argmax, dtype=np.int64), *kernel, *stride,
                                 out)
    return out[:, :, ph:ph + h, pw:pw + w]


def _out_hw(x_shape, kernel, stride, padding) -> tuple:
    return tuple((size + 2 * p - k) // s + 1
                 for size, k, s, p in zip(x_shape[2:], kernel, stride, padding))
