"""int_matmul against an exact reference in plain Python integers: every overflow mode, the
accumulator widths, zero points, vectors and batches, the overflow counts, and the errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import numprec
from numprec.quant.intmatmul import IntMatmulResult, int_matmul

MODES = ("wrap", "saturate", "detect")
DTYPES = (np.int8, np.uint8, np.int16, np.uint16, np.int32)


# ---------------------------------------------------------------- the reference

def ref_dot(x, y, acc_bits):
    """(wrapped, saturated, overflowed) for the sum of x[k] * y[k], k in order, by the
    definitions: wrap every partial sum modulo 2^acc, clamp every partial sum, and whether any
    exact partial sum left the range."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    exact = sat = 0
    wrapped = 0
    left = False
    for p in (int(u) * int(v) for u, v in zip(x, y)):
        exact += p
        left = left or not lo <= exact <= hi
        sat = min(max(sat + p, lo), hi)
        wrapped = ((wrapped + p - lo) % (1 << acc_bits)) + lo
    assert wrapped == ((exact + (1 << (acc_bits - 1))) % (1 << acc_bits)) - (1 << (acc_bits - 1))
    return wrapped, sat, left


def ref_matmul(a, b, acc_bits, mode, za=0, zb=0):
    """(result as nested lists, overflowed) for 2-D a @ b, Python ints throughout."""
    k, n = b.shape
    a = [[int(v) - int(z) for v, z in zip(row, zrow)]
         for row, zrow in zip(a.tolist(), np.broadcast_to(za, a.shape).tolist())]
    b = [[int(v) - int(z) for v, z in zip(row, zrow)]
         for row, zrow in zip(b.tolist(), np.broadcast_to(zb, b.shape).tolist())]
    out, count = [], 0
    for row in a:
        line = []
        for j in range(n):
            wrapped, sat, left = ref_dot(row, [b[t][j] for t in range(k)], acc_bits)
            line.append(sat if mode == "saturate" else wrapped)
            count += left
        out.append(line)
    return out, count


def check(a, b, acc_bits, mode, za=0, zb=0):
    want, count = ref_matmul(a, b, acc_bits, mode, za, zb)
    flags = numprec.Flags()
    got = int_matmul(a, b, overflow=mode, acc_bits=acc_bits, a_zero_point=za, b_zero_point=zb,
                     flags=flags, return_overflow=True)
    assert isinstance(got, IntMatmulResult)
    assert got.result.dtype == (np.int32 if acc_bits <= 32 else np.int64)
    assert got.result.shape == (a.shape[0], b.shape[1])
    assert got.result.tolist() == want
    assert got.overflowed == count
    assert flags.overflow == count
    assert flags.saturated == (count if mode == "saturate" else 0)
    assert flags.inexact == 0
    return got


# ---------------------------------------------------------------- hypothesis

def codes(dtype, shape, small):
    info = np.iinfo(dtype)
    lo, hi = (max(info.min, -300), min(info.max, 300)) if small else (info.min, info.max)
    return hnp.arrays(dtype, shape, elements=st.integers(int(lo), int(hi)))


@st.composite
def problems(draw):
    m, k, n = (draw(st.integers(0, 4)), draw(st.integers(0, 12)), draw(st.integers(0, 4)))
    da, db = draw(st.sampled_from(DTYPES)), draw(st.sampled_from(DTYPES))
    acc_bits = draw(st.sampled_from([8, 9, 12, 16, 20, 24, 32, 40, 63, 64]))
    small = acc_bits <= 24 or draw(st.booleans())
    a = draw(codes(da, (m, k), small and da == np.int32))
    b = draw(codes(db, (k, n), small and db == np.int32))
    ia, ib = np.iinfo(da), np.iinfo(db)
    za = draw(st.integers(int(ia.min), int(ia.max))) if draw(st.booleans()) else 0
    zb = draw(st.integers(int(ib.min), int(ib.max))) if draw(st.booleans()) else 0
    if da == np.int32 and db == np.int32 and (za or zb):
        za = zb = 0  # products of int32 codes with zero points may pass 2^62 (refused)
    return a, b, acc_bits, za, zb


