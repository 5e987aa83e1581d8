"""Bad input to round/encode/decode gets a clear ValueError/TypeError naming the value."""
import numpy as np
import pytest

import numprec


@pytest.mark.parametrize("op", [numprec.round, numprec.encode])
def test_invalid_mode_lists_the_valid_modes(op):
    valid = r"'nearest'.*valid modes: rne, rna, rtz, rup, rdn, rto, sr"
    with pytest.raises(ValueError, match=valid):
        op(1.0, "fp16", "nearest")
    with pytest.raises(ValueError, match="valid modes"):
        op(1.0, "fp16", None)


@pytest.mark.parametrize("op", [numprec.round, numprec.encode])
def test_unknown_format(op):
    with pytest.raises(ValueError, match=r"unknown format 'fp7'.*fp16"):
        op(1.0, "fp7")
    with pytest.raises(TypeError, match="format must be a name"):
        op(1.0, 16)


@pytest.mark.parametrize("rbits, error, pattern", [
    (0, ValueError, r"rbits=0 is out of range; valid: 1\.\.62"),
    (63, ValueError, r"rbits=63 is out of range"),
    (-1, ValueError, r"out of range"),
    (2.0, TypeError, r"rbits must be an int"),
    (True, TypeError, r"rbits must be an int"),
])
def test_rbits_out_of_range(rbits, error, pattern):
    with pytest.raises(error, match=pattern):
        numprec.round(1.0, "fp16", "sr", seed=1, rbits=rbits)


@pytest.mark.parametrize("mode", ["rne", "rtz", "rto"])
def test_rbits_only_with_sr(mode):
    with pytest.raises(ValueError, match="only applies to mode 'sr'"):
        numprec.round(1.0, "fp16", mode, rbits=8)


@pytest.mark.parametrize("x, pattern", [
    (np.array([1 + 2j]), "complex"),
    (1 + 2j, "complex"),
    (np.array(["1.0"]), "real numbers"),
    ("1.0", "real numbers"),
    (np.array([1.0, None], dtype=object), "real numbers"),
    ([1.0, "a"], "real numbers"),
    (np.array([1.0], dtype=np.longdouble) if np.finfo(np.longdouble).bits > 64 else
     np.array(["x"]), "supported|real numbers"),
])
@pytest.mark.parametrize("op", [numprec.round, numprec.encode])
def test_non_real_input_is_a_type_error(op, x, pattern):
    with pytest.raises(TypeError, match=pattern):
        op(x, "fp16")


@pytest.mark.parametrize("x", [2 ** 53 + 1, np.array([2 ** 62], dtype=np.int64), -(2 ** 60),
                               np.array([2 ** 64 - 1], dtype=np.uint64)])
def test_integers_beyond_2_53_are_refused(x):
    with pytest.raises(ValueError, match=r"beyond 2\*\*53"):
        numprec.round(x, "fp32")


def test_exact_integers_are_accepted():
    assert numprec.round(7, "fp16") == 7.0
    assert numprec.round(np.array([2 ** 53], dtype=np.int64), "fp64")[0] == 2.0 ** 53
    assert numprec.round(np.array([True, False]), "fp16").tolist() == [1.0, 0.0]
    assert numprec.round(np.float16(0.1), "fp16") == float(np.float16(0.1))


def test_flags_must_be_a_flags_object():
    with pytest.raises(TypeError, match="numprec.Flags"):
        numprec.round(1.0, "fp16", flags={})


@pytest.mark.parametrize("fmt, x", [("fp4_e2m1fn", np.nan), ("fp6_e3m2fn", [1.0, np.nan]),
                                    ("int8", np.nan), ("uq4.4", -np.nan)])
def test_encode_nan_into_a_format_without_nan(fmt, x):
    with pytest.raises(ValueError, match=r"no bit pattern for nan.*no NaN"):
        numprec.encode(x, fmt)


@pytest.mark.parametrize("bits, fmt", [(256, "e4m3"),
                                       (np.array([16], dtype=np.uint8), "fp4_e2m1fn"),
                                       (np.array([-1], dtype=np.int16), "fp16"),
                                       (np.array([1 << 19], dtype=np.int64), "tf32"),
                                       (np.array([64], dtype=np.int8), "fp6_e2m3fn")])
def test_decode_out_of_range_patterns(bits, fmt):
    with pytest.raises(ValueError, match="out of range"):
        numprec.decode(bits, fmt)


@pytest.mark.parametrize("bits", [np.array([1.0]), 1.5, np.array(["1"]), np.array([1j])])
def test_decode_needs_integer_patterns(bits):
    with pytest.raises(TypeError, match="integer bit patterns"):
        numprec.decode(bits, "fp16")


def test_decode_unknown_format():
    with pytest.raises(ValueError, match="unknown format"):
        numprec.decode(np.array([1], dtype=np.uint8), "fp9")


def test_invalid_seed():
    with pytest.raises(TypeError, match="seed"):
        numprec.round(1.0, "fp16", "sr", seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        numprec.round(1.0, "fp16", "sr", seed=-3)
