"""The statistics a monitor records for one tensor in one step.

Value statistics come from one pass of a compiled kernel over the values (zeros, NaN, inf, amax,
norm, the binary exponents and their histogram). Event statistics come from the counts the
emulated arithmetic itself raised while producing the tensor (numprec.Flags: flags then events),
divided by the tensor's size: they are events per element, at most 1 for a tensor rounded once
per element; an op that rounds inside (an accumulation) can raise more than one per element.
"""
from __future__ import annotations

import math

import numpy as np

from ..codes import EVENT_NAMES, FLAG_NAMES, NCOUNTS
from ..kernels.jit import cpu_serial_kernel

# floor(log2|x|) of every finite nonzero float64 lies in [-1074, 1023]
EXP_OFFSET = 1080
EXP_BINS = 2 * EXP_OFFSET

VALUE_STATS = ("zero_frac", "nan_count", "inf_count", "amax", "norm", "min_exponent",
               "max_exponent")
# stat name -> the count it divides by the size ("frac") or reports as is ("count")
EVENT_STATS = {"underflow_frac": "zeroed", "subnormal_frac": "subnormal",
               "overflow_frac": "overflow", "saturated_frac": "saturated",
               "tiny_frac": "underflow", "inexact_frac": "inexact", "invalid_count": "invalid",
               "swamped_frac": "swamped"}
UPDATE_STATS = ("stagnation_frac",)
STATS = VALUE_STATS + tuple(EVENT_STATS) + UPDATE_STATS
STAT_INDEX = {name: i for i, name in enumerate(STATS)}

_COUNT_NAMES = FLAG_NAMES + EVENT_NAMES
_EVENT_SLOTS = np.array([_COUNT_NAMES.index(count) for count in EVENT_STATS.values()])
_EVENT_IS_FRAC = np.array([stat.endswith("_frac") for stat in EVENT_STATS])
assert len(_COUNT_NAMES) == NCOUNTS


_ABS = 0x7FFFFFFFFFFFFFFF      # the bits of |x|
_INF_BITS = 0x7FF0000000000000  # the bits of inf: above it, NaN
_FIELDS = 2048                  # values of float64's exponent field


@cpu_serial_kernel
def _bit_stats(bits, lo_i, hi_i):
    """(zeros, NaNs, largest finite |x| bits, smallest nonzero |x| bits) from the bits: integer
    compares only (float compares on data with zeros at random places cost mispredictions)."""
    zeros = nans = 0
    max_bits = 0
    min_bits = _ABS
    for i in range(lo_i, hi_i):
        b = bits[i] & _ABS
        zeros += b == 0
        nans += b > _INF_BITS
        if b < _INF_BITS and b > max_bits:
            max_bits = b
        if b != 0 and b < min_bits:
            min_bits = b
    return zeros, nans, max_bits, min_bits


@cpu_serial_kernel
def _field_histogram(bits, lo_i, hi_i, hist):
    """hist[i % 4, exponent field of x[i]] += 1 (four lanes: no dependency chain through one
    counter when neighbours share an exponent)."""
    i = lo_i
    while i + 4 <= hi_i:
        hist[0, (bits[i] & _ABS) >> 52] += 1
        hist[1, (bits[i + 1] & _ABS) >> 52] += 1
        hist[2, (bits[i + 2] & _ABS) >> 52] += 1
        hist[3, (bits[i + 3] & _ABS) >> 52] += 1
        i += 4
    while i < hi_i:
        hist[0, (bits[i] & _ABS) >> 52] += 1
        i += 1


@cpu_serial_kernel
def _sum_of_squares(x, lo_i, hi_i):
    """Sum of x^2 over the finite elements, in four interleaved partial sums (a fixed order)."""
    t0 = t1 = t2 = t3 = 0.0
    i = lo_i
    while i + 4 <= hi_i:
        a0, a1, a2, a3 = x[i], x[i + 1], x[i + 2], x[i + 3]
        t0 += a0 * a0 if abs(a0) < np.inf else 0.0
        t1 += a1 * a1 if abs(a1) < np.inf else 0.0
        t2 += a2 * a2 if abs(a2) < np.inf else 0.0
        t3 += a3 * a3 if abs(a3) < np.inf else 0.0
        i += 4
    while i < hi_i:
        a0 = x[i]
        t0 += a0 * a0 if abs(a0) < np.inf else 0.0
        i += 1
    return (t0 + t1) + (t2 + t3)


