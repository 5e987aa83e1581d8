"""Reading values and bit patterns from the command line."""
import math
from fractions import Fraction

import pytest

from numprec.cli.values import exact, parse_bits, parse_value, power_of_two, short


@pytest.mark.parametrize("text, value", [
    ("1.5", 1.5), ("-3.25e2", -325.0), ("0x1.8p3", 12.0), ("-0x1p-1074", -5e-324),
    ("0X1P+4", 16.0), ("0x.8", 0.5), ("65504", 65504.0), (" 2.5 ", 2.5), ("1_000", 1000.0)])
def test_exact_float64_inputs_have_no_note(text, value):
    assert parse_value(text) == (value, None)


def test_decimal_that_is_not_a_float64_reports_its_exact_value():
    value, exact_input = parse_value("0.1")
    assert value == 0.1
    assert exact_input == Fraction(1, 10)


def test_hex_float_with_more_than_53_bits_is_rounded_and_reported():
    value, exact_input = parse_value("0x1.00000000000008p0")  # 1 + 2^-53: a tie, rounds to even
    assert value == 1.0
    assert exact_input == 1 + Fraction(1, 2 ** 53)


@pytest.mark.parametrize("text", ["inf", "+Infinity", "-inf", "nan", "-nan", "NaN"])
def test_special_values(text):
    value, note = parse_value(text)
    assert note is None
    if "nan" in text.lower():
        assert math.isnan(value)
    else:
        assert value == (-math.inf if text.startswith("-") else math.inf)


def test_negative_zero_keeps_its_sign():
    value, _ = parse_value("-0")
    assert value == 0 and math.copysign(1, value) == -1
    value, _ = parse_value("-0x0p0")
    assert math.copysign(1, value) == -1


def test_underflow_to_zero_is_reported_as_inexact():
    value, exact_input = parse_value("1e-400")
    assert value == 0.0 and exact_input == Fraction(1, 10 ** 400)


@pytest.mark.parametrize("text", ["abc", "", "0x", "1e", "0x1.8p", "snan", "1e99999999"])
def test_unreadable_values_raise_value_error_naming_the_input(text):
    with pytest.raises(ValueError, match="cannot read value"):
        parse_value(text)


def test_values_beyond_float64_are_refused():
    with pytest.raises(ValueError, match="beyond the float64 range"):
        parse_value("1e400")
    with pytest.raises(ValueError, match="beyond the float64 range"):
        parse_value("-0x1p1024")


@pytest.mark.parametrize("text, bits", [("0x3c00", 0x3C00), ("0b101", 5), ("15360", 15360),
                                        ("0xffff", 0xFFFF), ("0x3c_00", 0x3C00)])
def test_parse_bits(text, bits):
    assert parse_bits(text, 16, "fp16") == bits


@pytest.mark.parametrize("text", ["0x10000", "-1"])
def test_bits_out_of_range(text):
    with pytest.raises(ValueError, match="out of range for fp16"):
        parse_bits(text, 16, "fp16")


def test_bits_unreadable():
    with pytest.raises(ValueError, match="cannot read bit pattern 'zz'"):
        parse_bits("zz", 16, "fp16")


def test_display_helpers():
    assert power_of_two(2.0 ** -24) == "2^-24"
    assert power_of_two(3.0) is None
    assert short(2.0 ** -24) == "2^-24" and short(-(2.0 ** 20)) == "-2^20"
    assert short(0.125) == "0.125" and short(65504.0) == "65504"
    assert exact(0.1) == "0.1000000000000000055511151231257827021181583404541015625"
    assert exact(5e-324).startswith("5e-324 (exact expansion has 751 digits)")
    assert exact(math.inf) == "inf"
