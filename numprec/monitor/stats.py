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
import numba
from numba import prange, types
from numba.extending import intrinsic

from ..kernels.jit import SMALL_WORK, cpu_parallel_kernel, cpu_serial_kernel, specialize

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


# Three loops rather than one: the integer compares and the sum of squares vectorise on their
# own, the histogram's scattered increments do not (fused, all three run at the slowest pace).
# Each takes a whole (sliced) array: indices from 0 need no negative-index wraparound, which
# would keep the loops from vectorising.
@cpu_serial_kernel
def _bit_stats(bits, fields):
    """(zeros, largest finite |x| bits, smallest nonzero |x| bits) from the bits: integer
    compares only (their order is the order of the magnitudes), written as selects; and the
    exponent field of each element into fields (a vectorised store: the histogram then reads
    2 bytes per element instead of 8 and shifts nothing)."""
    zeros = 0
    max_bits = 0
    min_bits = _ABS
    for i in range(bits.size):
        b = bits[i] & _ABS
        zeros += b == 0
        max_bits = max(max_bits, b if b < _INF_BITS else 0)
        min_bits = min(min_bits, b if b != 0 else _ABS)
        fields[i] = np.uint16(b >> 52)
    return zeros, max_bits, min_bits


@cpu_serial_kernel
def _field_histogram(fields, hist):
    """hist[i % 4, fields[i]] += 1 (four lanes: no dependency chain through one counter when
    neighbours share an exponent)."""
    i = 0
    n = fields.size
    while i + 4 <= n:
        hist[0, fields[i]] += 1
        hist[1, fields[i + 1]] += 1
        hist[2, fields[i + 2]] += 1
        hist[3, fields[i + 3]] += 1
        i += 4
    while i < n:
        hist[0, fields[i]] += 1
        i += 1


SQUARE_LANES = 64  # partial sums of the sum of squares


@cpu_serial_kernel
def _sum_of_squares(x, bits, all_finite):
    """Sum of x^2 over the finite elements in a fixed order: element i goes to partial sum
    i % SQUARE_LANES (the tail past the last whole row of lanes to partial sum 0, in order),
    and the partial sums are added in order. Many independent partial sums let the loop run as
    vector adds without reassociating anything (fastmath stays off); unsigned indices keep
    numba's negative-index wraparound out of the loop, which would stop it vectorising.
    all_finite: no element is inf or NaN, so the loop needs no mask; the sum is the same
    either way."""
    lanes = np.zeros(SQUARE_LANES, dtype=np.float64)
    rows = x.size // SQUARE_LANES
    width = np.uint64(SQUARE_LANES)
    for r in range(rows):
        base = np.uint64(r) * width
        if all_finite:
            for lane in range(SQUARE_LANES):
                v = x[base + np.uint64(lane)]
                lanes[np.uint64(lane)] += v * v
        else:
            for lane in range(SQUARE_LANES):
                i = base + np.uint64(lane)
                v = x[i] if (bits[i] & _ABS) < _INF_BITS else 0.0
                lanes[np.uint64(lane)] += v * v
    for i in range(rows * SQUARE_LANES, x.size):
        lanes[0] += x[i] * x[i] if (bits[i] & _ABS) < _INF_BITS else 0.0
    total = 0.0
    for lane in range(SQUARE_LANES):
        total += lanes[lane]
    return total


