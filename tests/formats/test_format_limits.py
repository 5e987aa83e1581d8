"""Derived limits of every registered format against REFERENCE.md, custom formats and FixedPoint.

Expected constants are written as hex floats and typed in once here, independently of the
descriptor's formulas; the oracle's own derivation (numprec.testing.oracle.Limits) is checked too.
"""
import dataclasses
import math

import numpy as np
import pytest

import numprec
from numprec import FixedPoint, Format, get_format
from numprec.testing import limits_of, representable_values

H = float.fromhex

# name: (nbits, bias, max, min_normal, min_subnormal, has_inf, nan convention)
REFERENCE = {
    "fp64": (64, 1023, H("0x1.fffffffffffffp1023"), H("0x1p-1022"), H("0x1p-1074"), True, "ieee"),
    "fp32": (32, 127, H("0x1.fffffep127"), H("0x1p-126"), H("0x1p-149"), True, "ieee"),
    "tf32": (19, 127, H("0x1.ffcp127"), H("0x1p-126"), H("0x1p-136"), True, "ieee"),
    "fp16": (16, 15, H("0x1.ffcp15"), H("0x1p-14"), H("0x1p-24"), True, "ieee"),
    "bf16": (16, 127, H("0x1.fep127"), H("0x1p-126"), H("0x1p-133"), True, "ieee"),
    "fp8_e4m3fn": (8, 7, H("0x1.cp8"), H("0x1p-6"), H("0x1p-9"), False, "fn"),
    "fp8_e5m2": (8, 15, H("0x1.cp15"), H("0x1p-14"), H("0x1p-16"), True, "ieee"),
    "fp8_e4m3fnuz": (8, 8, H("0x1.ep7"), H("0x1p-7"), H("0x1p-10"), False, "fnuz"),
    "fp8_e5m2fnuz": (8, 16, H("0x1.cp15"), H("0x1p-15"), H("0x1p-17"), False, "fnuz"),
    "fp6_e3m2fn": (6, 3, H("0x1.cp4"), H("0x1p-2"), H("0x1p-4"), False, "none"),
    "fp6_e2m3fn": (6, 1, H("0x1.ep2"), H("0x1p0"), H("0x1p-3"), False, "none"),
    "fp4_e2m1fn": (4, 1, H("0x1.8p2"), H("0x1p0"), H("0x1p-1"), False, "none"),
}


def test_reference_constants_are_the_documented_numbers():
    assert REFERENCE["fp8_e4m3fn"][2] == 448 and REFERENCE["fp16"][2] == 65504
    assert REFERENCE["fp8_e5m2"][2] == 57344 and REFERENCE["fp8_e4m3fnuz"][2] == 240
    assert (REFERENCE["fp6_e3m2fn"][2], REFERENCE["fp6_e2m3fn"][2],
            REFERENCE["fp4_e2m1fn"][2]) == (28, 7.5, 6)


def test_registry_holds_exactly_the_documented_formats():
    assert set(REFERENCE) <= set(numprec.format_names())


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_registered_format_limits(name):
    nbits, bias, fmax, min_normal, min_sub, has_inf, nan = REFERENCE[name]
    fmt = get_format(name)
    assert (fmt.name, fmt.nbits, fmt.bias, fmt.inf, fmt.nan) == (name, nbits, bias, has_inf, nan)
    assert (fmt.max, fmt.min_normal, fmt.min_subnormal) == (fmax, min_normal, min_sub)
    assert fmt.eps == math.ldexp(1.0, -fmt.mbits) and fmt.u == fmt.eps / 2
    assert fmt.precision == fmt.mbits + 1 and fmt.nbits == 1 + fmt.ebits + fmt.mbits
    assert fmt.emin == 1 - bias and fmt.min_normal == math.ldexp(1.0, fmt.emin)
    assert math.frexp(fmax)[1] - 1 == fmt.emax
    assert fmt.container_bits == next(w for w in (8, 16, 32, 64) if nbits <= w)
    assert fmt.has_nan == (nan != "none") and fmt.has_negative_zero == (nan != "fnuz")
    lim = limits_of(fmt)  # the oracle derives the same limits on its own
    assert (float(lim.max_pos), float(lim.min_normal)) == (fmax, min_normal)


