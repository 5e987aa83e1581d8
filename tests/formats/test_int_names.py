"""The integer names int4 (q3.0) and uint8 (uq8.0) beside int8: limits, names, rounding."""
import numpy as np
import pytest

import numprec
from numprec import FixedPoint, Format, get_format


@pytest.mark.parametrize("name, fields, limits", [
    ("int8", (7, 0, True, 8), (-128.0, 127.0)),
    ("int4", (3, 0, True, 4), (-8.0, 7.0)),
    ("uint8", (8, 0, False, 8), (0.0, 255.0)),
    ("int16", (15, 0, True, 16), (-32768.0, 32767.0)),
    ("int32", (31, 0, True, 32), (-2.0 ** 31, 2.0 ** 31 - 1)),
])
def test_integer_names(name, fields, limits):
    fmt = get_format(name)
    assert isinstance(fmt, FixedPoint)
    assert (fmt.int_bits, fmt.frac_bits, fmt.signed, fmt.nbits) == fields
    assert (fmt.min, fmt.max) == limits
    assert fmt.name == name
    # any spelling gives the same descriptor, named the same way
    assert get_format(name.upper()) == fmt and get_format(f" {name} ").name == name
    assert get_format(fmt) is fmt


def test_integer_names_round_and_encode_like_their_fixed_point_spelling():
    x = np.array([-300.0, -9.5, -8.5, -0.5, 0.5, 1.5, 6.5, 7.5, 254.5, 255.5, 1e9])
    for name, spelled in (("int4", "q3.0"), ("uint8", "uq8.0")):
        got = numprec.round(x, name, saturate=True)
        assert np.array_equal(got, numprec.round(x, spelled, saturate=True))
    assert numprec.round(x, "int4").tolist() == [-8, -8, -8, -0.0, 0, 2, 6, 7, 7, 7, 7]
    assert numprec.round(x, "uint8").tolist() == [0, 0, 0, 0, 0, 2, 6, 8, 254, 255, 255]
    assert numprec.encode(np.array([-8.0, -1.0, 7.0]), "int4").tolist() == [8, 15, 7]
    assert numprec.encode(np.array([0.0, 200.0, 255.0]), "uint8").tolist() == [0, 200, 255]


@pytest.mark.parametrize("name", ["int4", "uint8"])
def test_integer_names_are_reserved(name):
    with pytest.raises(ValueError, match="reserved"):
        numprec.register_format(Format(name, 4, 3))


def test_unknown_name_lists_the_integer_names():
    with pytest.raises(ValueError) as err:
        get_format("int7")
    message = str(err.value)
    assert "'int7'" in message
    for name in ("int8", "int4", "uint8"):
        assert name in message