@cpu_serial_kernel
def _one_segment(x, bits, out, hist, exp_out, count_out):
    """Value statistics of one array x (bits: x viewed as int64): out[:7] = zero fraction, NaN
    count, inf count, amax, norm, min and max exponent (floor(log2|x|) of its finite nonzero
    values; NaN where there are none), and its exponent histogram, nonempty bins only, in
    exp_out/count_out. Returns (bins written, NaN and inf values seen).

    hist: zeroed scratch of shape (4, 2048), left zeroed; float64 subnormals (field 0) get their
    exponents from frexp in a rare second loop. Every sum runs in a fixed order: the results are
    deterministic."""
    size = x.size
    fields = np.empty(size, dtype=np.uint16)
    zeros, max_bits, min_bits = _bit_stats(bits, fields)
    _field_histogram(fields, hist)
    top = hist[0, 2047] + hist[1, 2047] + hist[2, 2047] + hist[3, 2047]  # inf and NaN
    subnormals = hist[0, 0] + hist[1, 0] + hist[2, 0] + hist[3, 0] - zeros
    for lane in range(4):
        hist[lane, 0] = 0
        hist[lane, 2047] = 0
    nans = 0
    if top:
        for k in range(size):
            nans += (bits[k] & _ABS) > _INF_BITS
    infs = top - nans
    word = np.zeros(1, dtype=np.int64)
    word[0] = max_bits
    amax = word.view(np.float64)[0]
    out[0] = zeros / size if size else np.nan
    out[1] = nans
    out[2] = infs
    slot = 0
    if amax > 0.0:
        total = _sum_of_squares(x, bits, top == 0)
        if total == np.inf or total < 1e-280:
            # the plain sum of squares over- or underflowed float64: sum (x / amax)^2
            total = 0.0
            for k in range(size):
                v = x[k]
                if abs(v) < np.inf:
                    total += (v / amax) ** 2
            norm = amax * math.sqrt(total)
        else:
            norm = math.sqrt(total)
        lowest = 0
        if subnormals > 0:  # float64 subnormals: exponents -1074 .. -1023, from frexp
            sub = np.zeros(52, dtype=np.int64)
            for k in range(size):
                if (bits[k] & _ABS) >> 52 == 0 and x[k] != 0.0:
                    sub[math.frexp(abs(x[k]))[1] - 1 + 1074] += 1
            for e in range(-1074, -1022):
                c = sub[e + 1074]
                if c:
                    if slot == 0:
                        lowest = e
                    exp_out[slot], count_out[slot] = e, c
                    slot += 1
        for field in range(max(min_bits >> 52, 1), (max_bits >> 52) + 1):
            c = hist[0, field] + hist[1, field] + hist[2, field] + hist[3, field]
            if c:
                if slot == 0:
                    lowest = field - 1023
                exp_out[slot], count_out[slot] = field - 1023, c
                slot += 1
                hist[0, field] = hist[1, field] = hist[2, field] = hist[3, field] = 0
        out[3] = amax
        out[4] = norm
        out[5] = lowest
        out[6] = exp_out[slot - 1]
    else:
        defined = size > 0 and nans + infs == 0
        out[3] = 0.0 if defined else np.nan
        out[4] = 0.0 if defined else np.nan
        out[5] = np.nan
        out[6] = np.nan
    return slot, top


@intrinsic
def _float64_pointer(typingctx, address):
    """The int64 `address` as a float64 pointer (for numba.carray)."""
    signature = types.CPointer(types.float64)(types.int64)

    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(sig.return_type))

    return signature, codegen


# Arrays per call of _addresses: a tuple of arrays passes to a kernel without a copy (a
# concatenation cost more than the statistics), but every tuple length is its own compiled
# specialisation, so every call takes exactly this many (short calls padded with empty arrays).
TUPLE_WIDTH = 32


@cpu_serial_kernel
def _addresses(arrays, addresses, sizes, start):
    """addresses[start + j], sizes[start + j] = where arrays[j]'s data lies and its size, for
    the arrays of a tuple (1-D float64, contiguous): the parallel kernel reads them from there
    (a tuple inside a parallel region compiles many times slower). Returns their total size."""
    total = 0
    for j in range(len(arrays)):
        addresses[start + j] = arrays[j].ctypes.data
        sizes[start + j] = arrays[j].size
        total += arrays[j].size
    return total


