"""Calibration observers: they watch data and choose a range, which becomes scale and zero
point through PyTorch's formulas (numprec.quant.qparams). Algorithms: docs/quantization.md.

Every observer has the same interface:

    obs = make_observer("minmax", axis=None, group=None, **params)
    obs.observe(x)            # any number of times; returns the observer
    scale, zero_point = obs.qparams(bits=8, signed=True, scheme="symmetric",
                                    power_of_two=False)

The granularity (axis, group) is fixed when the observer is made, because running per-channel
statistics need it while observing; `qparams(axis=...)` checks that it agrees. Every observer
ignores NaN and inf (quantize(..., nonfinite="error") refuses them before observing). A row
(tensor, channel or group) with no finite value gets scale 1 and zero point 0, PyTorch's answer
for an unobserved range.

- `minmax`: the running min and max (PyTorch's MinMaxObserver).
- `moving-minmax`: the first observation's min and max, then
  lo <- fl32(lo + fl32(c * fl32(min(x) - lo))) and the same for hi, in float32 as PyTorch's
  MovingAverageMinMaxObserver computes it (c = fl32(averaging_constant), default 0.01).
- `percentile`: symmetric: a = the `percentile`-th percentile (default 99.99, numpy's linear
  interpolation) of |x|, range [-a, a]; asymmetric: [P_(100-p)(x), P_p(x)].
- `mse`: candidates r * [min, max] for r = k / grid, k = 1..grid (default grid = 100); each is
  quantized (mode rne) and dequantized exactly, and the candidate with the smallest mean squared
  error over the finite values wins (ties: the largest r, the least clipping).
- `kl`: TensorRT's entropy calibration: a histogram of |x| with `bins` (2048) bins on
  [0, amax]; for each i from L = 2^(bits-1) (signed) or 2^bits (unsigned) to bins, P = the
  first i bins with the count beyond them added to bin i-1, Q = those i bins merged into L
  levels (bin k into level floor(k L / i)), each level's count spread evenly over its nonzero
  bins; the i with the smallest KL(P || Q) (ties: the largest i) gives the threshold
  T = i * amax / bins. Symmetric: range [-T, T]; asymmetric: [max(min, -T), min(max, T)].
  When L >= bins (12 bits or more, signed) T = amax.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..codes import MODE_CODE
from .affine import dequantize_values, quantize_values
from .granularity import Granularity
from .qparams import check_bits, check_scheme, int_range, range_qparams

_SAME = object()


def _finite_rows_minmax(rows):
    if rows.shape[1] == 0:
        n = rows.shape[0]
        return np.full(n, np.inf), np.full(n, -np.inf)
    lo = rows.min(axis=1).astype(np.float64)
    hi = rows.max(axis=1).astype(np.float64)
    if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
        return lo, hi
    finite = np.isfinite(rows)
    lo = np.where(finite, rows, np.inf).min(axis=1).astype(np.float64)
    hi = np.where(finite, rows, -np.inf).max(axis=1).astype(np.float64)
    return lo, hi


class Observer:
    """The common interface; subclasses implement `_update(rows)` and `_range(...)`."""

    name = "observer"

    def __init__(self, *, axis=None, group=None):
        self.axis = axis
        self.group = group
        self.gran = None

    def observe(self, x):
        """Watch x (any real array); returns the observer."""
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{self.name} observer: x must be real numbers, got dtype {x.dtype}")
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        gran = Granularity.of(x.shape, self.axis, self.group)
        if self.gran is None:
            self.gran = gran
        elif gran.param_shape != self.gran.param_shape:
            raise ValueError(f"{self.name} observer: x of shape {x.shape} needs scales of shape "
                             f"{gran.param_shape} ({gran}); earlier observations had "
                             f"{self.gran.param_shape}")
        self._update(gran.rows(x))
        return self

    @property
    def nrows(self) -> int:
        return int(np.prod(self.gran.param_shape)) if self.gran is not None else 0

    def qparams(self, bits=8, signed=True, scheme="symmetric", axis=_SAME, power_of_two=False):
        """(scale, zero_point): float64 and int64 arrays of the granularity's param_shape."""
        bits = check_bits(bits)
        scheme = check_scheme(scheme)
        if axis is not _SAME and axis != self.axis:
            raise ValueError(f"{self.name} observer was made for axis={self.axis}; qparams("
                             f"axis={axis}) needs an observer made with that axis")
        if self.gran is None:
            raise ValueError(f"{self.name} observer has observed nothing yet; call observe(x)")
        lo, hi = self._range(bits, bool(signed), scheme, bool(power_of_two))
        scale, zp = range_qparams(lo, hi, bits, bool(signed), scheme, bool(power_of_two))
        return self.gran.from_rows(scale), self.gran.from_rows(zp)

    def __repr__(self):
        return f"{type(self).__name__}(axis={self.axis}, group={self.group})"


