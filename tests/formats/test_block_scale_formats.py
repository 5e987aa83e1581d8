"""The unsigned block-scale formats: OCP MX's E8M0 (fp8_e8m0fnu: no sign, no zero, no inf,
2^-127 .. 2^127, NaN 0xFF) and NVFP4's UE4M3 (fp8_ue4m3: the nonnegative half of fp8_e4m3fn in
a 7-bit pattern, max 448, NaN 0x7F). Descriptor limits, validation, and cross-checks with
ml_dtypes: float8_e8m0fnu on every code and on float32 and float64 inputs (ml_dtypes 0.7 rounds
both once, to nearest), float8_e4m3fn on nonnegative inputs for UE4M3."""
import math
import warnings

import ml_dtypes
import numpy as np
import pytest

import numprec
from numprec import Format
from numprec.codes import P_MAXM_NEG, P_SIGNED, P_ZERO
from numprec.testing import assert_bits_equal, reference_decode, reference_encode


def test_e8m0_descriptor():
    fmt = numprec.get_format("e8m0")
    assert fmt is numprec.get_format("fp8_e8m0fnu") is numprec.get_format("float8_e8m0fnu")
    assert (fmt.nbits, fmt.container_bits, fmt.ebits, fmt.mbits, fmt.bias) == (8, 8, 8, 0, 127)
    assert (fmt.signed, fmt.zero, fmt.subnormals, fmt.inf, fmt.nan) == (False, False, False,
                                                                        False, "fn")
    assert (fmt.emin, fmt.emax) == (-127, 127)
    assert fmt.max == 2.0 ** 127 and fmt.min == fmt.min_normal == fmt.min_subnormal == 2.0 ** -127
    assert fmt.eps == 1.0 and not fmt.has_negative_zero and fmt.fits_float32
    params = fmt.kernel_params
    assert (params[P_SIGNED], params[P_ZERO], params[P_MAXM_NEG]) == (0, 0, 0)
    assert fmt.describe_encoding() == "unsigned, no zero (0x00 = 2^-127); no inf; NaN: 0xff"


def test_ue4m3_descriptor():
    fmt = numprec.get_format("ue4m3")
    assert fmt is numprec.get_format("fp8_ue4m3")
    assert (fmt.nbits, fmt.container_bits, fmt.bias, fmt.emin, fmt.emax) == (7, 8, 7, -6, 8)
    assert fmt.max == 448.0 and fmt.min == 0.0 and fmt.min_subnormal == 2.0 ** -9
    assert fmt.min_normal == 2.0 ** -6 and fmt.zero and fmt.subnormals
    assert fmt.describe_encoding() == "unsigned; no inf; NaN: 0x7f"
    e4m3 = numprec.get_format("fp8_e4m3fn")
    assert (fmt.max, fmt.min_normal, fmt.eps) == (e4m3.max, e4m3.min_normal, e4m3.eps)