def _array_stats(addresses, sizes, targets, rows, hists, plan, plan_starts):
    """_one_segment for each array j (sizes[j] float64 values at addresses[j], kept alive by
    the caller) into rows[targets[j]]. Worker t handles the arrays
    plan[plan_starts[t]:plan_starts[t+1]] with its own histogram scratch hists[t]: an array's
    results do not depend on which worker computed it. Returns (the nonempty exponent bins as
    rows (array, exponent, count) in array order, the number of NaN and inf values). Compiled
    twice (_STATS_KERNELS): a parallel copy and a serial one, which enters no parallel region."""
    n = sizes.size
    bins = np.zeros(n + 1, dtype=np.int64)  # where each array's histogram may go
    for j in range(n):
        bins[j + 1] = bins[j] + min(sizes[j], EXP_BINS)
    exps = np.empty(bins[n], dtype=np.int64)
    counts = np.empty(bins[n], dtype=np.int64)
    emitted = np.zeros(n, dtype=np.int64)
    nonfinite = np.zeros(n, dtype=np.int64)
    for t in prange(plan_starts.size - 1):
        hist = hists[t]
        for p in range(plan_starts[t], plan_starts[t + 1]):
            j = plan[p]
            x = numba.carray(_float64_pointer(addresses[j]), sizes[j])
            emitted[j], nonfinite[j] = _one_segment(x, x.view(np.int64), rows[targets[j]], hist,
                                                    exps[bins[j]:bins[j + 1]],
                                                    counts[bins[j]:bins[j + 1]])
    found = np.empty((3, emitted.sum()), dtype=np.int64)
    k = 0
    for j in range(n):
        for b in range(bins[j], bins[j] + emitted[j]):
            found[0, k] = j
            found[1, k] = exps[b]
            found[2, k] = counts[b]
            k += 1
    return found, nonfinite.sum()


# The statistics of a step run on one thread below PARALLEL_STATS_WORK values in all, in a
# serial copy of the kernel: a parallel region costs microseconds to enter even for one worker.
PARALLEL_STATS_WORK = SMALL_WORK
_STATS_KERNELS = {parallel: specialize({_array_stats: cpu_parallel_kernel if parallel
                                        else cpu_serial_kernel}, PARALLEL=parallel)._array_stats
                  for parallel in (False, True)}


def _balanced_plan(sizes, workers):
    """(plan, plan_starts): arrays dealt to workers, largest first, each to the least loaded
    one (so that one worker does not get every large tensor)."""
    loads = [0] * workers
    owned = [[] for _ in range(workers)]
    for j in sorted(range(len(sizes)), key=lambda j: -sizes[j]):
        t = loads.index(min(loads))
        loads[t] += sizes[j] + 64  # + an array's fixed cost
        owned[t].append(j)
    plan = np.array([j for part in owned for j in part], dtype=np.int64)
    plan_starts = np.zeros(workers + 1, dtype=np.int64)
    np.cumsum([len(part) for part in owned], out=plan_starts[1:])
    return plan, plan_starts


class BatchStats:
    """Value statistics of many arrays at once: their rows hold VALUE_STATS (NaN where
    undefined) in their first columns; the nonempty exponent bins as (segment, exponent,
    count); `nonfinite`: how many NaN and inf values the arrays hold."""

    __slots__ = ("rows", "segments", "exponents", "counts", "nonfinite")

    def __init__(self, rows, segments, exponents, counts, nonfinite):
        self.rows, self.segments, self.exponents, self.counts = rows, segments, exponents, counts
        self.nonfinite = nonfinite


def _flat_float64(x) -> np.ndarray:
    """x as a writeable contiguous 1-D float64 array (a view where it already is one): every
    array of a kernel's tuple has one type, or the tuple could not be indexed at run time."""
    flat = (x if type(x) is np.ndarray else np.asarray(x)).ravel()  # copies only if strided
    if flat.dtype is not _FLOAT64 or not flat.flags.writeable:
        flat = flat.astype(np.float64)
    return flat


_FLOAT64 = np.dtype(np.float64)
_EMPTY = np.empty(0)


