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
    """Columns (N, C*kh*kw, OH*OW): each column is one receptive field."""
    win = windows(x, kernel, stride, padding)
    n, c, oh, ow, kh, kw = win.shape
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def scatter_windows(values: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
                    padding: tuple) -> np.ndarray:
    """Adjoint of `windows`: add each window's values (N, C, OH, OW, kh, kw) back to the input
    positions they came from (overlaps summed in float64)."""
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
    """Adjoint of im2col."""
    n, c = x_shape[:2]
    kh, kw = kernel
    win = cols.reshape(n, c, kh, kw, *out_hw).transpose(0, 1, 4, 5, 2, 3)
    return scatter_windows(win, x_shape, kernel, stride, padding)
