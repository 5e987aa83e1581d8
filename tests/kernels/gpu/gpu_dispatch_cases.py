"""The GPU kernel set's handling of host and device arrays, bad input, and the public ops on
backend="gpu". Needs a usable numba.cuda: run by test_gpu_sim.py (see gpu_rounding_cases.py)."""
import numpy as np
import pytest
from numba import cuda

import numprec
from numprec.codes import MODE_CODE, NCOUNTS, OP_ADD, SR_MAX_BITS
from numprec.kernels import cpu, gpu
from numprec.kernels.gpu import is_device_array
from numprec.testing import parity as gpu_parity
from numprec.testing import parity_accum as accum

CPU = cpu.kernel_set()
GPU = gpu.kernel_set()
FP8 = numprec.get_format("fp8_e4m3fn")
X = gpu_parity.stress_inputs(FP8, 64, seed=1)


def _round_args(mode="rne", seed_key=0, flags=True, counts=None):
    counts = np.zeros(NCOUNTS, dtype=np.int64) if counts is None else counts
    return (FP8.kernel_params, MODE_CODE[mode], False, False, np.uint64(seed_key), 0, SR_MAX_BITS, flags,
            counts)


def _cpu_round(x, mode="rne", seed_key=0):
    out = np.empty_like(x)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    CPU.round_into(x, out, *_round_args(mode, seed_key, True, counts))
    return out, counts


def test_device_arrays_stay_on_the_device():
    d_x = cuda.to_device(X.reshape(8, 8))  # any C-contiguous shape is taken flat
    d_out = cuda.device_array((8, 8), dtype=np.float64)
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    assert GPU.round_into(d_x, d_out, *_round_args("sr", 77, True, counts)) is None
    assert is_device_array(d_out)
    expected, expected_counts = _cpu_round(X, "sr", 77)
    assert np.array_equal(d_out.copy_to_host().reshape(-1).view(np.int64),
                          expected.view(np.int64))
    assert np.array_equal(counts, expected_counts)


def test_device_encode_and_decode_round_trip():
    d_codes = cuda.device_array(X.size, dtype=np.int64)
    bad = GPU.encode_into(cuda.to_device(X), d_codes, *_round_args())
    assert bad == 0  # E4M3FN has a NaN pattern: every value encodes
    d_values = cuda.device_array(X.size, dtype=np.float64)
    GPU.decode_into(d_codes, d_values, FP8.kernel_params)
    expected, _ = _cpu_round(X)
    assert np.array_equal(d_values.copy_to_host().view(np.int64), expected.view(np.int64))


def test_device_bit_patterns_in_unsigned_containers():
    bits = np.arange(256, dtype=np.uint8)
    d_values = cuda.device_array(256, dtype=np.float64)
    GPU.decode_into(cuda.to_device(bits), d_values, FP8.kernel_params)
    expected = np.empty(256)
    CPU.decode_into(bits.astype(np.int64), expected, FP8.kernel_params)
    assert np.array_equal(d_values.copy_to_host().view(np.int64), expected.view(np.int64))


def test_host_bit_patterns_of_any_integer_dtype_are_widened():
    bits = np.arange(-128, 128, dtype=np.int16) & 0xFF
    out = np.empty(256)
    GPU.decode_into(bits, out, FP8.kernel_params)
    expected = np.empty(256)
    CPU.decode_into(bits.astype(np.int64), expected, FP8.kernel_params)
    assert np.array_equal(out.view(np.int64), expected.view(np.int64))