@cpu_serial_kernel
def _segment_stats(x, bits, starts, out, hist, bins, exp_out, count_out, emitted):
    """For each segment j of x (x[starts[j]:starts[j+1]]): out[j] = zero fraction, NaN count,
    inf count, amax, norm, min and max exponent (floor(log2|x|) of its finite nonzero values;
    NaN where there are none), and its exponent histogram, nonempty bins only, in
    exp_out/count_out[bins[j]:bins[j] + emitted[j]].

    bits is x viewed as int64: counts, amax and the exponent range come from integer compares
    of |x|'s bits (their order is the order of the magnitudes), the histogram from the exponent
    field (hist: zeroed scratch of shape (4, 2048), left zeroed); float64 subnormals (field 0)
    get their exponents from frexp in a rare second loop. Every sum runs in a fixed order: the
    results are deterministic."""
    word = np.zeros(1, dtype=np.int64)
    as_float = word.view(np.float64)
    for j in range(starts.size - 1):
        lo_i, hi_i = starts[j], starts[j + 1]
        size = hi_i - lo_i
        zeros, nans, max_bits, min_bits = _bit_stats(bits, lo_i, hi_i)
        _field_histogram(bits, lo_i, hi_i, hist)
        infs = hist[0, 2047] + hist[1, 2047] + hist[2, 2047] + hist[3, 2047] - nans
        subnormals = hist[0, 0] + hist[1, 0] + hist[2, 0] + hist[3, 0] - zeros
        for lane in range(4):
            hist[lane, 0] = 0
            hist[lane, 2047] = 0
        word[0] = max_bits
        amax = as_float[0]
        out[j, 0] = zeros / size if size else np.nan
        out[j, 1] = nans
        out[j, 2] = infs
        slot = bins[j]
        if amax > 0.0:
            total = _sum_of_squares(x, lo_i, hi_i)
            if total == np.inf or total < 1e-280:
                # the plain sum of squares over- or underflowed float64: sum (x / amax)^2
                total = 0.0
                for k in range(lo_i, hi_i):
                    v = x[k]
                    if abs(v) < np.inf:
                        total += (v / amax) ** 2
                norm = amax * math.sqrt(total)
            else:
                norm = math.sqrt(total)
            lowest = 0
            if subnormals > 0:  # float64 subnormals: exponents -1074 .. -1023, from frexp
                sub = np.zeros(52, dtype=np.int64)
                for k in range(lo_i, hi_i):
                    if (bits[k] & _ABS) >> 52 == 0 and x[k] != 0.0:
                        sub[math.frexp(abs(x[k]))[1] - 1 + 1074] += 1
                for e in range(-1074, -1022):
                    c = sub[e + 1074]
                    if c:
                        if slot == bins[j]:
                            lowest = e
                        exp_out[slot] = e
                        count_out[slot] = c
                        slot += 1
            high_field = max_bits >> 52
            for field in range(max(min_bits >> 52, 1), high_field + 1):
                c = hist[0, field] + hist[1, field] + hist[2, field] + hist[3, field]
                if c:
                    if slot == bins[j]:
                        lowest = field - 1023
                    exp_out[slot] = field - 1023
                    count_out[slot] = c
                    slot += 1
                    hist[0, field] = hist[1, field] = hist[2, field] = hist[3, field] = 0
            out[j, 3] = amax
            out[j, 4] = norm
            out[j, 5] = lowest
            out[j, 6] = exp_out[slot - 1]
        else:
            defined = size > 0 and nans + infs == 0
            out[j, 3] = 0.0 if defined else np.nan
            out[j, 4] = 0.0 if defined else np.nan
            out[j, 5] = np.nan
            out[j, 6] = np.nan
        emitted[j] = slot - bins[j]


class BatchStats:
    """Value statistics of many arrays at once: `vectors[j]` (VALUE_STATS order, NaN where
    undefined) for arrays[j], and the nonempty exponent bins as (segment, exponent, count)."""

    __slots__ = ("vectors", "segments", "exponents", "counts")

    def __init__(self, vectors, segments, exponents, counts):
        self.vectors, self.segments, self.exponents, self.counts = (vectors, segments,
                                                                    exponents, counts)


class StatsKernel:
    """Computes value statistics in one compiled pass over many arrays (serial: a step's
    tensors are small, and waking threads would cost more than it saves)."""

    def __init__(self):
        self._hist = np.zeros((4, _FIELDS), dtype=np.int64)

    def batch(self, arrays) -> BatchStats:
        n = len(arrays)
        sizes = np.fromiter((np.size(a) for a in arrays), dtype=np.int64, count=n)
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        flat = (np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays])
                if arrays else np.zeros(0))
        out = np.empty((n, len(VALUE_STATS)), dtype=np.float64)
        bins = np.zeros(n + 1, dtype=np.int64)  # where each segment's histogram goes
        np.cumsum(np.minimum(sizes, EXP_BINS), out=bins[1:])
        exps = np.empty(bins[-1], dtype=np.int64)
        counts = np.empty(bins[-1], dtype=np.int64)
        emitted = np.zeros(n, dtype=np.int64)
        _segment_stats(flat, flat.view(np.int64), starts, out, self._hist, bins, exps, counts,
                       emitted)
        keep = np.repeat(np.arange(n), emitted)
        index = bins[keep] + (np.arange(keep.size) - np.repeat(np.cumsum(emitted) - emitted,
                                                                emitted))
        return BatchStats(out, keep, exps[index], counts[index])

    def values(self, x):
        """(vector, exponents, counts) of one array."""
        stats = self.batch([x])
        return stats.vectors[0], stats.exponents, stats.counts


def event_stats(counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """EVENT_STATS (columns) from kernels' counts (rows of flags then events) for tensors of
    `sizes` elements."""
    counts = np.atleast_2d(counts)
    sizes = np.atleast_1d(np.asarray(sizes, dtype=np.float64))
    picked = counts[:, _EVENT_SLOTS].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        picked[:, _EVENT_IS_FRAC] /= np.where(sizes > 0, sizes, np.nan)[:, None]
    return picked


def stagnation_frac(old: np.ndarray, target: np.ndarray, new: np.ndarray) -> float:
    """Fraction of weights an update meant to change (target != old) that storage left
    unchanged (new == old): w + delta == w after rounding."""
    old = np.asarray(old, dtype=np.float64)
    if old.size == 0:
        return float("nan")
    stuck = (np.asarray(new) == old) & (np.asarray(target) != old)
    return float(np.count_nonzero(stuck)) / old.size


__all__ = ["STATS", "VALUE_STATS", "EVENT_STATS", "UPDATE_STATS", "STAT_INDEX", "StatsKernel",
           "BatchStats", "event_stats", "stagnation_frac", "EXP_OFFSET", "NCOUNTS"]
