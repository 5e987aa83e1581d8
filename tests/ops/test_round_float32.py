"""Float32 in, float32 out: numprec.round reads float32 arrays as they are and returns float32
when every value of the format is a float32 value; the results are bit for bit those of rounding
the same values as float64 (the float64 path is the one checked against the exact oracles), with
the same flags. Also `out=` and Format.fits_float32."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numprec
from numprec.codes import MODES
from numprec.formats import FixedPoint, Format

FITTING = [name for name in numprec.format_names() if numprec.get_format(name).fits_float32]
FIXED = ["q3.4", "uq8.0", "q11.12"]


def _float32_sample() -> np.ndarray:
    """Every float32 sign/exponent/top-7-mantissa-bits prefix (the top 16 bits of the
    pattern) with low bits 0, 1, a middle pattern and all ones: every binade, subnormals,
    zeros, infinities and NaNs, ties and near-ties of every narrower format."""
    high = np.arange(1 << 16, dtype=np.uint32) << np.uint32(16)
    low = np.array([0, 1, 0x8000, 0x7FFF, 0xFFFF], dtype=np.uint32)
    return (high[:, None] | low[None, :]).reshape(-1).view(np.float32)


def _wide(a) -> np.ndarray:
    """float32 to float64 (exact; signalling NaN patterns would warn: they stay NaN)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(a).astype(np.float64)


X32 = _float32_sample()
X64 = _wide(X32)


def _same_bits(a32, b64):
    """a (float32) widened equals b (float64) bit for bit, NaN matching NaN."""
    assert a32.dtype == np.float32 and b64.dtype == np.float64
    wide = _wide(a32)
    nan = np.isnan(b64)
    assert np.array_equal(np.isnan(wide), nan)
    assert np.array_equal(wide[~nan].view(np.int64), b64[~nan].view(np.int64))


def test_fits_float32_of_formats():
    assert set(FITTING) == set(numprec.format_names()) - {"fp64"}
    assert numprec.get_format("fp32").fits_float32 and not numprec.get_format("fp64").fits_float32
    assert not Format("wide_mantissa", ebits=8, mbits=24).fits_float32  # 25 significand bits
    assert not Format("wide_range", ebits=9, mbits=10).fits_float32  # emax 255
    assert not Format("fine_subnormals", ebits=8, mbits=23, bias=128).fits_float32  # 2^-150
    assert not Format("wide_top", ebits=8, mbits=23, bias=126).fits_float32  # emax 128
    assert Format("short_mantissa", ebits=8, mbits=20).fits_float32
    assert FixedPoint(12, 12).fits_float32 and not FixedPoint(12, 13).fits_float32
    assert FixedPoint(24, 0, signed=False).fits_float32


@pytest.mark.parametrize("name", FITTING + FIXED)
@pytest.mark.parametrize("mode", MODES)
def test_float32_input_rounds_to_float32_like_the_float64_path(name, mode):
    seed = 11 if mode == "sr" else None
    flags32, flags64 = numprec.Flags(), numprec.Flags()
    got = numprec.round(X32, name, mode, seed=seed, flags=flags32)
    want = numprec.round(X64, name, mode, seed=seed, flags=flags64)
    _same_bits(got, want)
    assert flags32 == flags64
    assert np.array_equal(flags32.all, flags64.all)  # the events too


@pytest.mark.parametrize("name", FITTING[:4] + ["q3.4"])
def test_float32_encode_matches_the_float64_path(name):
    finite = X32[np.isfinite(X32)]
    got = numprec.encode(finite, name, saturate=True)
    assert np.array_equal(got, numprec.encode(_wide(finite), name, saturate=True))


@pytest.mark.parametrize("name", ["fp64", "q20.10"])
def test_formats_beyond_float32_give_float64(name):
    got = numprec.round(X32, name)
    assert got.dtype == np.float64
    want = numprec.round(X64, name)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_shapes_scalars_and_other_inputs():
    x = X32[:24].reshape(2, 3, 4)
    assert numprec.round(x, "fp16").shape == (2, 3, 4)
    scalar = numprec.round(np.float32(1.1), "fp16")
    assert isinstance(scalar, np.float32) and scalar == np.float32(1.099609375)
    assert numprec.round([1.1], "fp16").dtype == np.float64  # lists are float64 data
    assert numprec.round(np.float16(1.5), "fp8_e4m3fn").dtype == np.float64
    strided = X32[::3]  # not contiguous: read through one contiguous copy, still float32
    _same_bits(numprec.round(strided, "bf16"), numprec.round(_wide(strided), "bf16"))


def test_a_float32_array_is_never_copied_to_float64():
    x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
    numprec.round(x[:10], "fp16")  # compiled outside the measurement
    tracemalloc.start()
    numprec.round(x, "fp16")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the float32 result (4 MiB) and the fast pass's flags (1 MiB); a float64 copy is 8 MiB
    assert peak < 6.5 * 2 ** 20


@given(hnp.arrays(np.float32, st.integers(1, 40), elements=st.floats(width=32)),
       st.sampled_from(["fp16", "bf16", "fp8_e5m2", "tf32", "fp6_e2m3fn"]),
       st.sampled_from(MODES), st.booleans(), st.booleans())
def test_float32_path_on_drawn_arrays(x, name, mode, saturate, ftz):
    options = dict(saturate=saturate, ftz=ftz, seed=3 if mode == "sr" else None)
    _same_bits(numprec.round(x, name, mode, **options),
               numprec.round(_wide(x), name, mode, **options))


@pytest.mark.parametrize("dtype, name", [(np.float32, "fp16"), (np.float64, "fp16"),
                                         (np.float32, "fp64")])
def test_out_receives_the_result(dtype, name):
    x = _wide(X32[:1000]).astype(dtype).reshape(10, 100)
    want = numprec.round(x, name, "sr", seed=5)
    out = np.full(x.shape, 7.0, dtype=want.dtype)
    flags = numprec.Flags()
    assert numprec.round(x, name, "sr", seed=5, out=out, flags=flags) is out
    assert np.array_equal(out, want, equal_nan=True)
    assert (flags.inexact > 0) == (name == "fp16")  # float32 values are exact in fp64


def test_bad_out_is_a_clear_error():
    x = np.ones(6, dtype=np.float32)
    with pytest.raises(ValueError, match=r"out has shape \(5,\), the result has shape \(6,\)"):
        numprec.round(x, "fp16", out=np.empty(5, np.float32))
    with pytest.raises(TypeError, match="out has dtype float64, the result has dtype float32"):
        numprec.round(x, "fp16", out=np.empty(6))
    with pytest.raises(TypeError, match="out must be a numpy array, got list"):
        numprec.round(x, "fp16", out=[0.0] * 6)
    with pytest.raises(ValueError, match="writeable C-contiguous"):
        numprec.round(x, "fp16", out=np.empty(12, np.float32)[::2])
    frozen = np.empty(6, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable C-contiguous"):
        numprec.round(x, "fp16", out=frozen)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_may_be_the_input_itself(dtype):
    # subnormals, overflow and NaN take the general pass, which reads the input after the fast
    # pass: rounding in place must still see the original values
    x = _wide(X32[::7]).astype(dtype)
    want = numprec.round(x, "fp8_e4m3fn", "sr", seed=9)
    assert numprec.round(x, "fp8_e4m3fn", "sr", seed=9, out=x) is x
    assert np.array_equal(x, want, equal_nan=True)
    assert np.array_equal(np.signbit(x), np.signbit(want))
