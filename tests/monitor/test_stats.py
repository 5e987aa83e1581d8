"""The monitor's compiled statistics against plain-Python references (exact where the
statistic is exact: counts, amax, exponents, histograms; the norm to a few ulps)."""
from __future__ import annotations

import math
from collections import Counter

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numprec.codes import EVENT_NAMES, FLAG_NAMES, NCOUNTS
from numprec.kernels.jit import SMALL_WORK
from numprec.monitor import stats as stats_module
from numprec.monitor.stats import (_EVENT_IS_FRAC, _EVENT_SLOTS, EVENT_STATS, TUPLE_WIDTH,
                                   VALUE_STATS, StatsKernel, fill_event_rows, update_delta)

SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, 1e300, 1.7976931348623157e308,
           float("inf"), float("-inf"), float("nan"), 1.0, -3.5]


def reference(x):
    """VALUE_STATS and the exponent histogram of x, computed element by element."""
    x = [float(v) for v in np.asarray(x, dtype=np.float64).reshape(-1)]
    finite = [v for v in x if math.isfinite(v)]
    nonzero = [v for v in finite if v != 0.0]
    nans = sum(math.isnan(v) for v in x)
    infs = sum(math.isinf(v) for v in x)
    exponents = Counter(math.frexp(v)[1] - 1 for v in nonzero)
    if nonzero:
        amax = max(abs(v) for v in nonzero)
        norm = amax * math.sqrt(math.fsum((v / amax) ** 2 for v in finite))
        low, high = min(exponents), max(exponents)
    else:
        defined = bool(x) and nans + infs == 0
        amax = norm = 0.0 if defined else math.nan
        low = high = math.nan
    zero_frac = sum(v == 0.0 for v in x) / len(x) if x else math.nan
    return [zero_frac, nans, infs, amax, norm, low, high], dict(exponents)


def assert_matches(vector, hist, x):
    expected, expected_hist = reference(x)
    for name, got, want in zip(VALUE_STATS, vector, expected):
        if name == "norm" and math.isfinite(want) and want > 0:
            assert got == pytest.approx(want, rel=1e-13), name
        else:
            assert (math.isnan(got) and math.isnan(want)) or got == want, (name, got, want)
    assert hist == expected_hist


values = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from(SPECIAL),
                   st.floats(min_value=-1e-300, max_value=1e-300))


@settings(max_examples=300, deadline=None)
@given(st.lists(values, max_size=40))
def test_one_array_matches_the_reference(xs):
    vector, exps, counts = StatsKernel().values(np.array(xs, dtype=np.float64))
    assert_matches(vector, dict(zip(exps.tolist(), counts.tolist())), xs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(values, max_size=12), min_size=1, max_size=8))
def test_many_arrays_land_in_their_rows_and_segments(arrays):
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    rows = np.full((len(arrays) + 2, len(VALUE_STATS) + 3), -7.0)
    targets = list(range(len(arrays) + 1, 0, -1))[:len(arrays)]  # reversed, row 0 unused
    stats = StatsKernel().batch(arrays, rows, targets)
    for j, x in enumerate(arrays):
        hist = {int(e): int(c) for s, e, c in zip(stats.segments, stats.exponents, stats.counts)
                if s == j}
        assert_matches(rows[targets[j], :len(VALUE_STATS)], hist, x)
    assert np.all(rows[0] == -7.0) and np.all(rows[:, len(VALUE_STATS):] == -7.0)
    assert stats.nonfinite == sum(int(np.sum(~np.isfinite(a))) for a in arrays)
    assert np.all(np.diff(stats.segments) >= 0)  # segment order


