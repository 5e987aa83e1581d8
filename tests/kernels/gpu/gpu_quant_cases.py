"""GPU quantization kernels against the CPU, bit for bit: quantize (numprec.quant.quantize),
MX / block floating point encode (numprec.quant.mx_encode, bfp_encode), and the integer matmul
(exact NumPy int64 products, wrapped or saturated to int32).

Needs a usable numba.cuda: test_gpu_sim.py runs this file under the CUDA simulator (and on the
GPU when there is one); the file is named so that a plain `pytest` does not collect it directly.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

import numprec
from numprec.kernels import gpu
from numprec.kernels.gpu import intmatmul as gpu_intmatmul
from numprec.kernels.gpu import is_device_array
from numprec.kernels.gpu import quant as gpu_quant
from numprec.quant import MX_FORMATS, mx_encode, quantize
from numprec.quant.mx import element_format
from numprec.testing import mx_edge_blocks, quantizer_params
from numprec.testing import parity_quant as pq

GPU = gpu.kernel_set()  # raises GPUUnavailableError when numba.cuda is not usable
N = 48  # the simulator runs one Python thread per GPU thread: keep inputs small


def _assert_identical(result):
    assert result.ok, result.describe()


def _id(value):
    if isinstance(value, dict):
        return ",".join(f"{k}={v if np.ndim(v) == 0 else 'array'}" for k, v in value.items())
    return getattr(value, "__name__", str(value))


# --- quantize -------------------------------------------------------------------------------------
QUANTIZE_CASES = list(pq.quantize_cases())


@pytest.mark.parametrize("options, recipe", QUANTIZE_CASES, ids=[_id(o) for o, _ in
                                                                  QUANTIZE_CASES])
def test_quantize_matches_cpu(options, recipe):
    x = pq.quantize_case_inputs(recipe, N, seed=len(str(options)))
    _assert_identical(pq.check_quantize(gpu_quant, x, seed=2024, **options))


def test_quantize_ties_round_by_the_mode():
    t = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.0, -0.0])
    expected = {"rne": [0, 2, 2, 0, -2, -2, 0, 0], "rna": [1, 2, 3, -1, -2, -3, 0, 0],
                "rtz": [0, 1, 2, 0, -1, -2, 0, 0], "rup": [1, 2, 3, 0, -1, -2, 0, 0],
                "rdn": [0, 1, 2, -1, -2, -3, 0, 0], "rto": [1, 1, 3, -1, -1, -3, 0, 0]}
    for mode, codes in expected.items():
        q, counts = gpu_quant.quantize(t, 1.0, 0, mode=mode)
        assert q.tolist() == codes, mode
        assert counts["saturated"] == 0
    # the zero point before rounding moves the ties (docs/quantization.md)
    q, _ = gpu_quant.quantize(t[:4], 1.0, 1, zero_point_before_rounding=True)
    assert q.tolist() == [2, 2, 4, 0]


def test_quantize_rounds_the_exact_quotient_not_a_float64_one():
    # x / s rounds to 2.5 exactly in float64 but the exact quotient lies below 2.5 (or above):
    # the residual decides, as on the CPU
    s = 0.1
    for x in (0.25, np.nextafter(0.25, 1.0), np.nextafter(0.25, 0.0), 0.35, 0.45):
        exact = quantize(np.array([x]), scale=s).q
        q, _ = gpu_quant.quantize(np.array([x]), s, 0)
        assert q.tolist() == exact.tolist(), x


def test_quantize_saturates_and_counts_nonfinite():
    x = np.array([np.nan, np.inf, -np.inf, 1e300, -1e300, 5e-324, -0.0, 3.0])
    q, counts = gpu_quant.quantize(x, 0.5, 3)
    assert q.tolist() == [3, 127, -128, 127, -128, 3, 3, 9]
    assert counts == {"saturated": 4, "nan": 1, "posinf": 1, "neginf": 1}
    ref = quantize(x, scale=0.5, zero_point=3, nonfinite="clamp")
    assert np.array_equal(ref.q, q) and ref.nonfinite_counts == {"nan": 1, "posinf": 1,
                                                                 "neginf": 1}


@settings(max_examples=12, deadline=None)
@given(params=quantizer_params(),
       mode=st.sampled_from(["rne", "rna", "rtz", "rup", "rdn", "rto", "sr"]),
       before=st.booleans(), seed=st.integers(0, 2**32))
def test_quantize_matches_cpu_on_drawn_parameters(params, mode, before, seed):
    bits, signed, _, scale, zero_point = params
    x = pq.quantize_inputs(24, scale, bits, signed, zero_point, seed=seed % 1000)
    _assert_identical(pq.check_quantize(gpu_quant, x, bits=bits, signed=signed, scale=scale,
                                        zero_point=zero_point, mode=mode, seed=seed,
                                        zero_point_before_rounding=before))


def test_quantize_keeps_device_arrays_on_the_device():
    x = pq.quantize_inputs(32, 0.25, seed=4).reshape(4, 8)
    d_q, counts = gpu_quant.quantize(cuda.to_device(x), np.full(8, 0.25), np.arange(8) - 4,
                                     axis=1, mode="sr", seed=9)
    assert is_device_array(d_q) and d_q.shape == (4, 8)
    ref = quantize(x, scale=np.full(8, 0.25), zero_point=np.arange(8) - 4, axis=1, mode="sr",
                   seed=9, nonfinite="clamp")
    assert np.array_equal(d_q.copy_to_host(), ref.q)


def test_quantize_refuses_parameters_that_do_not_fit():
    with pytest.raises(ValueError, match="scale"):
        gpu_quant.quantize(np.zeros((2, 3)), np.ones(2), 0, axis=1)
    with pytest.raises(TypeError, match="q must be"):
        gpu_quant.quantize_into(np.zeros(4), np.zeros(4, dtype=np.int32), np.ones(1),
                                np.zeros(1, dtype=np.int64), gpu_quant.param_layout((4,)),
                                *[numprec.FixedPoint(10, 0).kernel_params] * 2, 0, False, 0, 0,
                                62, -128, 127)


# --- MX encode ------------------------------------------------------------------------------------
MX_CASES = list(pq.mx_cases())


@pytest.mark.parametrize("elem, options", MX_CASES,
                         ids=[f"{e}-{_id(o)}" for e, o in MX_CASES])
def test_mx_encode_matches_cpu(elem, options):
    block = options.get("block", 32)
    seed = len(MX_CASES) + len(str(options)) + len(elem)
    x = pq.mx_blocks(elem, 5, block, seed=seed,
                     dtype=np.float32 if seed % 2 else np.float64)
    _assert_identical(pq.check_mx(gpu_quant, x, elem, **options))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_mx_encode_every_mx_format_float32_and_float64(dtype):
    for name in sorted(MX_FORMATS):
        x = pq.mx_blocks(MX_FORMATS[name], 2, seed=len(name), dtype=dtype)
        _assert_identical(pq.check_mx(gpu_quant, x, name))


def test_mx_encode_special_blocks():
    x = np.zeros((5, 32))
    x[1] = -0.0                                  # a zero block: scale byte 0
    x[2, 7] = np.nan                             # NaN and inf blocks: the NaN scale 0xFF
    x[3, 0] = -np.inf
    x[3, 1:] = 1.0
    x[4] = np.linspace(-5e-324, 1e-310, 32)      # float64 subnormals: E = -127
    for elem in ("fp8_e4m3fn", "fp4_e2m1fn", "q1.6"):
        codes, scales = gpu_quant.mx_encode(x, element_format(elem))
        ref_codes, ref_scales = mx_encode(x, elem)
        assert np.array_equal(codes, ref_codes) and np.array_equal(scales, ref_scales), elem
        assert scales.reshape(-1).tolist() == [0, 0, 255, 255, 0]


def test_mx_encode_along_another_axis_and_on_the_device():
    x = pq.mx_blocks("fp8_e4m3fn", 2, 16, seed=3).reshape(2, 16).T.copy()   # (16, 2): axis 0
    _assert_identical(pq.check_mx(gpu_quant, x, "fp8_e4m3fn", block=16, axis=0))
    y = pq.mx_blocks("fp8_e5m2", 3, 32, seed=4)
    d_codes, d_scales = gpu_quant.mx_encode(cuda.to_device(y), element_format("fp8_e5m2"))
    codes, scales = mx_encode(y, "fp8_e5m2")
    assert is_device_array(d_codes) and is_device_array(d_scales)
    assert np.array_equal(d_codes.copy_to_host(), codes.reshape(-1))
    assert np.array_equal(d_scales.copy_to_host(), scales.reshape(-1))


def test_mx_encode_ignore_refuses_nan_where_the_element_has_none():
    x = np.ones(32)
    x[3] = np.nan
    with pytest.raises(ValueError, match="no NaN"):
        gpu_quant.mx_encode(x, element_format("fp4_e2m1fn"), nonfinite="ignore")


@settings(max_examples=10, deadline=None)
@given(data=st.data(), elem=st.sampled_from(sorted(set(MX_FORMATS.values()))),
       rule=st.sampled_from(["floor", "ceil", "even", "rceil"]))
def test_mx_encode_matches_cpu_on_edge_blocks(data, elem, rule):
    blocks = [data.draw(mx_edge_blocks(elem, block=8, allow_nonfinite=True)) for _ in range(3)]
    _assert_identical(pq.check_mx(gpu_quant, np.array(blocks), elem, block=8, scale_rule=rule))


# --- int matmul -----------------------------------------------------------------------------------
MATMUL_CASES = list(pq.int_matmul_cases())


@pytest.mark.parametrize("a_dtype, b_dtype, shape, extremes, options", MATMUL_CASES,
                         ids=[f"{np.dtype(a).name}x{np.dtype(b).name}-{s}-{_id(o)}"
                              for a, b, s, _, o in MATMUL_CASES])
def test_int_matmul_matches_exact_integers(a_dtype, b_dtype, shape, extremes, options):
    m, n, k = shape
    a = pq.int_operands((m, k), a_dtype, seed=m * n, extremes=extremes)
    b = pq.int_operands((k, n), b_dtype, seed=k, extremes=extremes)
    _assert_identical(pq.check_int_matmul(gpu_intmatmul, a, b, **options))


def test_int_matmul_saturates_every_partial_sum_in_order():
    # partial sums 2^30 * 3 leave int32, then come back: "wrap" gives the exact sum (in range)
    # but counts the overflow; "saturate" clamps the partial sum and stays off the exact sum
    a = np.array([[32767, 32767, 32767, -32768, -32768, -32768]], dtype=np.int16)
    b = np.array([[32767], [32767], [32767], [32767], [32767], [0]], dtype=np.int16)
    exact = int((a.astype(np.int64) @ b.astype(np.int64))[0, 0])
    assert -(1 << 31) <= exact < (1 << 31)
    for overflow in ("wrap", "detect"):
        out, count = gpu_intmatmul.int_matmul(a, b, overflow=overflow, return_overflow=True)
        assert (int(out[0, 0]), count) == (exact, 1)
    out, count = gpu_intmatmul.int_matmul(a, b, overflow="saturate", return_overflow=True)
    assert (int(out[0, 0]), count) == (2**31 - 1 - 2 * 32768 * 32767, 1)
    # the accumulator of the CPU's docstring example: acc_bits=8, 100 + 100 - 100 gives 27
    out = gpu_intmatmul.int_matmul(np.array([[100, 100, -100]], dtype=np.int8),
                                   np.ones((3, 1), dtype=np.int8), overflow="saturate",
                                   acc_bits=8)
    assert out.tolist() == [[27]]


def test_int_matmul_long_sums_overflow_int32():
    a = np.full((2, 40), 65535, dtype=np.uint16)
    b = np.full((40, 3), -32768, dtype=np.int16)  # each product -2^31 + 2^15
    for overflow in ("wrap", "saturate", "detect"):
        _assert_identical(pq.check_int_matmul(gpu_intmatmul, a, b, overflow))
    flags = numprec.Flags()
    gpu_intmatmul.int_matmul(a, b, overflow="saturate", flags=flags)
    assert flags.overflow == 6 and flags.saturated == 6


def test_int_matmul_shapes_as_numpy_matmul():
    a = pq.int_operands((2, 1, 3, 5), np.int8, seed=1)
    b = pq.int_operands((4, 5, 2), np.int8, seed=2)
    out = gpu_intmatmul.int_matmul(a, b)
    assert out.dtype == np.int32 and out.shape == (2, 4, 3, 2)
    assert np.array_equal(out, a.astype(np.int64) @ b.astype(np.int64))
    v = pq.int_operands((5,), np.int8, seed=3)
    assert np.array_equal(gpu_intmatmul.int_matmul(v, b[0]), v.astype(np.int64) @ b[0])
    assert int(gpu_intmatmul.int_matmul(v, v)) == int(v.astype(np.int64) @ v)
    wide = gpu_intmatmul.int_matmul(a[0, 0], b[0], acc_bits=40)
    assert wide.dtype == np.int64


def test_int_matmul_device_arrays_and_bad_input():
    a = pq.int_operands((6, 10), np.int8, seed=1)
    b = pq.int_operands((10, 5), np.uint8, seed=2)
    d_out, count = gpu_intmatmul.int_matmul(cuda.to_device(a), cuda.to_device(b),
                                            b_zero_point=128, return_overflow=True)
    assert is_device_array(d_out) and count == 0
    assert np.array_equal(d_out.copy_to_host(),
                          a.astype(np.int64) @ (b.astype(np.int64) - 128))
    empty = gpu_intmatmul.int_matmul(np.zeros((3, 0), np.int8), np.zeros((0, 2), np.int8))
    assert empty.tolist() == [[0, 0]] * 3
    with pytest.raises(TypeError, match="int64"):
        gpu_intmatmul.int_matmul(np.ones((1, 1), dtype=np.int64), np.ones((1, 1), np.int8))
    with pytest.raises(ValueError, match="unknown overflow"):
        gpu_intmatmul.int_matmul(a, a.T, overflow="clip")
    with pytest.raises(ValueError, match="out of the range"):
        gpu_intmatmul.int_matmul(a, a.T, a_zero_point=200)
    with pytest.raises(ValueError, match="acc_bits"):
        gpu_intmatmul.int_matmul(a, a.T, acc_bits=64)


# --- backend="gpu" through numprec.quant ------------------------------------------------------
def _same_quantized(a, b):
    assert a.q.dtype == b.q.dtype and np.array_equal(a.q, b.q)
    assert np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point)
    assert a.nonfinite_counts == b.nonfinite_counts


@pytest.mark.parametrize("options", [
    dict(), dict(axis=1, scheme="asymmetric", signed=False), dict(axis=1, group=4, bits=4),
    dict(mode="sr", seed=3, zero_point_before_rounding=True, scale=0.05, zero_point=-7),
    dict(observer="percentile", power_of_two=True, mode="rto")], ids=_id)
def test_quantize_backend_gpu_is_the_cpu_result(options):
    x = np.random.default_rng(5).standard_normal((6, 8)).astype(np.float32)
    x[0, 0], x[1, 1] = np.nan, np.inf
    cpu_flags, gpu_flags = numprec.Flags(), numprec.Flags()
    cpu = quantize(x, nonfinite="clamp", flags=cpu_flags, backend="cpu", **options)
    got = quantize(x, nonfinite="clamp", flags=gpu_flags, backend="gpu", **options)
    _same_quantized(cpu, got)
    assert np.array_equal(cpu_flags.all, gpu_flags.all)
    with pytest.raises(ValueError, match="NaN"):
        quantize(x, backend="gpu")  # nonfinite="error" refuses them on the host, as the CPU
    with pytest.raises(ValueError, match="bits"):
        quantize(x, bits=1, backend="gpu")


def test_quantize_follows_the_process_backend(monkeypatch):
    from numprec.ops import backend as ops_backend
    x = np.linspace(-3, 3, 40)
    monkeypatch.setattr(ops_backend, "_default", "gpu")
    got = quantize(x, 8, scale=0.03)
    monkeypatch.setattr(ops_backend, "_default", "cpu")
    _same_quantized(quantize(x, 8, scale=0.03), got)


@pytest.mark.parametrize("elem", ["mxfp8_e4m3", "mxfp6_e2m3", "mxfp4", "mxint8"])
@pytest.mark.parametrize("options", [dict(), dict(scale_rule="rceil", nonfinite="ignore"),
                                     dict(mode="sr", seed=9, axis=0, scale_rule="even")],
                         ids=_id)
def test_mx_encode_backend_gpu_is_the_cpu_result(elem, options):
    x = np.random.default_rng(1).standard_normal((32, 64)) * 3.0
    x[3, 5] = np.inf
    cpu_flags, gpu_flags = numprec.Flags(), numprec.Flags()
    nonfinite_ok = options.get("nonfinite") != "ignore" or element_format(elem).has_nan
    if not nonfinite_ok:
        x[3, 5] = 1e9
    cpu = mx_encode(x, elem, flags=cpu_flags, backend="cpu", **options)
    got = mx_encode(x, elem, flags=gpu_flags, backend="gpu", **options)
    for c, g in zip(cpu, got):
        assert c.dtype == g.dtype and c.shape == g.shape and np.array_equal(c, g)
    assert np.array_equal(cpu_flags.all, gpu_flags.all)
    with pytest.raises(ValueError, match="NaN or inf"):
        mx_encode(x * np.inf, elem, nonfinite="error", backend="gpu")
    with pytest.raises(ValueError, match="scale rule"):
        mx_encode(x, elem, scale_rule="nearest", backend="gpu")


def test_bfp_encode_backend_gpu_is_the_cpu_result():
    from numprec.quant import bfp_encode
    x = np.random.default_rng(2).standard_normal((4, 48)).astype(np.float32)
    for bits in (5, 8, 10):
        cpu = bfp_encode(x, "fp8_e4m3fn", block=16, scale_bits=bits, backend="cpu")
        got = bfp_encode(x, "fp8_e4m3fn", block=16, scale_bits=bits, backend="gpu")
        assert all(np.array_equal(c, g) for c, g in zip(cpu, got))


def test_int_matmul_backend_gpu_is_the_cpu_result():
    from numprec.quant import int_matmul
    a = pq.int_operands((7, 300), np.int8, seed=4, extremes=0.8)
    b = pq.int_operands((300, 5), np.int8, seed=5, extremes=0.8)
    for overflow in ("wrap", "saturate", "detect"):
        for acc_bits in (16, 32):
            cpu_flags, gpu_flags = numprec.Flags(), numprec.Flags()
            cpu = int_matmul(a, b, overflow=overflow, acc_bits=acc_bits, flags=cpu_flags,
                             return_overflow=True, backend="cpu")
            got = int_matmul(a, b, overflow=overflow, acc_bits=acc_bits, flags=gpu_flags,
                             return_overflow=True, backend="gpu")
            assert type(got) is type(cpu) and got.overflowed == cpu.overflowed
            assert got.result.dtype == cpu.result.dtype
            assert np.array_equal(got.result, cpu.result)
            assert np.array_equal(cpu_flags.all, gpu_flags.all)
    with pytest.raises(TypeError, match="float64"):
        int_matmul(a.astype(np.float64), b, backend="gpu")
