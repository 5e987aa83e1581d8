"""The window kernels (convolution and max pooling) give NumPy's bits: the im2col copy, the
scatter-add adjoint summed in NumPy's order, and np.argmax's choice of a window's maximum."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from numprec.autodiff.im2col import col2im, im2col, max_windows, max_windows_grad, scatter_windows


def _windows(x, kernel, stride, padding, fill):
    ph, pw = padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    return sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]


def numpy_im2col(x, kernel, stride, padding):
    win = _windows(x, kernel, stride, padding, 0.0)
    n, c, oh, ow, kh, kw = win.shape
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def numpy_col2im(cols, x_shape, kernel, stride, padding, out_hw):
    n, c = x_shape[:2]
    win = cols.reshape(n, c, *kernel, *out_hw).transpose(0, 1, 4, 5, 2, 3)
    with np.errstate(invalid="ignore", over="ignore"):  # (inf - inf, 1e308 + 1e308)
        return scatter_windows(win, x_shape, kernel, stride, padding)


def numpy_max_pool(x, kernel, stride, padding):
    win = _windows(x, kernel, stride, padding, -np.inf)
    flat = win.reshape(win.shape[:4] + (-1,))
    argmax = np.argmax(flat, axis=-1)
    return np.take_along_axis(flat, argmax[..., None], -1)[..., 0], argmax


def numpy_max_pool_grad(g, argmax, x_shape, kernel, stride, padding):
    picked = np.zeros(g.shape + (kernel[0] * kernel[1],))
    np.put_along_axis(picked, argmax[..., None], g[..., None], axis=-1)
    with np.errstate(invalid="ignore", over="ignore"):
        return scatter_windows(picked.reshape(g.shape + tuple(kernel)), x_shape, kernel, stride,
                           padding)


def _same_bits(got, want):
    """The same bits, signed zeros included; NaN matches NaN (which NaN a sum of NaNs gives is
    up to the CPU's addition, in NumPy as in the kernels)."""
    assert got.shape == want.shape
    got, want = np.array(got, dtype=np.float64), np.array(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    got[np.isnan(got)] = want[np.isnan(want)] = np.nan
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))


def _awkward(rng, shape, ties=False):
    """Values with signed zeros, infinities, NaNs (a payload too) and, with ties, many equal
    values: where a different sum order, sign of zero or argmax choice would show."""
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x)  # mostly -1, -0, 0, 1: equal maxima in most windows
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e308, -1e308,
                        np.frombuffer(np.uint64(0x7FF0000000000123).tobytes())[0]])
    where = rng.random(shape) < 0.15
    x[where] = rng.choice(special, size=int(where.sum()))
    return x


CASES = [  # (N, C, H, W), kernel, stride, padding
    ((2, 3, 8, 8), (3, 3), (1, 1), (1, 1)),
    ((2, 1, 8, 8), (2, 2), (2, 2), (0, 0)),
    ((1, 2, 7, 9), (3, 2), (2, 1), (1, 0)),
    ((3, 2, 5, 5), (3, 3), (1, 1), (2, 2)),   # padding wider than needed: all-padding windows
    ((1, 1, 6, 6), (4, 4), (1, 1), (0, 0)),   # heavily overlapping windows
    ((1, 2, 5, 6), (1, 1), (1, 1), (0, 0)),
]


def _check_every_window_kernel(rng, shape, kernel, stride, padding, ties):
    """im2col, max pooling, its gradient and col2im against the NumPy references, on awkward
    data of the given shape."""
    x = _awkward(rng, shape, ties)
    _same_bits(im2col(x, kernel, stride, padding), numpy_im2col(x, kernel, stride, padding))
    values, argmax = max_windows(x, kernel, stride, padding)
    want_values, want_argmax = numpy_max_pool(x, kernel, stride, padding)
    _same_bits(values, want_values)
    np.testing.assert_array_equal(argmax, want_argmax)
    g = _awkward(rng, values.shape, ties)
    _same_bits(max_windows_grad(g, argmax, shape, kernel, stride, padding),
               numpy_max_pool_grad(g, argmax, shape, kernel, stride, padding))
    cols = _awkward(rng, numpy_im2col(x, kernel, stride, padding).shape, ties)
    _same_bits(col2im(cols, shape, kernel, stride, padding, values.shape[2:]),
               numpy_col2im(cols, shape, kernel, stride, padding, values.shape[2:]))


@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_windows_give_numpys_bits(shape, kernel, stride, padding, ties):
    rng = np.random.default_rng(sum(shape) + ties)
    _check_every_window_kernel(rng, shape, kernel, stride, padding, ties)


def test_copies_keep_nan_payloads():
    # (a copy, not arithmetic: even a signalling NaN's pattern comes through as it is)
    for pattern in (0xFFF0000000000123, 0x7FF8000000000456):
        x = np.full((1, 1, 2, 2), pattern, dtype=np.uint64).view(np.float64)
        np.testing.assert_array_equal(im2col(x, (1, 1), (1, 1), (0, 0)).view(np.uint64),
                                      np.full((1, 1, 4), pattern, dtype=np.uint64))
        np.testing.assert_array_equal(max_windows(x, (2, 2), (2, 2), (0, 0))[0].view(np.uint64),
                                      np.full((1, 1, 1, 1), pattern, dtype=np.uint64))


def test_inputs_of_any_layout_and_dtype_are_read_as_float64():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 9, 8))[::2, :, ::-1, 1:]  # a strided view
    _same_bits(im2col(x, (3, 3), (1, 1), (1, 1)), numpy_im2col(x, (3, 3), (1, 1), (1, 1)))
    x32 = x.astype(np.float32)
    _same_bits(max_windows(x32, (2, 2), (2, 2), (0, 0))[0],
               numpy_max_pool(x32.astype(np.float64), (2, 2), (2, 2), (0, 0))[0])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), ties=st.booleans(), seed=st.integers(0, 99))
def test_windows_hypothesis(n, c, h, w, kh, kw, sh, sw, ph, pw, ties, seed):
    if h + 2 * ph < kh or w + 2 * pw < kw:
        return  # no window fits (the ops refuse such shapes first)
    shape, kernel, stride, padding = (n, c, h, w), (kh, kw), (sh, sw), (ph, pw)
    rng = np.random.default_rng(seed)
    _check_every_window_kernel(rng, shape, kernel, stride, padding, ties)