class MinMaxObserver(Observer):
    name = "minmax"

    def __init__(self, *, axis=None, group=None):
        super().__init__(axis=axis, group=group)
        self.min_val = None
        self.max_val = None

    def _update(self, rows):
        lo, hi = _finite_rows_minmax(rows)
        if self.min_val is None:
            self.min_val, self.max_val = lo, hi
        else:
            self.min_val = np.minimum(self.min_val, lo)
            self.max_val = np.maximum(self.max_val, hi)

    def _range(self, bits, signed, scheme, power_of_two):
        return self.min_val, self.max_val


class MovingMinMaxObserver(MinMaxObserver):
    name = "moving-minmax"

    def __init__(self, *, axis=None, group=None, averaging_constant=0.01):
        super().__init__(axis=axis, group=group)
        c = float(averaging_constant)
        if not 0.0 < c <= 1.0:
            raise ValueError(f"averaging_constant={averaging_constant!r} must be in (0, 1]")
        self.averaging_constant = c

    def _update(self, rows):
        lo, hi = _finite_rows_minmax(rows)
        lo32, hi32 = lo.astype(np.float32), hi.astype(np.float32)
        if self.min_val is None:
            self.min_val, self.max_val = lo32, hi32
            return
        c = np.float32(self.averaging_constant)
        with np.errstate(invalid="ignore"):
            seen = np.isfinite(self.min_val) & np.isfinite(lo32)
            new_lo = self.min_val + c * (lo32 - self.min_val)
            new_hi = self.max_val + c * (hi32 - self.max_val)
        # a row seen for the first time takes its min/max; a row with nothing new keeps its own
        self.min_val = np.where(seen, new_lo, np.where(np.isfinite(lo32), lo32, self.min_val))
        self.max_val = np.where(seen, new_hi, np.where(np.isfinite(hi32), hi32, self.max_val))

    def _range(self, bits, signed, scheme, power_of_two):
        return self.min_val.astype(np.float64), self.max_val.astype(np.float64)


class _StoringObserver(Observer):
    """Observers that need the whole distribution keep every observed row."""

    def __init__(self, *, axis=None, group=None):
        super().__init__(axis=axis, group=group)
        self._chunks = []

    def _update(self, rows):
        self._chunks.append(np.array(rows, dtype=np.float64))

    def _data(self):
        return np.concatenate(self._chunks, axis=1)


class PercentileObserver(_StoringObserver):
    name = "percentile"

    def __init__(self, *, axis=None, group=None, percentile=99.99):
        super().__init__(axis=axis, group=group)
        p = float(percentile)
        if not 50.0 < p <= 100.0:
            raise ValueError(f"percentile={percentile!r} must be in (50, 100]")
        self.percentile = p

    def _range(self, bits, signed, scheme, power_of_two):
        data = self._data()
        data = np.where(np.isfinite(data), data, np.nan)
        empty = np.all(np.isnan(data), axis=1)
        data[empty] = 0.0  # no warnings; reset to "unobserved" below
        if scheme == "symmetric":
            a = np.nanpercentile(np.abs(data), self.percentile, axis=1)
            lo, hi = -a, a
        else:
            lo = np.nanpercentile(data, 100.0 - self.percentile, axis=1)
            hi = np.nanpercentile(data, self.percentile, axis=1)
        return np.where(empty, np.inf, lo), np.where(empty, -np.inf, hi)


