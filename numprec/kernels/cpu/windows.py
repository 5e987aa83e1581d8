"""CPU kernels of the sliding windows behind convolution and max pooling (NCHW, float64): the
im2col copy, its scatter-add adjoint, and max pooling with its gradient.

They move and add float64 values only (no rounding to a format), and they give NumPy's bits:
each input position sums its windows' contributions one at a time from +0.0, in the order of
the window offsets (i, j), as `out[..., i::sh, j::sw] += values[..., i, j]` does in NumPy; a
window's maximum is its first largest element, NaN above every number, as np.argmax picks it.
Serial: an emulated training step runs them on arrays of a few thousand elements, where NumPy's
strided copies and per-offset calls cost more than the data. Padding is implicit: positions
outside the input read as the fill value (0.0 for im2col, -inf for max pooling).
"""
import numpy as np

from ..jit import cpu_serial_kernel


@cpu_serial_kernel
def im2col_into(x, kh, kw, sh, sw, ph, pw, out):
    """out[n, (c*kh + i)*kw + j, oy*OW + ox] = x[n, c, oy*sh + i - ph, ox*sw + j - pw] (0.0 in the
    padding); out has shape (N, C*kh*kw, OH*OW)."""
    n, c, h, w = x.shape
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    row = (ch * kh + i) * kw + j
                    for oy in range(oh):
                        y = oy * sh + i - ph
                        inside_y = 0 <= y < h
                        for ox in range(ow):
                            xx = ox * sw + j - pw
                            if inside_y and 0 <= xx < w:
                                out[b, row, oy * ow + ox] = x[b, ch, y, xx]
                            else:
                                out[b, row, oy * ow + ox] = 0.0


@cpu_serial_kernel
def col2im_add(cols, kh, kw, sh, sw, oh, ow, out):
    """The adjoint of im2col_into: out (N, C, H + 2ph, W + 2pw, the padded input, zeros on entry)
    += every column entry at the position it was copied from."""
    n, c = out.shape[0], out.shape[1]
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    row = (ch * kh + i) * kw + j
                    for oy in range(oh):
                        y = oy * sh + i
                        for ox in range(ow):
                            out[b, ch, y, ox * sw + j] += cols[b, row, oy * ow + ox]


@cpu_serial_kernel
def max_windows(x, kh, kw, sh, sw, ph, pw, values, argmax):
    """values[n, c, oy, ox]: the maximum of each window; argmax: its index in the window's
    row-major (kh, kw) order. The first of equal maxima wins; a NaN beats every number (the
    first NaN wins); the padding reads -inf."""
    n, c, h, w = x.shape
    oh, ow = values.shape[2], values.shape[3]
    for b in range(n):
        for ch in range(c):
            for oy in range(oh):
                for ox in range(ow):
                    best = -np.inf
                    where = 0
                    for i in range(kh):
                        y = oy * sh + i - ph
                        for j in range(kw):
                            xx = ox * sw + j - pw
                            v = x[b, ch, y, xx] if 0 <= y < h and 0 <= xx < w else -np.inf
                            if (i == 0 and j == 0) or (best == best and (v != v or v > best)):
                                best = v
                                where = i * kw + j
                    values[b, ch, oy, ox] = best
                    argmax[b, ch, oy, ox] = where


@cpu_serial_kernel
def max_windows_grad_add(g, argmax, kh, kw, sh, sw, out):
    """The gradient of max_windows: out (the padded input's shape, zeros on entry) += g at each
    window's argmax and 0.0 at its other positions (so -0.0 gradients add up as in NumPy)."""
    n, c, oh, ow = g.shape
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    here = i * kw + j
                    for oy in range(oh):
                        for ox in range(ow):
                            picked = g[b, ch, oy, ox] if argmax[b, ch, oy, ox] == here else 0.0
                            out[b, ch, oy * sh + i, ox * sw + j] += picked