@pytest.mark.parametrize("kwargs, message", [
    (dict(nan="fnuz", signed=False), "signed=False needs nan='ieee' or 'fn'"),
    (dict(nan="none", signed=False), "signed=False needs nan='ieee' or 'fn'"),
    (dict(nan="fn", zero=False, subnormals=False), "zero=False needs signed=False"),
    (dict(nan="fn", signed=False, zero=False), "zero=False needs subnormals=False"),
    (dict(nan="fn", signed=0), "signed must be a bool"),
])
def test_invalid_unsigned_formats_are_refused(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Format("bad", 4, 3, **kwargs)


def test_finfo_of_the_unsigned_formats():
    info = numprec.finfo("e8m0")
    theirs = ml_dtypes.finfo(ml_dtypes.float8_e8m0fnu)
    for field in ("bits", "eps", "epsneg", "max", "min", "tiny", "smallest_normal",
                  "smallest_subnormal", "nmant", "nexp", "maxexp", "minexp", "machep", "negep"):
        assert float(getattr(info, field)) == float(getattr(theirs, field)), field
    ue = numprec.finfo("ue4m3")
    assert (ue.bits, ue.max, ue.min, ue.tiny, ue.smallest_subnormal) == (7, 448.0, 0.0,
                                                                          2.0 ** -6, 2.0 ** -9)


def test_every_e8m0_code_decodes_as_ml_dtypes_and_the_oracle():
    codes = np.arange(256, dtype=np.uint8)
    got = numprec.decode(codes, "e8m0")
    theirs = codes.view(ml_dtypes.float8_e8m0fnu).astype(np.float64)
    assert_bits_equal(got[:255], theirs[:255], codes[:255], "e8m0 decode")
    assert np.isnan(got[255]) and np.isnan(theirs[255])
    assert got[:255].tolist() == [math.ldexp(1.0, c - 127) for c in range(255)]
    assert [reference_decode(c, "e8m0") for c in range(255)] == got[:255].tolist()
    assert numprec.encode(got[:255], "e8m0").tolist() == list(range(255))
    assert [reference_encode(v, "e8m0") for v in got[:255].tolist()] == list(range(255))
    assert reference_encode(math.nan, "e8m0") == 0xFF == numprec.encode(math.nan, "e8m0")
    for value in (0.0, -1.0):
        with pytest.raises(ValueError):
            reference_encode(value, "e8m0")


def _e8m0_inputs(dtype, rng):
    """Every value of E8M0, every midpoint (1.5 * 2^k, and 2^-128, 0.75 * 2^-127 below it) and
    their neighbours in dtype, random bit patterns, 0, inf, NaN; both signs."""
    grid = np.ldexp(1.0, np.arange(-127, 128))
    mids = np.concatenate([grid * 1.5, [2.0 ** -128, 0.75 * 2.0 ** -127]]).astype(dtype)
    base = np.concatenate([grid.astype(dtype), mids])
    with np.errstate(over="ignore"):
        near = np.concatenate([np.nextafter(base, dtype(np.inf)), np.nextafter(base, dtype(0))])
    bits = rng.integers(0, 2 ** 32, 300_000, dtype=np.uint64).astype(np.uint32)
    with np.errstate(invalid="ignore"):  # (signalling NaN patterns)
        random = bits.view(np.float32).astype(dtype)
        if dtype == np.float64:
            random = np.concatenate([random, rng.standard_normal(50_000)
                                     * np.ldexp(1.0, rng.integers(-1074, 1023, 50_000))])
        x = np.concatenate([base, near, random, [0.0, np.inf, np.nan, 5e-324]]).astype(dtype)
    return np.concatenate([x, -x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_e8m0_round_and_encode_match_ml_dtypes(dtype):
    """ml_dtypes 0.7 rounds to nearest (a tie 1.5 * 2^k goes up: every significand is odd),
    gives NaN for zero, negative values, inf and overflow, and the smallest value 2^-127 for
    positive values below it: the semantics numprec chose, so every input agrees."""
    x = _e8m0_inputs(dtype, np.random.default_rng(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cast = x.astype(ml_dtypes.float8_e8m0fnu)
    got = numprec.round(x, "e8m0")
    assert got.dtype == dtype  # E8M0 fits float32
    theirs = cast.astype(dtype)
    assert np.array_equal(np.isnan(got), np.isnan(theirs))
    keep = ~np.isnan(got)
    assert_bits_equal(got[keep].astype(np.float64), theirs[keep].astype(np.float64), x[keep],
                      "e8m0 round")
    assert np.array_equal(numprec.encode(x, "e8m0"), cast.view(np.uint8))


def test_ue4m3_is_the_nonnegative_half_of_e4m3fn():
    """Every UE4M3 code is the fp8_e4m3fn byte of the same value (sign bit 0), and nonnegative
    inputs round to the same values and bytes as ml_dtypes' float8_e4m3fn."""
    codes = np.arange(128, dtype=np.uint8)
    assert_bits_equal(numprec.decode(codes, "ue4m3"),
                      codes.view(ml_dtypes.float8_e4m3fn).astype(np.float64))
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2 ** 31, 300_000, dtype=np.uint64).astype(np.uint32)
    with np.errstate(invalid="ignore"):  # (signalling NaN patterns)
        x = np.concatenate([bits.view(np.float32), np.arange(0, 470, 0.25, dtype=np.float32),
                            [np.inf, 3e38]]).astype(np.float32)
    x = x[~np.isnan(x)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cast = x.astype(ml_dtypes.float8_e4m3fn)
    got = numprec.round(x, "ue4m3")
    theirs = cast.astype(np.float32)
    assert np.array_equal(np.isnan(got), np.isnan(theirs))
    assert np.array_equal(got[~np.isnan(got)], theirs[~np.isnan(got)])
    assert np.array_equal(numprec.encode(x, "ue4m3"), cast.view(np.uint8))
    with pytest.raises(ValueError, match="out of range"):
        numprec.decode(np.uint8(0x80), "ue4m3")  # a 7-bit format: a set sign bit is no pattern


def test_registry_lists_them():
    names = numprec.format_names()
    assert "fp8_e8m0fnu" in names and "fp8_ue4m3" in names