class MSEObserver(_StoringObserver):
    name = "mse"

    def __init__(self, *, axis=None, group=None, grid=100):
        super().__init__(axis=axis, group=group)
        if isinstance(grid, bool) or not isinstance(grid, numbers.Integral) or grid < 1:
            raise ValueError(f"grid={grid!r} must be a positive int")
        self.grid = int(grid)

    def _range(self, bits, signed, scheme, power_of_two):
        data = self._data()
        finite = np.isfinite(data)
        lo, hi = _finite_rows_minmax(data)
        x = np.where(finite, data, 0.0)
        count = np.maximum(finite.sum(axis=1), 1)
        qmin, qmax = int_range(bits, signed)
        rows = Granularity.of(x.shape, 0)  # one scale per row: channel axis 0 of the rows
        best_err = np.full(len(x), np.inf)
        best_r = np.ones(len(x))
        for k in range(self.grid, 0, -1):  # from r = 1 down: ties keep the larger r
            r = k / self.grid
            scale, zp = range_qparams(lo * r, hi * r, bits, signed, scheme, power_of_two)
            scale, zp = scale.reshape(-1, 1), zp.reshape(-1, 1)
            q, _ = quantize_values(x, scale, zp, qmin, qmax, "rne", MODE_CODE["rne"], None,
                                   False, rows)
            err = np.where(finite, dequantize_values(q, scale, zp, rows) - x, 0.0)
            mse = np.einsum("ij,ij->i", err, err) / count
            better = mse < best_err
            best_err = np.where(better, mse, best_err)
            best_r = np.where(better, r, best_r)
        return lo * best_r, hi * best_r


def _kl_threshold_index(hist: np.ndarray, levels: int) -> int:
    """The i in levels..len(hist) minimising KL(P_i || Q_i) (docs above); ties: the largest."""
    nbins = hist.size
    hist = hist.astype(np.float64)
    tail = np.concatenate([np.cumsum(hist[::-1])[::-1], [0.0]])  # tail[i] = sum(hist[i:])
    best_i, best_kl = nbins, math.inf
    for i in range(levels, nbins + 1):
        p = hist[:i].copy()
        p[i - 1] += tail[i]
        level = (np.arange(i) * levels) // i
        nonzero = hist[:i] > 0
        level_count = np.bincount(level, weights=hist[:i], minlength=levels)
        level_bins = np.bincount(level, weights=nonzero, minlength=levels)
        q = np.where(nonzero, level_count[level] / np.maximum(level_bins[level], 1), 0.0)
        psum, qsum = p.sum(), q.sum()
        if psum == 0 or qsum == 0:
            continue
        support = p > 0
        if np.any(q[support] == 0):
            kl = math.inf
        else:
            pn, qn = p[support] / psum, q[support] / qsum
            kl = float(np.sum(pn * np.log(pn / qn)))
        if kl <= best_kl:
            best_i, best_kl = i, kl
    return best_i


class KLObserver(_StoringObserver):
    name = "kl"

    def __init__(self, *, axis=None, group=None, bins=2048):
        super().__init__(axis=axis, group=group)
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 2:
            raise ValueError(f"bins={bins!r} must be an int >= 2")
        self.bins = int(bins)

    def thresholds(self, bits=8, signed=True):
        """The threshold T of every row (amax where nothing is clipped)."""
        data = self._data()
        levels = 1 << (bits - 1 if signed else bits)
        out = np.zeros(len(data))
        for row, values in enumerate(data):
            mags = np.abs(values[np.isfinite(values)])
            amax = float(mags.max()) if mags.size else 0.0
            if amax == 0.0 or levels >= self.bins:
                out[row] = amax
                continue
            hist, _ = np.histogram(mags, bins=self.bins, range=(0.0, amax))
            out[row] = _kl_threshold_index(hist, levels) * amax / self.bins
        return out

    def _range(self, bits, signed, scheme, power_of_two):
        lo, hi = _finite_rows_minmax(self._data())
        t = self.thresholds(bits, signed)
        if scheme == "symmetric":
            return np.where(np.isfinite(lo), -t, np.inf), np.where(np.isfinite(hi), t, -np.inf)
        return np.maximum(lo, -t), np.minimum(hi, t)


OBSERVERS = {cls.name: cls for cls in (MinMaxObserver, MovingMinMaxObserver, PercentileObserver,
                                       MSEObserver, KLObserver)}


def make_observer(name, **kw) -> Observer:
    """A fresh observer by name (axis=, group= and the observer's own parameters as keywords)."""
    if name not in OBSERVERS:
        raise ValueError(f"unknown observer {name!r}; valid observers: {', '.join(OBSERVERS)}")
    try:
        return OBSERVERS[name](**kw)
    except TypeError as err:
        raise TypeError(f"observer {name!r}: {err}") from None
