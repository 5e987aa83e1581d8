"""get_format names, aliases and qM.N spellings; register_format; every bad-input error."""
import pytest

import numprec
from numprec import FixedPoint, Format, get_format
from numprec.formats import registry

DOCUMENTED = ["fp64", "fp32", "tf32", "fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3fnuz",
              "fp8_e5m2fnuz", "fp6_e3m2fn", "fp6_e2m3fn", "fp4_e2m1fn"]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_documented_names_resolve_to_themselves(name):
    fmt = get_format(name)
    assert fmt.name == name and get_format(fmt) is fmt
    assert get_format(name.upper()) is fmt and get_format(f"  {name} ") is fmt


@pytest.mark.parametrize("alias, name", [("e4m3", "fp8_e4m3fn"), ("e5m2", "fp8_e5m2"),
                                         ("float32", "fp32"), ("half", "fp16"),
                                         ("bfloat16", "bf16"), ("float64", "fp64")])
def test_aliases(alias, name):
    assert get_format(alias) is get_format(name)


@pytest.mark.parametrize("spec, fields", [("q3.4", (3, 4, True)), ("uq4.4", (4, 4, False)),
                                          ("q0.7", (0, 7, True)), ("q15.16", (15, 16, True)),
                                          ("UQ1.0", (1, 0, False))])
def test_fixed_point_spellings(spec, fields):
    fmt = get_format(spec)
    assert isinstance(fmt, FixedPoint)
    assert (fmt.int_bits, fmt.frac_bits, fmt.signed) == fields
    assert fmt.name == spec.lower()


def test_int8_is_q7_0():
    fmt = get_format("int8")
    assert (fmt.int_bits, fmt.frac_bits, fmt.signed, fmt.nbits) == (7, 0, True, 8)
    assert fmt.name == "int8" and (fmt.max, fmt.min) == (127.0, -128.0)


def test_descriptors_pass_through():
    custom = Format("mine", 3, 2)
    fixed = FixedPoint(2, 5)
    assert get_format(custom) is custom and get_format(fixed) is fixed


def test_unknown_name_lists_the_valid_choices():
    with pytest.raises(ValueError) as err:
        get_format("fp7")
    message = str(err.value)
    assert "'fp7'" in message
    for name in DOCUMENTED + ["e4m3", "e5m2", "int8", "qM.N"]:
        assert name in message


@pytest.mark.parametrize("spec", [3, 1.5, None, ("fp16",), b"fp16"])
def test_non_string_spec_is_a_type_error(spec):
    with pytest.raises(TypeError, match="format must be a name"):
        get_format(spec)


@pytest.mark.parametrize("spec", ["q3", "q3.4.5", "qa.b", "q-1.2", "int16x", ""])
def test_malformed_fixed_spellings_are_unknown(spec):
    with pytest.raises(ValueError, match="unknown format"):
        get_format(spec)


def test_fixed_point_spelling_too_wide():
    with pytest.raises(ValueError, match="at most 52"):
        get_format("q40.20")


def test_register_format(monkeypatch):
    monkeypatch.setattr(registry, "_FORMATS", dict(registry._FORMATS))
    mine = numprec.register_format(Format("e3m4_test", 3, 4, nan="fn"))
    assert get_format("e3m4_test") is mine and "e3m4_test" in numprec.format_names()
    with pytest.raises(ValueError, match="reserved"):
        numprec.register_format(Format("e4m3", 4, 3))
    with pytest.raises(ValueError, match="reserved"):
        numprec.register_format(Format("q1.2", 4, 3))
    with pytest.raises(TypeError, match="numprec.Format"):
        numprec.register_format(FixedPoint(1, 2))


@pytest.mark.parametrize("args, kwargs, error, pattern", [
    (("x", 12, 3), {}, ValueError, r"ebits=12 .*valid 1\.\.11"),
    (("x", 0, 3), {}, ValueError, r"ebits=0 .*valid 1\.\.11"),
    (("x", 4, -1), {}, ValueError, r"mbits=-1 .*valid 0\.\.52"),
    (("x", 4, 53), {}, ValueError, r"mbits=53 .*valid 0\.\.52"),
    (("x", 4, 3), {"nan": "ocp"}, ValueError, r"nan='ocp'.*ieee, fn, fnuz, none"),
    (("x", 4, 3), {"nan": "fn", "inf": True}, ValueError, r"inf=True contradicts nan='fn'"),
    (("x", 4, 3), {"nan": "none", "inf": True}, ValueError, r"contradicts"),
    (("x", 4, 3), {"inf": False}, ValueError, r"inf=False contradicts nan='ieee'"),
    (("x", 1, 3), {}, ValueError, r"ebits >= 2"),
    (("x", 4, 0), {}, ValueError, r"mbits >= 1"),
    (("x", 11, 52), {"bias": 1000}, ValueError, r"bias=1000 .*outside float64"),
    (("x", 11, 52), {"bias": 1024}, ValueError, r"bias=1024 .*outside float64"),
    (("x", 8, 23), {"bias": 1100}, ValueError, r"outside float64"),
    (("x", 4.0, 3), {}, TypeError, r"ebits must be an int"),
    (("x", 4, "3"), {}, TypeError, r"mbits must be an int"),
    (("x", True, 3), {}, TypeError, r"ebits must be an int"),
    (("x", 4, 3), {"bias": 7.0}, TypeError, r"bias must be an int"),
])
def test_bad_format_fields(args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        Format(*args, **kwargs)


@pytest.mark.parametrize("args, error, pattern", [
    ((-1, 4), ValueError, r"int_bits=-1 must be >= 0"),
    ((3, -2), ValueError, r"frac_bits=-2 must be >= 0"),
    ((0, 0), ValueError, r"at least one"),
    ((30, 23), ValueError, r"at most 52"),
    ((3.0, 4), TypeError, r"int_bits must be an int"),
    ((3, "4"), TypeError, r"frac_bits must be an int"),
])
def test_bad_fixed_point_fields(args, error, pattern):
    with pytest.raises(error, match=pattern):
        FixedPoint(*args)