def test_arith_and_matmul_entry_points_keep_device_arrays_on_the_device():
    a, b = gpu_parity.operand_inputs("bf16", 16, 2, seed=3)
    args = _round_args("sr", 5)
    d_sum = cuda.device_array(16)
    GPU.binary_into(OP_ADD, cuda.to_device(a), cuda.to_device(b), d_sum, *args)
    expected = np.empty(16)
    CPU.binary_into(OP_ADD, a, b, expected, *_round_args("sr", 5))
    assert np.array_equal(d_sum.copy_to_host().view(np.int64), expected.view(np.int64))
    assert np.array_equal(args[-1], _cpu_flags_of_add(a, b))

    A = accum.grid_operands("bf16", (1, 3, 6), 1)
    B = accum.grid_operands("bf16", (1, 6, 4), 2)
    bt = np.ascontiguousarray(np.swapaxes(B, -1, -2))
    batch = np.zeros(1, dtype=np.int64)
    C = accum.accumulation_config("blocked", "sr", block=4)
    keys = accum.accumulation_keys(3)
    P = FP8.kernel_params
    d_out, d_flags = cuda.device_array(12), cuda.device_array(12, dtype=np.int64)
    GPU.matmul_into(cuda.to_device(A), cuda.to_device(bt), batch, batch, 3, 4, 6, d_out, C, P, P,
                    P, P, keys, d_flags)
    out, flags = np.empty(12), np.zeros(12, dtype=np.int64)
    CPU.matmul_into(A.reshape(-1), bt.reshape(-1), batch, batch, 3, 4, 6, out, C, P, P, P, P,
                    keys, flags)
    assert np.array_equal(d_out.copy_to_host().view(np.int64), out.view(np.int64))
    assert np.array_equal(d_flags.copy_to_host(), flags)
    with pytest.raises(TypeError, match="a, b on the device but out, row_flags on the host"):
        GPU.matmul_into(cuda.to_device(A), cuda.to_device(bt), batch, batch, 3, 4, 6,
                        np.empty(12), C, P, P, P, P, keys, np.zeros(12, dtype=np.int64))


def _cpu_flags_of_add(a, b):
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    CPU.binary_into(OP_ADD, a, b, np.empty(a.size), *_round_args("sr", 5, True, counts))
    return counts


def test_mixing_host_and_device_arrays_is_refused():
    with pytest.raises(TypeError, match="x on the device but out on the host"):
        GPU.round_into(cuda.to_device(X), np.empty_like(X), *_round_args())
    with pytest.raises(TypeError, match="out on the device but bits on the host"):
        GPU.decode_into(np.zeros(4, np.int64), cuda.device_array(4), FP8.kernel_params)


def test_non_contiguous_device_array_is_refused():
    strided = cuda.to_device(np.zeros((4, 8)))[:, ::2]
    with pytest.raises(ValueError, match="not C-contiguous"):
        GPU.round_into(strided, cuda.device_array((4, 4)), *_round_args())


def test_unsupported_dtypes_are_refused():
    with pytest.raises(TypeError, match="device array x has dtype float32"):
        GPU.round_into(cuda.to_device(np.zeros(X.size, np.float32)), cuda.device_array(X.size),
                       *_round_args())
    with pytest.raises(TypeError, match="device array bits has dtype int16"):
        GPU.decode_into(cuda.to_device(np.zeros(4, np.int16)), cuda.device_array(4),
                        FP8.kernel_params)
    with pytest.raises(TypeError, match="x has dtype complex128"):
        GPU.round_into(X.astype(complex), np.empty_like(X), *_round_args())
    with pytest.raises(TypeError, match="out must be a writeable C-contiguous float64"):
        GPU.round_into(X, np.empty(X.size, np.float32), *_round_args())
    with pytest.raises(TypeError, match="counts must be a host int64 array"):
        GPU.round_into(X, np.empty_like(X), *_round_args(counts=np.zeros(3)))


def test_size_mismatch_is_refused():
    with pytest.raises(ValueError, match="x has 64 elements, expected 63"):
        GPU.round_into(X, np.empty(63), *_round_args())


def test_empty_arrays():
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    assert GPU.encode_into(np.empty(0), np.empty(0, np.int64), *_round_args(counts=counts)) == 0
    assert not counts.any()