def test_more_arrays_than_one_call_takes_and_arrays_of_any_layout():
    # the kernel takes TUPLE_WIDTH arrays per call: 2.5 calls' worth, some of them float32,
    # transposed, read-only or empty, land in their rows with their segment numbers
    rng = np.random.default_rng(11)
    arrays = []
    for j in range(TUPLE_WIDTH * 2 + TUPLE_WIDTH // 2):
        x = rng.standard_normal((j % 5 + 1, j % 7 + 1)) * 2.0 ** int(rng.integers(-60, 60))
        if j % 4 == 1:
            x = x.T
        elif j % 4 == 2:
            x = x.astype(np.float32)
        elif j % 4 == 3:
            x.flags.writeable = False
        if j % 9 == 0:
            x = x[:0]
        arrays.append(x)
    rows = np.full((len(arrays), len(VALUE_STATS)), -7.0)
    targets = list(range(len(arrays)))[::-1]
    stats = StatsKernel().batch(arrays, rows, targets)
    assert np.all(np.diff(stats.segments) >= 0)
    for j, x in enumerate(arrays):
        hist = {int(e): int(c) for s, e, c in zip(stats.segments, stats.exponents, stats.counts)
                if s == j}
        assert_matches(rows[targets[j]], hist, x.astype(np.float64).reshape(-1).tolist())


def test_the_norm_survives_overflow_and_underflow_of_the_squares():
    big = np.array([1e300, -2e300, 3e299])
    tiny = np.array([1e-200, 3e-201, 0.0])
    for x in (big, tiny):
        vector, _, _ = StatsKernel().values(x)
        assert_matches(vector, reference(x)[1], x)


def test_the_threads_split_tensors_without_changing_a_bit(monkeypatch):
    # one thread takes the serial copy of the kernel, several the parallel one: the same bits
    monkeypatch.setattr(stats_module, "PARALLEL_STATS_WORK", 1)
    rng = np.random.default_rng(5)
    sizes = [SMALL_WORK, 3, SMALL_WORK // 2, 4097, 1, 0, 777]
    arrays = [rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30) for n in sizes]
    arrays[1][1] = np.nan
    arrays[3][::5] = 0.0
    arrays[6][::3] = 1e-310  # float64 subnormals
    results = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, previous):
            numba.set_num_threads(threads)
            stats = StatsKernel().batch(arrays)
            results.append((stats.rows.copy(), stats.segments, stats.exponents, stats.counts))
    finally:
        numba.set_num_threads(previous)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    for j, x in enumerate(arrays):
        hist = {int(e): int(c) for s, e, c in zip(*results[0][1:]) if s == j}
        assert_matches(results[0][0][j], hist, x)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(values, values, values), max_size=30))
def test_update_delta_and_stagnation(triples):
    old, target, new = (np.array([t[i] for t in triples], dtype=np.float64) for i in range(3))
    delta, stagnation = update_delta(old, target, new)
    buffer = np.full(old.shape, 7.0)  # a reused buffer's stale values are all overwritten
    into, stagnation_into = update_delta(old, target, new, buffer)
    assert into is buffer
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(delta, new - old)
        np.testing.assert_array_equal(into, new - old)
    assert stagnation_into == stagnation or (math.isnan(stagnation) and
                                             math.isnan(stagnation_into))
    if not triples:
        assert math.isnan(stagnation)
    else:
        stuck = sum(n == o and t != o for o, t, n in zip(old, target, new))
        assert stagnation == stuck / len(triples)


def test_event_rows_sum_each_tensors_flags():
    rng = np.random.default_rng(2)
    owners = rng.integers(0, 5, size=40)
    counts = rng.integers(0, 1000, size=(40, NCOUNTS))
    sizes = np.array([10.0, 0.0, 7.0, 1000.0, 3.0])
    counted = np.array([True, True, False, True, True])
    start = 2
    rows = np.full((5, start + len(EVENT_STATS) + 1), np.nan)
    fill_event_rows(rows, start, owners, counts, sizes, counted, _EVENT_SLOTS, _EVENT_IS_FRAC)
    for j in range(5):
        got = rows[j, start:start + len(EVENT_STATS)]
        if not counted[j]:
            assert np.all(np.isnan(got))
            continue
        total = counts[owners == j].sum(axis=0)
        names = FLAG_NAMES + EVENT_NAMES
        want = [((total[names.index(count)] / sizes[j]) if sizes[j] else np.nan)
                if stat.endswith("_frac") else float(total[names.index(count)])
                for stat, count in EVENT_STATS.items()]
        np.testing.assert_array_equal(got, np.array(want, dtype=np.float64))
    assert np.all(np.isnan(rows[:, :start])) and np.all(np.isnan(rows[:, -1]))
