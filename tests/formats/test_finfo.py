"""numprec.finfo has numpy.finfo's fields with numpy's and ml_dtypes' values: checked against
numpy for fp16/fp32/fp64 and against ml_dtypes for every format it has, numprec's own and
custom formats with ml_dtypes twins."""
import math

import ml_dtypes
import numpy as np
import pytest

import numprec
from numprec import Format
from numprec.formats.finfo import FIELDS

# numprec format -> the peer's type.
NUMPY = {"fp16": np.float16, "fp32": np.float32, "fp64": np.float64}
ML_DTYPES = {"bf16": ml_dtypes.bfloat16, "fp8_e4m3fn": ml_dtypes.float8_e4m3fn,
             "fp8_e5m2": ml_dtypes.float8_e5m2, "fp8_e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
             "fp8_e5m2fnuz": ml_dtypes.float8_e5m2fnuz, "fp6_e3m2fn": ml_dtypes.float6_e3m2fn,
             "fp6_e2m3fn": ml_dtypes.float6_e2m3fn, "fp4_e2m1fn": ml_dtypes.float4_e2m1fn,
             "fp8_e8m0fnu": ml_dtypes.float8_e8m0fnu,
             Format("e4m3_ieee", 4, 3): ml_dtypes.float8_e4m3,
             Format("e3m4_ieee", 3, 4): ml_dtypes.float8_e3m4,
             Format("e4m3b11fnuz", 4, 3, bias=11, nan="fnuz"): ml_dtypes.float8_e4m3b11fnuz}
INTEGER_FIELDS = ("bits", "nmant", "nexp", "iexp", "maxexp", "minexp", "machep", "negep",
                  "precision")


def _peer_value(info, field):
    value = getattr(info, field)
    return int(value) if field in INTEGER_FIELDS else float(value)


def _numpy_precision(eps):
    return int(-math.log10(eps))


@pytest.mark.parametrize("name", list(NUMPY))
def test_every_field_matches_numpy(name):
    ours, theirs = numprec.finfo(name), np.finfo(NUMPY[name])
    for field in FIELDS:
        assert getattr(ours, field) == _peer_value(theirs, field), (name, field)


@pytest.mark.parametrize("fmt", list(ML_DTYPES), ids=str)
def test_every_field_matches_ml_dtypes(fmt):
    ours, theirs = numprec.finfo(fmt), ml_dtypes.finfo(ML_DTYPES[fmt])
    for field in FIELDS:
        if field in ("precision", "resolution") and \
                theirs.precision != _numpy_precision(float(theirs.eps)):
            continue  # ml_dtypes hand-sets these; numprec follows numpy's rule (below)
        assert getattr(ours, field) == _peer_value(theirs, field), (str(fmt), field)


@pytest.mark.parametrize("name", numprec.format_names())
def test_precision_and_resolution_follow_numpys_definitions(name):
    info = numprec.finfo(name)
    assert info.precision == _numpy_precision(info.eps)
    assert info.resolution == float(numprec.round(10.0 ** -info.precision, name))
    assert info.negep == math.log2(info.epsneg) and info.machep == math.log2(info.eps)


def test_formats_where_ml_dtypes_sets_another_precision():
    # 8-bit formats: eps = 2^-2 or 2^-3, so int(-log10(eps)) = 0 where ml_dtypes says 1.
    info = numprec.finfo("fp8_e4m3fn")
    assert (info.precision, info.resolution) == (0, 1.0)
    assert ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).precision == 1


def test_epsneg_where_one_is_the_smallest_normal_number():
    assert numprec.finfo("fp6_e2m3fn").epsneg == 0.125  # below 1: the subnormal 0.875
    assert numprec.finfo("fp4_e2m1fn").epsneg == 0.5    # below 1: the subnormal 0.5
    no_subnormals = Format("e2m1_nosub", 2, 1, nan="none", subnormals=False)
    assert numprec.finfo(no_subnormals).epsneg == 1.0   # below 1: only zero


def test_names_and_descriptors_are_accepted_and_fixed_point_is_refused():
    assert numprec.finfo("e4m3").name == "fp8_e4m3fn"
    assert numprec.finfo(numprec.get_format("bf16")).format is numprec.get_format("bf16")
    assert "max=448.0" in repr(numprec.finfo("e4m3"))
    with pytest.raises(TypeError, match="q3.4 is a fixed-point format, not a floating-point"):
        numprec.finfo("q3.4")
    with pytest.raises(ValueError, match="unknown format 'fp12'"):
        numprec.finfo("fp12")
