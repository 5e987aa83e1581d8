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
               "tiny_frac": "underflow", "inexact_frac": "inexact", "invalid_count": "invalid"}
UPDATE_STATS = ("stagnation_frac",)
STATS = VALUE_STATS + tuple(EVENT_STATS) + UPDATE_STATS
STAT_INDEX = {name: i for i, name in enumerate(STATS)}

_COUNT_NAMES = FLAG_NAMES + EVENT_NAMES
_EVENT_SLOTS = np.array([_COUNT_NAMES.index(count) for count in EVENT_STATS.values()])
_EVENT_IS_FRAC = np.array([stat.endswith("_frac") for stat in EVENT_STATS])
assert len(_COUNT_NAMES) == NCOUNTS


@cpu_serial_kernel
def _segment_stats(x, bits, starts, out, hist, bins, exp_out, count_out, emitted):
    """For each segment j of x (x[starts[j]:starts[j+1]]): out[j] = zero fraction, NaN count,
    inf count, amax, norm, min and max exponent (floor(log2|x|) of its finite nonzero values;
    NaN where there are none), and its exponent histogram, nonempty bins only, in
    exp_out/count_out[bins[j]:bins[j] + emitted[j]]. bits is x viewed as int64 (the exponent
    field is read from the bits; frexp only for float64 subnormals). hist is zeroed scratch of
    shape (4, EXP_BINS), left zeroed: element i goes to lane i % 4 of the partial sums and
    histograms, which breaks the dependency chain of one accumulator (the order is fixed: the
    results are deterministic)."""
    sq = np.zeros(4)
    for j in range(starts.size - 1):
        lo_i, hi_i = starts[j], starts[j + 1]
        sq[:] = 0.0
        zeros = nans = infs = 0
        amax = 0.0
        lo, hi = EXP_BINS, -1
        for i in range(lo_i, hi_i):
            v = x[i]
            field = (bits[i] >> 52) & 0x7FF
            if field == 0x7FF:
                if v != v:
                    nans += 1
                else:
                    infs += 1
            elif v == 0.0:
                zeros += 1
            else:
                a = abs(v)
                lane = i & 3
                amax = max(amax, a)
                sq[lane] += a * a
                e = field - 1023 if field != 0 else math.frexp(a)[1] - 1
                b = e + EXP_OFFSET
                hist[lane, b] += 1
                lo = min(lo, b)
                hi = max(hi, b)
        total = (sq[0] + sq[1]) + (sq[2] + sq[3])
        size = hi_i - lo_i
        if amax > 0.0 and (total == np.inf or total < 1e-280):
            # the plain sum of squares over- or underflowed float64: sum (x / amax)^2 instead
            total = 0.0
            for k in range(lo_i, hi_i):
                v = x[k]
                if v == v and v != np.inf and v != -np.inf:
                    total += (v / amax) ** 2
            norm = amax * math.sqrt(total)
        else:
            norm = math.sqrt(total)
        out[j, 0] = zeros / size if size else np.nan
        out[j, 1] = nans
        out[j, 2] = infs
        slot = bins[j]
        if hi >= 0:
            out[j, 3] = amax
            out[j, 4] = norm
            out[j, 5] = lo - EXP_OFFSET
            out[j, 6] = hi - EXP_OFFSET
            for b in range(lo, hi + 1):
                c = hist[0, b] + hist[1, b] + hist[2, b] + hist[3, b]
                if c:
                    exp_out[slot] = b - EXP_OFFSET
                    count_out[slot] = c
                    slot += 1
                    hist[0, b] = hist[1, b] = hist[2, b] = hist[3, b] = 0
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
        self._hist = np.zeros((4, EXP_BINS), dtype=np.int64)

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