@pytest.mark.parametrize("name", [n for n in REFERENCE if REFERENCE[n][0] <= 16])
def test_representable_values_span_the_limits(name):
    fmt = get_format(name)
    values = representable_values(fmt)
    positive = values[values > 0]
    assert values[-1] == fmt.max and values[0] == -fmt.max
    assert positive[0] == fmt.min_subnormal
    assert positive[positive >= fmt.min_normal][0] == fmt.min_normal
    finite_patterns = {"ieee": 2 * (2 ** fmt.ebits - 1) * 2 ** fmt.mbits,
                       "fn": 2 ** fmt.nbits - 2, "fnuz": 2 ** fmt.nbits - 1,
                       "none": 2 ** fmt.nbits}[fmt.nan]
    zeros = 1 if fmt.nan == "fnuz" else 2
    assert values.size == finite_patterns - zeros + 1


def test_fp32_values_are_not_enumerated():
    with pytest.raises(ValueError, match="fp32"):
        representable_values("fp32")


def test_aliases_and_eps():
    assert get_format("e4m3") is get_format("fp8_e4m3fn")
    assert get_format("fp16").eps == H("0x1p-10") and get_format("bf16").u == H("0x1p-8")


@pytest.mark.parametrize("fields, expected", [
    # (ebits, mbits, kwargs) -> (bias, max, min_normal, min_subnormal)
    ((3, 2, {}), (3, H("0x1.cp3"), H("0x1p-2"), H("0x1p-4"))),
    ((4, 3, {"subnormals": False}), (7, H("0x1.ep7"), H("0x1p-6"), H("0x1p-6"))),
    ((4, 3, {"bias": 3}), (3, H("0x1.ep11"), H("0x1p-2"), H("0x1p-5"))),
    ((4, 3, {"nan": "fn", "bias": 8}), (8, H("0x1.cp7"), H("0x1p-7"), H("0x1p-10"))),
    ((3, 0, {"nan": "fn"}), (3, H("0x1p3"), H("0x1p-2"), H("0x1p-2"))),
    ((2, 1, {"nan": "none"}), (1, H("0x1.8p2"), H("0x1p0"), H("0x1p-1"))),
    ((5, 2, {"nan": "fnuz"}), (16, H("0x1.cp15"), H("0x1p-15"), H("0x1p-17"))),
    ((11, 52, {}), (1023, H("0x1.fffffffffffffp1023"), H("0x1p-1022"), H("0x1p-1074"))),
])
def test_custom_format_limits(fields, expected):
    ebits, mbits, kwargs = fields
    fmt = Format("custom", ebits, mbits, **kwargs)
    assert (fmt.bias, fmt.max, fmt.min_normal, fmt.min_subnormal) == expected
    lim = limits_of(fmt)
    assert float(lim.max_pos) == fmt.max and float(lim.min_normal) == fmt.min_normal


def test_custom_format_is_frozen_and_hashable():
    fmt = Format("custom", 4, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fmt.mbits = 2
    assert fmt == Format("custom", 4, 3) and hash(fmt) == hash(Format("custom", 4, 3))
    assert fmt.inf is True and Format("c", 4, 3, nan="fn").inf is False


@pytest.mark.parametrize("spec, expected", [
    # (int_bits, frac_bits, signed) -> (name, nbits, resolution, max, min, u)
    ((3, 4, True), ("q3.4", 8, H("0x1p-4"), H("0x1.fcp2"), -8.0, H("0x1p-5"))),
    ((4, 4, False), ("uq4.4", 8, H("0x1p-4"), H("0x1.fep3"), 0.0, H("0x1p-5"))),
    ((7, 0, True), ("q7.0", 8, 1.0, 127.0, -128.0, 0.5)),
    ((0, 15, True), ("q0.15", 16, H("0x1p-15"), H("0x1.fffcp-1"), -1.0, H("0x1p-16"))),
    ((20, 20, False), ("uq20.20", 40, H("0x1p-20"), H("0x1.fffffffffep19"), 0.0, H("0x1p-21"))),
])
def test_fixed_point_limits(spec, expected):
    fmt = FixedPoint(*spec)
    assert (fmt.name, fmt.nbits, fmt.resolution, fmt.max, fmt.min, fmt.u) == expected
    assert fmt.eps == fmt.resolution == fmt.min_subnormal and fmt.is_fixed
    assert not fmt.has_nan and not fmt.has_negative_zero and not fmt.inf
    lim = limits_of(fmt)
    assert float(lim.max_pos) == fmt.max and -float(lim.max_neg) == fmt.min + 0.0


def test_fixed_point_values_are_every_multiple_of_the_resolution():
    values = representable_values(FixedPoint(3, 4))
    assert np.array_equal(values, np.arange(-128, 128) / 16.0)
    assert np.array_equal(representable_values("uq4.4"), np.arange(256) / 16.0)