@given(problems(), st.sampled_from(MODES))
def test_matches_exact_python_integers(problem, mode):
    a, b, acc_bits, za, zb = problem
    check(a, b, acc_bits, mode, za, zb)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(100, 600), st.sampled_from(MODES),
       st.sampled_from([16, 20, 22, 24]), st.integers(0, 2 ** 32 - 1))
def test_long_sums_near_the_bounds(m, n, k, mode, acc_bits, seed):
    """Sums that drift to the bounds and back: the unchecked runs, the checked steps and the
    wrapped tail all take turns."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-40, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    b[: k // 2] = np.abs(b[: k // 2]).astype(np.int8)  # a positive drift first
    check(a, b, acc_bits, mode)


def test_all_modes_agree_when_nothing_can_overflow():
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (17, 64), dtype=np.int8)
    b = rng.integers(0, 256, (64, 9), dtype=np.uint8)
    want = (a.astype(np.int64) @ (b.astype(np.int64) - 128))
    for mode in MODES:
        got = int_matmul(a, b, overflow=mode, b_zero_point=128, return_overflow=True)
        assert got.overflowed == 0
        np.testing.assert_array_equal(got.result, want)


# ---------------------------------------------------------------- crafted overflows

def test_int32_overflow_of_a_long_int8_sum_detect():
    """140000 products 127 * 127 = 2,258,060,000 > 2^31 - 1 (70000 of them would fit: 16129
    * 70000 = 1,129,030,000)."""
    k = 140000
    a = np.full((1, k), 127, dtype=np.int8)
    b = np.full((k, 2), 127, dtype=np.int8)
    b[:, 1] = -127
    s = 127 * 127 * k
    wrap = ((s + 2 ** 31) % 2 ** 32) - 2 ** 31
    flags = numprec.Flags()
    got = int_matmul(a, b, flags=flags)  # detect is the default
    assert got.tolist() == [[wrap, -wrap]] and got.dtype == np.int32
    assert wrap == s - 2 ** 32 and flags.overflow == 2
    assert int_matmul(a, b, overflow="wrap").tolist() == [[wrap, -wrap]]
    sat = int_matmul(a, b, overflow="saturate", return_overflow=True)
    assert sat.result.tolist() == [[2 ** 31 - 1, -2 ** 31]] and sat.overflowed == 2
    fits = int_matmul(a[:, :70000], b[:70000], return_overflow=True)
    assert fits.result.tolist() == [[16129 * 70000, -16129 * 70000]] and fits.overflowed == 0


def test_uint8_times_int8_overflow_with_70000_terms():
    k = 70000
    a = np.full((1, k), 255, dtype=np.uint8)
    b = np.full((k, 1), 127, dtype=np.int8)
    s = 255 * 127 * k  # 2,266,950,000
    got = int_matmul(a, b, return_overflow=True)
    assert got.result.tolist() == [[((s + 2 ** 31) % 2 ** 32) - 2 ** 31]]
    assert got.overflowed == 1


def test_partial_sums_that_leave_and_come_back():
    a = np.array([[100, 100, -100]], dtype=np.int8)
    b = np.ones((3, 1), dtype=np.int8)
    # acc 8: 100, 200 (out), 100 exact; saturating 100, 127, 27
    assert int_matmul(a, b, overflow="saturate", acc_bits=8).tolist() == [[27]]
    for mode in ("wrap", "detect"):
        got = int_matmul(a, b, overflow=mode, acc_bits=8, return_overflow=True)
        assert got.result.tolist() == [[100]] and got.overflowed == 1
    # the same in 32 bits with int32 codes
    a = np.array([[2 ** 30, 2 ** 30, -2 ** 30]], dtype=np.int32)
    assert int_matmul(a, b, overflow="saturate").tolist() == [[2 ** 31 - 1 - 2 ** 30]]
    got = int_matmul(a, b, overflow="detect", return_overflow=True)
    assert got.result.tolist() == [[2 ** 30]] and got.overflowed == 1
    # the order matters for saturation: the same terms, the negative one first
    a = np.array([[-2 ** 30, 2 ** 30, 2 ** 30]], dtype=np.int32)
    got = int_matmul(a, b, overflow="saturate", return_overflow=True)
    assert got.result.tolist() == [[2 ** 30]] and got.overflowed == 0


def test_only_the_final_sum_out_of_range_counts_too():
    a = np.array([[100, 27, 1]], dtype=np.int8)
    b = np.ones((3, 1), dtype=np.int8)
    got = int_matmul(a, b, acc_bits=8, return_overflow=True)
    assert got.result.tolist() == [[-128]] and got.overflowed == 1


@pytest.mark.parametrize("acc_bits", [63, 64])
def test_the_widest_accumulators_wrap_modulo_2_to_the_acc(acc_bits):
    """Products 2^62 (int32 codes -2^31): sums beyond int64 itself."""
    for k in range(1, 7):
        a = np.full((1, k), -2 ** 31, dtype=np.int32)
        b = np.full((k, 2), -2 ** 31, dtype=np.int32)
        b[:, 1] = 2 ** 31 - 1
        for mode in MODES:
            check(a, b, acc_bits, mode)


def test_acc_bits_16_hand_case():
    a = np.array([[127, 127, 127, -128]], dtype=np.int8)
    b = np.array([[127], [127], [-128], [-128]], dtype=np.int8)
    # products 16129, 16129, -16256, 16384: partial sums 16129, 32258, 16002, 32386
    assert int_matmul(a, b, overflow="wrap", acc_bits=16).tolist() == [[32386]]
    a2 = np.array([[127, 127, 127]], dtype=np.int8)
    b2 = np.array([[127], [127], [127]], dtype=np.int8)  # 48387 > 32767
    got = int_matmul(a2, b2, acc_bits=16, return_overflow=True)
    assert got.result.tolist() == [[48387 - 65536]] and got.overflowed == 1
    assert int_matmul(a2, b2, overflow="saturate", acc_bits=16).tolist() == [[32767]]


# ---------------------------------------------------------------- zero points, shapes

def test_zero_points_are_subtracted_exactly():
    a = np.array([[0, 255, 128]], dtype=np.uint8)
    b = np.array([[-128], [127], [0]], dtype=np.int8)
    # (0 - 128)(-128 - 5) + (255 - 128)(127 - 5) + (128 - 128)(0 - 5)
    want = (-128) * (-133) + 127 * 122 + 0
    assert int_matmul(a, b, a_zero_point=128, b_zero_point=5).tolist() == [[want]]
    assert int_matmul(a, b, a_zero_point=np.uint8(128), b_zero_point=np.int64(5)).tolist() == \
        [[want]]


def test_per_row_zero_points():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (3, 5), dtype=np.uint8)
    b = rng.integers(-128, 128, (5, 4), dtype=np.int8)
    za = np.array([[1], [2], [250]])
    zb = np.array([0, 1, -1, 127])
    check(a, b, 32, "detect", za, zb)


def test_vectors_and_batches_follow_numpy_matmul():
    rng = np.random.default_rng(3)
    m = rng.integers(-128, 128, (3, 4), dtype=np.int8)
    v = rng.integers(-128, 128, 4, dtype=np.int8)
    w = rng.integers(-128, 128, 3, dtype=np.int8)
    wide = lambda x: x.astype(np.int64)  # noqa: E731
    for x, y in [(m, v), (w, m), (v, v)]:
        got = int_matmul(x, y)
        want = wide(x) @ wide(y)
        assert np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want)
    assert isinstance(int_matmul(v, v), np.int32)
    a = rng.integers(-128, 128, (2, 1, 3, 4), dtype=np.int8)
    b = rng.integers(0, 65536, (5, 4, 2), dtype=np.uint16)
    got = int_matmul(a, b, overflow="wrap", b_zero_point=32768)
    want = wide(a) @ (wide(b) - 32768)
    assert got.shape == (2, 5, 3, 2)
    np.testing.assert_array_equal(got, want)


def test_empty_inner_dimension_gives_zeros():
    a = np.zeros((2, 0), dtype=np.int8)
    b = np.zeros((0, 3), dtype=np.int8)
    got = int_matmul(a, b, return_overflow=True)
    assert got.result.tolist() == [[0, 0, 0]] * 2 and got.overflowed == 0
    assert int_matmul(np.zeros((0, 2), np.int8), np.zeros((2, 3), np.int8)).shape == (0, 3)


def test_results_do_not_depend_on_the_thread_count():
    import numba
    rng = np.random.default_rng(4)
    a = rng.integers(0, 128, (40, 300), dtype=np.int8)
    b = rng.integers(0, 128, (300, 30), dtype=np.int8)
    runs = []
    previous = numba.get_num_threads()
    for threads in sorted({1, previous}):
        numba.set_num_threads(threads)
        try:
            runs.append([int_matmul(a, b, overflow=mode, acc_bits=21, return_overflow=True)
                         for mode in MODES])
        finally:
            numba.set_num_threads(previous)
    for first, other in zip(runs[0], runs[-1]):
        np.testing.assert_array_equal(first.result, other.result)
        assert first.overflowed == other.overflowed


# ---------------------------------------------------------------- errors

I8 = np.zeros((2, 3), dtype=np.int8)
I8B = np.zeros((3, 2), dtype=np.int8)


@pytest.mark.parametrize("a, b, kwargs, error, match", [
    (I8.astype(np.float32), I8B, {}, TypeError, "a_q has dtype float32"),
    (I8, I8B.astype(np.int64), {}, TypeError, "b_q has dtype int64"),
    (I8, I8B.astype(bool), {}, TypeError, "b_q has dtype bool"),
    ([[1, 2, 3]], I8B, {}, TypeError, "a_q must be a numpy array"),
    (np.int8(3), I8B, {}, TypeError, "a_q must be a numpy array"),
    (np.array(3, dtype=np.int8), I8B, {}, ValueError, "a_q is a scalar"),
    (I8, np.zeros((4, 2), np.int8), {}, ValueError, r"K=3.*K=4"),
    (np.zeros((2, 2, 3), np.int8), np.zeros((3, 3, 2), np.int8), {}, ValueError,
     "batch dimensions"),
    (I8, I8B, {"overflow": "clamp"}, ValueError, "unknown overflow='clamp'"),
    (I8, I8B, {"acc_bits": 7}, ValueError, "acc_bits=7"),
    (I8, I8B, {"acc_bits": 65}, ValueError, "acc_bits=65"),
    (I8, I8B, {"acc_bits": 32.0}, TypeError, "acc_bits must be an int"),
    (I8, I8B, {"acc_bits": True}, TypeError, "acc_bits must be an int"),
    (I8, I8B, {"a_zero_point": 128}, ValueError, r"a_zero_point=128 .*int8, \[-128, 127\]"),
    (I8.astype(np.uint8), I8B, {"a_zero_point": -1}, ValueError, r"a_zero_point=-1"),
    (I8, I8B, {"b_zero_point": 1.5}, TypeError, "b_zero_point must be an integer"),
    (I8, I8B, {"b_zero_point": True}, TypeError, "b_zero_point must be an integer"),
    (I8, I8B, {"b_zero_point": np.zeros(5, np.int64)}, ValueError, "does not broadcast"),
    (I8, I8B, {"flags": {}}, TypeError, "flags must be a numprec.Flags"),
    (np.full((1, 1), -2 ** 31, np.int32), np.full((1, 1), 2 ** 31 - 1, np.int32),
     {"a_zero_point": 2 ** 31 - 1, "b_zero_point": -2 ** 31}, ValueError, "within 2\\^62"),
])
def test_bad_input_is_refused_clearly(a, b, kwargs, error, match):
    with pytest.raises(error, match=match):
        int_matmul(a, b, **kwargs)
