"""GPU rounding kernels against the CPU kernels, bit for bit: every format, every mode.

Needs a usable numba.cuda: test_gpu_sim.py runs this file under the CUDA simulator (and on the
GPU when there is one); the file is named so that a plain `pytest` does not collect it directly.
"""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numprec
from numprec.codes import MODES, NCOUNTS
from numprec.kernels import gpu
from numprec.testing import parity as gpu_parity

GPU = gpu.kernel_set()  # raises GPUUnavailableError when numba.cuda is not usable
N = 64  # the simulator runs one Python thread per GPU thread: keep inputs small


def _assert_identical(result):
    assert result.ok, result.describe()


def _id(value):
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
    return getattr(value, "name", value)


@pytest.mark.parametrize("name, mode, options", list(gpu_parity.rounding_cases()), ids=_id)
def test_round_matches_cpu(name, mode, options):
    options = dict(options)
    seed = options.pop("seed", 12345)
    x = gpu_parity.stress_inputs(name, N, seed=zlib.crc32(f"{name} {mode}".encode()))
    _assert_identical(gpu_parity.check_rounding(GPU, name, mode, x, seed=seed, **options))


@pytest.mark.parametrize("name", gpu_parity.PARITY_FORMATS, ids=_id)
@pytest.mark.parametrize("mode, options", [("rne", {}), ("sr", {}), ("rtz", {"saturate": True})],
                         ids=_id)
def test_encode_matches_cpu(name, mode, options):
    x = gpu_parity.stress_inputs(name, N, seed=3)  # NaN included: unencodable where no NaN
    _assert_identical(gpu_parity.check_rounding(GPU, name, mode, x, encode=True, seed=99,
                                                **options))


def test_encode_counts_values_without_a_pattern():
    x = np.array([1.0, np.nan, -2.0, np.nan])
    result = gpu_parity.check_rounding(GPU, "fp4_e2m1fn", "rne", x, encode=True)
    _assert_identical(result)
    assert result.flags_gpu[-1] == 2


@pytest.mark.parametrize("name", gpu_parity.PARITY_FORMATS, ids=_id)
def test_decode_matches_cpu(name):
    bits = gpu_parity.pattern_inputs(name, 256, seed=5)
    _assert_identical(gpu_parity.check_decode(GPU, name, bits))


def test_stochastic_rounding_is_a_function_of_seed_and_index():
    x = gpu_parity.stress_inputs("bf16", N, seed=11)
    # The same seed gives the CPU's bits; an offset gives the draws of a later chunk.
    for offset in (0, 1, 2**40):
        _assert_identical(gpu_parity.check_rounding(GPU, "bf16", "sr", x, seed=2024,
                                                    offset=offset))
    flags = np.zeros(NCOUNTS, dtype=np.int64)
    out_a, out_b, out_c = (np.empty_like(x) for _ in range(3))
    args = (numprec.get_format("bf16").kernel_params, MODES.index("sr"), False, False)
    GPU.round_into(x, out_a, *args, np.uint64(1), 0, 62, False, flags)
    GPU.round_into(x, out_b, *args, np.uint64(1), 0, 62, False, flags)
    GPU.round_into(x, out_c, *args, np.uint64(2), 0, 62, False, flags)
    assert np.array_equal(out_a.view(np.int64), out_b.view(np.int64))
    assert not np.array_equal(out_a.view(np.int64), out_c.view(np.int64))


@settings(max_examples=25, deadline=None)
@given(bits=hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(-2**63, 2**63 - 1)),
       name=st.sampled_from(["fp32", "bf16", "fp16", "fp8_e5m2", "q20.31"]),
       mode=st.sampled_from(MODES), seed=st.integers(0, 2**64 - 1))
def test_any_float64_bit_pattern_rounds_as_on_cpu(bits, name, mode, seed):
    x = bits.view(np.float64)
    _assert_identical(gpu_parity.check_rounding(GPU, name, mode, x, seed=seed))
