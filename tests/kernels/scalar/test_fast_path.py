"""The branch-light fast pass must agree bit for bit with the general scalar kernel."""
import numpy as np
import pytest
from numba import njit

import numprec
from numprec.codes import MODES, NCOUNTS, NFLAGS, P_MBITS, SR
from numprec.kernels.cpu import rounding as cpu_rounding
from numprec.kernels.cpu.scalars import S
from numprec.kernels.scalar.rng import key_from_seed

random62, round_scalar = S.random62, S.round_scalar

FORMATS = ["fp32", "tf32", "bf16", "fp16", "fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3fnuz",
           "fp6_e2m3fn", "fp4_e2m1fn", numprec.Format("e5m4_nosub", 5, 4, subnormals=False),
           numprec.Format("e3m0_fn", 3, 0, nan="fn"), "q3.4"]


@njit
def _general_only(x, out, P, mode, saturate, ftz, key, rbits, counts):
    for i in range(x.size):
        rand = random62(key, i) if mode == SR else np.int64(0)
        value, flags = round_scalar(x[i], P, mode, saturate, ftz, rand, rbits)
        out[i] = value
        for f in range(counts.size):
            counts[f] += (flags >> f) & 1


def _random_bits(n, seed):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    # Concentrate exponents near the formats' ranges (|x| between 2^-40 and 2^40).
    exps = rng.integers(1023 - 40, 1023 + 40, size=n, dtype=np.uint64)
    bits = (bits & np.uint64(0x800FFFFFFFFFFFFF)) | (exps << np.uint64(52))
    return bits.view(np.float64)


def _ties(fmt, n, seed):
    """Exact midpoints between neighbours in the normal range (all low bits = one half)."""
    shift = 52 - fmt.kernel_params[P_MBITS]
    bits = _random_bits(n, seed).view(np.uint64)
    if shift == 0:
        return bits.view(np.float64)
    low = np.uint64((1 << shift) - 1)
    return ((bits & ~low) | np.uint64(1 << (shift - 1))).view(np.float64)


@pytest.fixture(params=["serial", "parallel"])
def pass_threads(request, monkeypatch):
    """Both copies of each pass: the serial ones (small arrays) and the parallel ones (from
    SMALL_WORK elements), forced here whatever the array's size."""
    monkeypatch.setattr(cpu_rounding, "SMALL_WORK", 1 if request.param == "parallel" else 2**62)
    return request.param


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_fast_pass_matches_general_kernel(fmt, mode, pass_threads):
    fmt = numprec.get_format(fmt)
    x = np.concatenate([_random_bits(20000, 1), _ties(fmt, 5000, 2),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, fmt.max, -fmt.max, fmt.min_subnormal]])
    seed = 7
    flags = numprec.Flags()
    fast = numprec.round(x, fmt, mode, seed=seed, flags=flags)
    ref = np.empty_like(x)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    _general_only(x, ref, fmt.kernel_params, MODES.index(mode), False, False,
                  np.uint64(key_from_seed(seed)), 62, counts)
    np.testing.assert_array_equal(fast.view(np.uint64), ref.view(np.uint64))
    np.testing.assert_array_equal(flags.counts, counts[:NFLAGS])
    np.testing.assert_array_equal(flags.event_counts, counts[NFLAGS:])


def _subnormal_range(fmt, n, seed):
    """Inputs below the format's min normal: random ones, exact multiples and exact midpoints of
    the subnormal quantum (ties), values just beside them, and float64 subnormals."""
    rng = np.random.default_rng(seed)
    top, quantum = fmt.min_normal, fmt.min_subnormal
    k = rng.integers(0, 2 ** fmt.mbits + 1, size=n).astype(np.float64)
    grid = k * quantum
    ties = (k + 0.5) * quantum
    pool = np.concatenate([rng.random(n) * top, grid, ties, np.nextafter(ties, 0.0),
                           np.nextafter(ties, np.inf), np.nextafter(grid, 0.0),
                           [5e-324, 2.2e-308, quantum / 2, quantum / 4, top, np.nextafter(top, 0)]])
    return pool * np.where(rng.random(pool.size) < 0.5, -1.0, 1.0)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "q3.4"], ids=str)  # floats