# --- the public ops on backend="gpu" ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["rne", "rto", "sr"])
def test_public_round_is_identical_on_both_backends(mode):
    x = gpu_parity.stress_inputs("fp16", 80, seed=4).reshape(8, 10)
    results = {}
    for backend in ("cpu", "gpu"):
        flags = numprec.Flags()
        out = numprec.round(x, "fp16", mode, seed=31, flags=flags, backend=backend)
        results[backend] = (out.view(np.int64), flags)
    assert results["gpu"][0].shape == (8, 10)
    assert np.array_equal(results["cpu"][0], results["gpu"][0])
    assert results["cpu"][1] == results["gpu"][1]


@pytest.mark.parametrize("mode", ["rne", "sr"])
def test_public_round_of_float32_is_float32_and_identical_on_both_backends(mode):
    with np.errstate(over="ignore"):  # the stress values beyond float32 become inf
        x = gpu_parity.stress_inputs("bf16", 64, seed=6).astype(np.float32)
    results = {}
    for backend in ("cpu", "gpu"):
        flags = numprec.Flags()
        results[backend] = (numprec.round(x, "bf16", mode, seed=7, flags=flags,
                                          backend=backend), flags)
    assert results["gpu"][0].dtype == results["cpu"][0].dtype == np.float32
    assert np.array_equal(results["cpu"][0].view(np.int32), results["gpu"][0].view(np.int32))
    assert results["cpu"][1] == results["gpu"][1]
    out = np.empty(64, dtype=np.float32)
    assert numprec.round(x, "bf16", mode, seed=7, backend="gpu", out=out) is out
    assert np.array_equal(out.view(np.int32), results["cpu"][0].view(np.int32))


def test_public_encode_decode_on_gpu():
    codes = numprec.encode(X, "e4m3", backend="gpu")
    assert codes.dtype == np.uint8
    assert np.array_equal(codes, numprec.encode(X, "e4m3", backend="cpu"))
    values = numprec.decode(codes, "e4m3", backend="gpu")
    assert np.array_equal(values.view(np.int64), numprec.decode(codes, "e4m3").view(np.int64))
    with pytest.raises(ValueError, match="no bit pattern for nan"):
        numprec.encode([1.0, np.nan], "fp4_e2m1fn", backend="gpu")


def test_default_backend_switch():
    try:
        numprec.set_backend("gpu")
        assert numprec.get_backend() == "gpu"
        out = numprec.round(X, FP8, "rna")
    finally:
        numprec.set_backend("cpu")
    assert np.array_equal(out.view(np.int64),
                          numprec.round(X, FP8, "rna", backend="cpu").view(np.int64))


@pytest.mark.parametrize("mode", ["rne", "sr"])
def test_public_ops_keep_device_arrays_on_the_device(mode):
    d_x = cuda.to_device(X.reshape(8, 8))
    flags_gpu, flags_cpu = numprec.Flags(), numprec.Flags()
    rounded = numprec.round(d_x, FP8, mode, seed=5, saturate=True, flags=flags_gpu)
    assert is_device_array(rounded) and rounded.shape == (8, 8)
    expected = numprec.round(X.reshape(8, 8), FP8, mode, seed=5, saturate=True, flags=flags_cpu)
    assert np.array_equal(rounded.copy_to_host().view(np.int64), expected.view(np.int64))
    assert flags_gpu == flags_cpu
    codes = numprec.encode(d_x, FP8, mode, seed=5, saturate=True)
    assert is_device_array(codes) and codes.dtype == np.uint8
    assert np.array_equal(codes.copy_to_host(),
                          numprec.encode(X.reshape(8, 8), FP8, mode, seed=5, saturate=True))
    back = numprec.decode(codes, FP8)
    assert is_device_array(back)
    assert np.array_equal(back.copy_to_host().view(np.int64), expected.view(np.int64))


def test_public_ops_refuse_a_device_array_with_the_cpu_backend():
    with pytest.raises(TypeError, match="device array.*backend='cpu'"):
        numprec.round(cuda.to_device(X), FP8, backend="cpu")


def test_public_encode_names_unencodable_device_elements():
    with pytest.raises(ValueError, match="fp4_e2m1fn has no bit pattern for 1 element"):
        numprec.encode(cuda.to_device(np.array([1.0, np.nan])), "fp4_e2m1fn")
