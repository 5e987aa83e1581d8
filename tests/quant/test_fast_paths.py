"""The compiled one-pass kernels of quantize and mx_encode (numprec.kernels.cpu.quant and .mx)
against the exact multi-pass paths they stand in for (numprec.quant.quantize._quantize_exact,
numprec.quant.mx._bfp_encode_exact), bit for bit: integer codes, scales, zero points, the
saturated count and the NaN / inf counts, or the same error.

The data are adversarial: exact integers and ties of x / scale and their neighbours one ulp
away, float32 and float64 subnormals, signed zeros, values that saturate, NaN and inf, tiny and
huge scales and scales such as 0.1 and 1/3 that are not dyadic; and for MX, blocks whose amax
sits on a scale rule's boundary, element midpoints times 2^E, zero blocks, NaN / inf blocks and
blocks whose scale overflows or clamps. A fixture checks that the fast kernels really ran.
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import numprec
from numprec import Flags
from numprec.kernels.cpu import mx as fast_mx
from numprec.kernels.cpu import quant as fast
from numprec.quant import MX_FORMATS, bfp_encode, mx_encode, quantize
from numprec.quant.mx import SCALE_RULES, _bfp_encode_exact
from numprec.quant.quantize import _quantize_exact
from numprec.testing import mx_edge_blocks, quantizer_params

MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto")
SCALES = (0.375, 2.0 ** -7, float(np.float32(0.0123)), 0.1, 1 / 3, 7.0e-5, 3.0, 1e-30, 3e30)


@pytest.fixture
def kernel_calls(monkeypatch):
    """How many times each fast kernel ran during the test."""
    calls = {"quantize": 0, "mx": 0}

    def counted(name, kernel):
        def run(*args, **kwargs):
            calls[name] += 1
            return kernel(*args, **kwargs)
        return run

    monkeypatch.setattr(fast, "quantize_into", counted("quantize", fast.quantize_into))
    monkeypatch.setattr(fast_mx, "mx_encode_into", counted("mx", fast_mx.mx_encode_into))
    return calls


# ---------------------------------------------------------------- integer quantization

def _outcome(func, x, kw):
    flags = Flags()
    try:
        r = func(x, flags=flags, **kw)
    except ValueError as err:
        return ("error", str(err))
    return (r.q.dtype, r.q.shape, r.q.tobytes(), r.scale.tobytes(), r.zero_point.tobytes(),
            r.nonfinite_counts, int(flags.saturated))


def assert_same_quantize(x, **kw):
    fast_result = _outcome(quantize, x, kw)
    exact = _outcome(_quantize_exact, x, kw)
    if fast_result != exact:
        a, b = quantize(x, **kw).q, _quantize_exact(x, **kw).q
        where = np.argwhere(a != b)[:5]
        raise AssertionError(f"fast path differs for {kw}: at {where.tolist()} x="
                             f"{[x[tuple(i)] for i in where]} fast={[a[tuple(i)] for i in where]}"
                             f" exact={[b[tuple(i)] for i in where]}")


def adversarial(dtype, scale, rng, n_random=64):
    """x / scale at and one ulp around integers and ties, plus the awkward values."""
    dtype = np.dtype(dtype)
    k = rng.integers(-300, 300, 48).astype(np.float64)
    k = np.concatenate([k, [0, 126, 127, 128, -127, -128, -129, 255, 256, 1000, 1023, 1024,
                            1025, -1023, -1024, -1025, 32767, 32768]])
    grid = np.concatenate([k, k + 0.5, k + 0.25]) * scale
    with np.errstate(over="ignore", under="ignore"):
        base = grid.astype(dtype)
        near = np.concatenate([base, np.nextafter(base, dtype.type(np.inf)),
                               np.nextafter(base, dtype.type(-np.inf))])
        tiny = np.finfo(dtype).smallest_subnormal
        awkward = np.array([0.0, -0.0, tiny, -tiny, 3 * tiny, np.finfo(dtype).tiny,
                            -np.finfo(dtype).tiny, np.finfo(dtype).max, -np.finfo(dtype).max,
                            1e30, -1e30, np.nan, np.inf, -np.inf], dtype=dtype)
        normal = (rng.standard_normal(n_random) * scale * 60).astype(dtype)
    return np.concatenate([near, awkward, normal])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_per_tensor_given_scale_on_adversarial_data(kernel_calls, dtype, mode):
    rng = np.random.default_rng(MODES.index(mode))
    for scale in SCALES:
        x = adversarial(dtype, scale, rng)
        for bits, signed, zp in ((8, True, None), (8, True, -5), (4, False, 3), (16, True, 1000)):
            for before in (False, True):
                assert_same_quantize(x, bits=bits, signed=signed, scale=scale, zero_point=zp,
                                     mode=mode, zero_point_before_rounding=before,
                                     nonfinite="clamp")
    assert kernel_calls["quantize"] > 0


@pytest.mark.parametrize("mode", MODES)
def test_per_channel_layouts(kernel_calls, mode):
    """Leading axis (rows of one scale), last axis (a scale per column), and a middle axis
    with few (repeated parameters) and many elements after it."""
    rng = np.random.default_rng(10 + MODES.index(mode))
    scales = np.array(SCALES[:6])
    for dtype in (np.float32, np.float64):
        rows = np.stack([adversarial(dtype, s, rng, 16)[:200] for s in scales])
        zp = rng.integers(-20, 20, scales.size)
        for x, axis in ((rows, 0), (np.ascontiguousarray(rows.T), 1),
                        (np.ascontiguousarray(rows.reshape(6, 40, 5).transpose(1, 0, 2)), 1),
                        (np.stack([rows, rows[::-1], rows]), 1)):
            shape = [1] * x.ndim
            shape[axis] = x.shape[axis]
            n = x.shape[axis]
            s = np.resize(scales, n).reshape(shape)
            z = np.resize(zp, n).reshape(shape)
            for before in (False, True):
                assert_same_quantize(x, axis=axis, scale=s, zero_point=z, mode=mode,
                                     zero_point_before_rounding=before, nonfinite="clamp")
    assert kernel_calls["quantize"] > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_observed_scales(kernel_calls, dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((12, 70)) * np.logspace(-8, 8, 12)[:, None]).astype(dtype)
    x[2, 5] = np.nan
    x[3, :] = np.nan  # a channel with no finite value: scale 1, zero point 0
    x[4, 7] = -np.inf
    for kw in (dict(), dict(axis=0), dict(axis=1), dict(axis=-1, scheme="asymmetric"),
               dict(axis=0, signed=False, scheme="asymmetric", bits=4),
               dict(power_of_two=True, scheme="asymmetric"), dict(observer="percentile"),
               dict(mode="rto", zero_point_before_rounding=True, scheme="asymmetric")):
        assert_same_quantize(x, nonfinite="clamp", **kw)
        assert_same_quantize(x, nonfinite="error", **kw)  # the same refusal
    assert kernel_calls["quantize"] > 0


def test_errors_come_in_the_exact_paths_order():
    x = np.array([1.0, np.nan, 2.0], dtype=np.float32)
    for kw in (dict(scale=-1.0), dict(scale=0.5), dict(scale=0.5, zero_point=1000),
               dict(scale=0.5, zero_point=1.5), dict(), dict(bits=1), dict(mode="bad"),
               dict(axis=3, scale=1.0)):
        assert_same_quantize(x, **kw)
    for big in ([1e300, -2.0], [1e300, 2.0]):  # overflows the observer's float32 scale
        assert_same_quantize(np.array(big))


def test_scales_beyond_the_kernels_range_take_the_exact_path(kernel_calls):
    x = np.array([1e-300, -3e-310, 5e-324, 0.0, 2.0])
    for scale in (5e-324, 2.0 ** -1010, 2.0 ** 1000):
        for mode in ("rne", "rup"):
            assert_same_quantize(x, scale=scale, mode=mode, zero_point=7)
    assert kernel_calls["quantize"] == 0


def test_stochastic_rounding_and_groups_stay_exact(kernel_calls):
    x = np.linspace(-3, 3, 64)
    a = quantize(x, scale=0.1, mode="sr", seed=5)
    b = _quantize_exact(x, scale=0.1, mode="sr", seed=5)
    assert np.array_equal(a.q, b.q)
    assert_same_quantize(x.reshape(4, 16), axis=1, group=4)
    assert kernel_calls["quantize"] == 0


_FLOAT32_BITS = st.integers(0, 2 ** 32 - 1).map(lambda b: np.uint32(b).view(np.float32))
_FLOAT64_BITS = st.integers(0, 2 ** 64 - 1).map(lambda b: np.uint64(b).view(np.float64))


@given(params=quantizer_params(), mode=st.sampled_from(MODES), before=st.booleans(),
       wide=st.booleans(), data=st.data())
def test_hypothesis_drawn_patterns_and_parameters(params, mode, before, wide, data):
    bits, signed, scheme, scale, zp = params
    elements = st.one_of(_FLOAT64_BITS if wide else _FLOAT32_BITS,
                         st.integers(-2 ** 17, 2 ** 17).map(lambda k: k * 0.5 * scale))
    values = data.draw(st.lists(elements, min_size=1, max_size=40))
    x = np.array(values, dtype=np.float64 if wide else np.float32)
    assert_same_quantize(x, bits=bits, signed=signed, scheme=scheme, scale=scale,
                         zero_point=zp, mode=mode, zero_point_before_rounding=before,
                         nonfinite="clamp")


# ---------------------------------------------------------------- MX block encoding

def assert_same_mx(x, elem, **kw):
    try:
        a = mx_encode(x, elem, **kw)
    except ValueError as err:
        a = str(err)
    try:
        with np.errstate(over="ignore"):  # (the reference's ldexp may overflow: it saturates)
            b = _bfp_encode_exact(x, elem, block=kw.pop("block", 32), scale_bits=8,
                                  _caller="mx_encode", **kw)
    except ValueError as err:
        b = str(err)
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    for fast_part, exact_part in zip(a, b):
        assert fast_part.dtype == exact_part.dtype and fast_part.shape == exact_part.shape
        if not np.array_equal(fast_part, exact_part):
            where = np.argwhere(fast_part != exact_part)[:5]
            raise AssertionError(f"{elem} {kw}: differs at {where.tolist()}: fast "
                                 f"{[fast_part[tuple(i)] for i in where]} exact "
                                 f"{[exact_part[tuple(i)] for i in where]}")


def float32_edge_blocks(elem, rng, nblocks=48):
    """Blocks of 32 float32 values: amax at float32 powers of two (subnormal to the top binade)
    and one ulp around them, at the element's max times 2^k and just above; the element's
    midpoints and codes times 2^E; float32 subnormals; signed zeros; NaN and inf blocks."""
    fmt = numprec.quant.mx.element_format(elem)
    codes = np.arange(1 << fmt.nbits)
    values = numprec.decode(codes, fmt)
    values = np.unique(np.abs(values[np.isfinite(values)]))
    mids = (values[1:] + values[:-1]) / 2
    blocks = []
    for i in range(nblocks):
        k = int(rng.integers(-149, 128))
        e = int(rng.integers(-140, 120))
        top = math.ldexp(fmt.max, int(rng.integers(-130, 100)))
        amax = [math.ldexp(1.0, k), top, top * 1.0625][i % 3]
        with np.errstate(over="ignore", under="ignore"):
            a32 = np.float32(amax)
            amax = [a32, np.nextafter(a32, np.float32(0)), np.nextafter(a32, np.float32(np.inf))][
                i % 3]
            pick = rng.choice(np.concatenate([mids, values]), 31)
            rest = np.ldexp(pick, e).astype(np.float32)
            rest = np.where(rng.random(31) < 0.2, rng.standard_normal(31).astype(np.float32)
                            * amax, rest)
            rest[rng.random(31) < 0.1] = np.float32(1e-45) * rng.integers(1, 50)
        block = np.concatenate([[amax], rest]).astype(np.float32)
        block *= np.where(rng.random(32) < 0.5, -1, 1).astype(np.float32)
        rng.shuffle(block)
        blocks.append(block)
    blocks.append(np.zeros(32, np.float32))
    blocks.append(-np.zeros(32, np.float32))
    special = rng.standard_normal(32).astype(np.float32)
    special[3] = np.nan
    blocks.append(special)
    special = special.copy()
    special[3] = -np.inf
    blocks.append(special)
    return np.stack(blocks)


@pytest.mark.parametrize("elem", list(MX_FORMATS))
@pytest.mark.parametrize("scale_rule", SCALE_RULES)
def test_mx_float32_edge_blocks(kernel_calls, elem, scale_rule):
    rng = np.random.default_rng(SCALE_RULES.index(scale_rule))
    x = float32_edge_blocks(elem, rng)
    assert_same_mx(x, elem, scale_rule=scale_rule)
    assert_same_mx(x.astype(np.float64), elem, scale_rule=scale_rule)
    assert kernel_calls["mx"] > 0


@pytest.mark.parametrize("elem", list(MX_FORMATS))
@given(data=st.data())
def test_mx_float64_edge_blocks(elem, data):
    blocks = [data.draw(mx_edge_blocks(MX_FORMATS[elem], block=32, allow_nonfinite=True))
              for _ in range(4)]
    x = np.array(blocks, dtype=np.float64)
    rule = data.draw(st.sampled_from(SCALE_RULES))
    overflow = data.draw(st.sampled_from(("nan", "clamp")))
    assert_same_mx(x, elem, scale_rule=rule, scale_overflow=overflow)
    with np.errstate(over="ignore", under="ignore"):
        assert_same_mx(x.astype(np.float32), elem, scale_rule=rule, scale_overflow=overflow)


@pytest.mark.parametrize("mode", MODES + ("sr",))
def test_mx_every_mode(kernel_calls, mode):
    rng = np.random.default_rng(7)
    for elem in ("mxfp8", "mxfp8_e5m2", "mxfp4", "mxint8"):
        x = float32_edge_blocks(elem, rng, 24)
        for arr in (x, x.astype(np.float64)):
            assert_same_mx(arr, elem, mode=mode, seed=11)
    assert kernel_calls["mx"] > 0


def test_mx_other_axes_blocks_and_options(kernel_calls):
    rng = np.random.default_rng(8)
    x = float32_edge_blocks("mxfp6_e2m3", rng, 28).reshape(8, 64, 2)
    for elem in ("mxfp6_e2m3", "mxint8"):
        for kw in (dict(axis=1), dict(axis=1, block=16), dict(axis=0, block=4),
                   dict(axis=-1, block=2), dict(axis=1, block=64, scale_rule="rceil"),
                   dict(axis=1, nonfinite="error"), dict(axis=1, nonfinite="ignore"),
                   dict(axis=1, scale_overflow="clamp", scale_rule="even")):
            assert_same_mx(x, elem, **kw)
            with np.errstate(over="ignore"):  # (some of them overflow to inf: NaN-scale blocks)
                huge = x.astype(np.float64) * 1e300
            assert_same_mx(huge, elem, **kw)
    assert kernel_calls["mx"] > 0


@pytest.mark.parametrize("scale_bits", [3, 5, 10])
def test_narrow_and_wide_scales(kernel_calls, scale_bits):
    rng = np.random.default_rng(scale_bits)
    x = float32_edge_blocks("mxfp8", rng, 16)
    for arr in (x, x.astype(np.float64) * 1e-200, x.astype(np.float64) * 1e200):
        for rule in SCALE_RULES:
            for overflow in ("nan", "clamp"):
                kw = dict(block=32, scale_bits=scale_bits, scale_rule=rule,
                          scale_overflow=overflow)
                a = bfp_encode(arr, "fp8_e4m3fn", **kw)
                with np.errstate(over="ignore"):
                    b = _bfp_encode_exact(arr, "fp8_e4m3fn", **kw)
                for p, q in zip(a, b):
                    assert p.dtype == q.dtype and np.array_equal(p, q)
    assert kernel_calls["mx"] > 0


def test_other_element_formats(kernel_calls):
    rng = np.random.default_rng(9)
    x = float32_edge_blocks("fp16", rng, 16)
    for elem in ("fp16", "fp8_e4m3fnuz", "fp8_e5m2fnuz", "q3.4"):
        for mode in ("rne", "rdn"):
            assert_same_mx(x, elem, mode=mode)
            assert_same_mx(x.astype(np.float64), elem, mode=mode)
    assert kernel_calls["mx"] > 0