@pytest.mark.parametrize("mode", MODES)
def test_fast_pass_without_flags_rounds_subnormals_like_the_general_kernel(fmt, mode):
    # without flags (and without ftz) the fast pass also rounds subnormal results itself
    fmt = numprec.get_format(fmt)
    x = np.concatenate([_subnormal_range(fmt, 4000, 3), _random_bits(4000, 4),
                        [0.0, -0.0, np.inf, -np.inf, np.nan]])
    ref = np.empty_like(x)
    _general_only(x, ref, fmt.kernel_params, MODES.index(mode), False, False,
                  np.uint64(key_from_seed(7)), 62, np.zeros(NCOUNTS, dtype=np.int64))
    # the first call finds many tiny elements, so the next ones take the WIDE copy of the fast
    # pass; every call gives the general kernel's bits
    for _ in range(2):
        fast = numprec.round(x, fmt, mode, seed=7)
        np.testing.assert_array_equal(fast.view(np.uint64), ref.view(np.uint64))
    if fmt.subnormals:
        share = cpu_rounding._WIDE_SHARE[(fmt.kernel_params, MODES.index(mode))]
        assert share > cpu_rounding.WIDE_SHARE
    for rbits in (1, 5):  # stochastic rounding with few random bits
        if mode == "sr":
            _general_only(x, ref, fmt.kernel_params, SR, False, False,
                          np.uint64(key_from_seed(7)), rbits, np.zeros(NCOUNTS, dtype=np.int64))
            for _ in range(2):
                fast = numprec.round(x, fmt, "sr", seed=7, rbits=rbits)
                np.testing.assert_array_equal(fast.view(np.uint64), ref.view(np.uint64))


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "q3.4"], ids=str)
@pytest.mark.parametrize("mode", ["rne", "rtz", "rdn", "sr"])
def test_fast_encode_without_flags_gives_the_general_kernels_patterns(fmt, mode):
    # with flags the general kernel encodes every subnormal result; without, the fast pass does
    fmt = numprec.get_format(fmt)
    x = np.concatenate([_subnormal_range(fmt, 4000, 5), _random_bits(4000, 6), [0.0, -0.0]])
    with_flags = numprec.encode(x, fmt, mode, seed=7, saturate=True, flags=numprec.Flags())
    for _ in range(2):  # the second call takes the WIDE copy
        fast = numprec.encode(x, fmt, mode, seed=7, saturate=True)
        np.testing.assert_array_equal(fast, with_flags)
    values = numprec.round(x, fmt, mode, seed=7, saturate=True)
    np.testing.assert_array_equal(numprec.decode(fast, fmt).view(np.uint64),
                                  values.view(np.uint64))


WIDE_FORMATS = [f for f in FORMATS if f != "q3.4"] + [
    "fp64", "fp8_e5m2", "fp8_e8m0fnu", "fp8_ue4m3", "fp6_e3m2fn",
    # min normals below float64's (2^-1023, 2^-1029): float64 subnormals are normal there
    numprec.Format("e11m1_b1024", 11, 1, bias=1024),
    numprec.Format("e11m3_b1030", 11, 3, bias=1030)]


def _wide_inputs(fmt, seed):
    """Subnormal-range and normal inputs of both signs, float64 subnormals, zeros, inf, NaN."""
    rng = np.random.default_rng(seed)
    tiny64 = rng.integers(1, 2**52, size=500).view(np.float64)  # float64 subnormals
    x = np.concatenate([_subnormal_range(fmt, 2000, seed), _random_bits(4000, seed + 1),
                        _ties(fmt, 1000, seed + 2), tiny64, -tiny64,
                        [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, fmt.max, -fmt.max]])
    return x