class StatsKernel:
    """Computes value statistics of many arrays in one compiled pass, the arrays shared out
    among numba's threads (one thread below PARALLEL_STATS_WORK elements in all)."""

    def __init__(self):
        self._hists = np.zeros((0, 4, _FIELDS), dtype=np.int64)
        self._plans = {}
        self._threads = numba.get_num_threads

    def _plan(self, sizes, workers):
        key = (sizes.tobytes(), workers)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 64:  # models whose tensors change shape every step
                self._plans.clear()
            plan = self._plans[key] = _balanced_plan(sizes.tolist(), workers)
        return plan

    def batch(self, arrays, rows=None, targets=None) -> BatchStats:
        """Statistics of arrays[j] into rows[targets[j], :len(VALUE_STATS)] (default: a new
        matrix with one row per array, returned as `rows`)."""
        n = len(arrays)
        if rows is None:
            rows = np.empty((n, len(VALUE_STATS)), dtype=np.float64)
            targets = np.arange(n, dtype=np.int64)
        # alive until the statistics are done; the common case (a float64 ndarray, contiguous
        # or not) without a call
        flat = [a.ravel() if type(a) is np.ndarray and a.dtype is _FLOAT64 and a.flags.writeable
                else _flat_float64(a) for a in arrays]
        width = -(-n // TUPLE_WIDTH) * TUPLE_WIDTH
        addresses = np.empty(width, dtype=np.int64)
        sizes = np.empty(width, dtype=np.int64)
        padded = flat + [_EMPTY] * (width - n)
        total = 0
        for lo in range(0, width, TUPLE_WIDTH):
            total += _addresses(tuple(padded[lo:lo + TUPLE_WIDTH]), addresses, sizes, lo)
        addresses, sizes = addresses[:n], sizes[:n]
        # the plan sets the parallelism (one worker for small work: no threads_for needed)
        workers = 1 if total < PARALLEL_STATS_WORK else max(1, min(self._threads(), n))
        if self._hists.shape[0] < workers:
            self._hists = np.zeros((workers, 4, _FIELDS), dtype=np.int64)
        plan, plan_starts = self._plan(sizes, workers)
        kernel = _STATS_KERNELS[workers > 1]
        found, nonfinite = kernel(addresses, sizes, np.asarray(targets, dtype=np.int64), rows,
                                  self._hists, plan, plan_starts)
        return BatchStats(rows, found[0], found[1], found[2], int(nonfinite))

    def values(self, x):
        """(vector, exponents, counts) of one array."""
        stats = self.batch([x])
        return stats.rows[0], stats.exponents, stats.counts


@cpu_serial_kernel
def fill_event_rows(rows, start, owners, counts, sizes, counted, slots, is_frac):
    """rows[j, start + s] = the count slots[s] summed over every counts[k] with owners[k] == j,
    divided by sizes[j] where is_frac[s] (NaN for an empty tensor), for the rows j with
    counted[j]; the others are left as they are."""
    total = np.zeros((rows.shape[0], counts.shape[1]), dtype=np.int64)
    for k in range(owners.size):
        for c in range(counts.shape[1]):
            total[owners[k], c] += counts[k, c]
    for j in range(rows.shape[0]):
        if counted[j]:
            for s in range(slots.size):
                value = float(total[j, slots[s]])
                if is_frac[s]:
                    value = value / sizes[j] if sizes[j] > 0 else np.nan
                rows[j, start + s] = value


@cpu_serial_kernel
def _update_delta(old, target, new, delta):
    """delta = new - old; returns how many weights an update meant to change (target != old)
    that storage left unchanged (new == old)."""
    stuck = 0
    for i in range(old.size):
        delta[i] = new[i] - old[i]
        stuck += (new[i] == old[i]) & (target[i] != old[i])
    return stuck


def update_delta(old: np.ndarray, target: np.ndarray, new: np.ndarray, delta=None):
    """(new - old, stagnation_frac): the stored change of a weight, and the fraction of weights
    an update meant to change (target != old) that storage left unchanged (new == old: w + delta
    == w after rounding); NaN for an empty weight. Float64 arrays of one shape; delta: a float64
    array of that shape to write new - old into (default: a new one)."""
    if delta is None:
        delta = np.empty(new.shape)
    stuck = _update_delta(old.reshape(-1), target.reshape(-1), new.reshape(-1),
                          delta.reshape(-1))
    return delta, (stuck / old.size if old.size else float("nan"))


__all__ = ["STATS", "VALUE_STATS", "EVENT_STATS", "UPDATE_STATS", "STAT_INDEX", "StatsKernel",
           "BatchStats", "fill_event_rows", "update_delta", "EXP_OFFSET",
           "NCOUNTS"]