@pytest.mark.parametrize("copy", ["narrow", "wide"])
@pytest.mark.parametrize("fmt", WIDE_FORMATS, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_each_fast_pass_copy_gives_the_general_kernels_bits(fmt, mode, copy, pass_threads,
                                                           monkeypatch):
    # the share of tiny elements chooses the copy; forced here, each must give the same bits,
    # rounded (float64 and float32 inputs) and encoded
    monkeypatch.setattr(cpu_rounding, "WIDE_SHARE", -1.0 if copy == "wide" else 2.0)
    fmt = numprec.get_format(fmt)
    x = _wide_inputs(fmt, 11)
    ref = np.empty_like(x)
    with np.errstate(invalid="ignore"):
        _general_only(x, ref, fmt.kernel_params, MODES.index(mode), False, False,
                      np.uint64(key_from_seed(7)), 62, np.zeros(NCOUNTS, dtype=np.int64))
    for _ in range(2):  # (the first call of a format and mode records its share)
        fast = numprec.round(x, fmt, mode, seed=7)
        np.testing.assert_array_equal(fast.view(np.uint64), ref.view(np.uint64))
    with np.errstate(over="ignore"):  # (values beyond float32 become inf: inputs like others)
        x32 = x.astype(np.float32)
    ref32 = np.empty(x32.size)
    _general_only(x32.astype(np.float64), ref32, fmt.kernel_params, MODES.index(mode), False,
                  False, np.uint64(key_from_seed(7)), 62, np.zeros(NCOUNTS, dtype=np.int64))
    got32 = numprec.round(x32, fmt, mode, seed=7)
    np.testing.assert_array_equal(np.asarray(got32, np.float64).view(np.uint64),
                                  ref32.view(np.uint64))
    if not fmt.has_nan:  # (no pattern for NaN: encode refuses it)
        x = x[~np.isnan(x)]
    with_flags = numprec.encode(x, fmt, mode, seed=7, saturate=True, flags=numprec.Flags())
    for _ in range(2):
        np.testing.assert_array_equal(numprec.encode(x, fmt, mode, seed=7, saturate=True),
                                      with_flags)


@pytest.mark.parametrize("fmt, tiny_data, wide", [
    ("fp8_e4m3fn", True, True), ("fp8_e4m3fn", False, False), ("fp8_ue4m3", False, True),
    ("bf16", False, False), ("fp64", True, True)])
def test_a_first_call_takes_the_copy_its_data_need(fmt, tiny_data, wide, monkeypatch):
    # (so that on an empty cache a second call does not compile the other copy too)
    fmt = numprec.get_format(fmt)
    rng = np.random.default_rng(5)
    x = rng.standard_normal(10000)  # N(0,1): a sign either way, about 1% below e4m3's 2^-6
    if not tiny_data:
        x = np.where(np.abs(x) < 0.02, 1.0, x)
    elif fmt.name == "fp64":
        x[::3] = 1e-310  # float64 subnormals
    else:
        x[::3] = fmt.min_subnormal * 3
    taken = []
    real = cpu_rounding._fast_pass_for

    def record(mode, fixed, encode, wide=False, unsigned=False, parallel=True):
        taken.append(bool(wide))
        return real(mode, fixed, encode, wide, unsigned, parallel)

    monkeypatch.setattr(cpu_rounding, "_fast_pass_for", record)
    monkeypatch.setattr(cpu_rounding, "_FAST_PASSES", {})  # (every copy asked for anew)
    monkeypatch.setattr(cpu_rounding, "_WIDE_SHARE", {})
    expected = numprec.round(x, fmt, "rne", flags=numprec.Flags())  # (flags: the narrow copy)
    got = numprec.round(x, fmt, "rne")
    assert taken == ([False, True] if wide else [False])  # (a copy is asked for once)
    np.testing.assert_array_equal(got.view(np.uint64), expected.view(np.uint64))
