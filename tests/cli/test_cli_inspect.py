"""`numprec inspect`, run in-process through main(argv)."""
import math
import re

import numpy as np
import pytest

import numprec
from numprec.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def mode_rows(out):
    """{mode: (result, bits, flags)} from the mode table (the sr rows keyed 'sr p=...')."""
    rows = {}
    for line in out.splitlines():
        match = re.match(r"^(rne|rna|rtz|rup|rdn|rto|sr p=\S+)\s+(\S+)\s+(\S+)\s+(.*)$", line)
        if match:
            mode, result, bits, rest = match.groups()
            rows[mode] = (result, bits, rest)
    return rows


def field(out, label):
    """The text after a left-column label (labels are padded with at least two spaces)."""
    for line in out.splitlines():
        if re.match(re.escape(label) + r"(\s{2,}|$)", line):
            return line[len(label):].strip()
    raise AssertionError(f"no line {label!r} in:\n{out}")


@pytest.mark.parametrize("value, fmt", [("0.1", "fp16"), ("-0.1", "e4m3"), ("464", "e4m3"),
                                        ("2.3", "q3.4"), ("1e-9", "fp16"), ("-1e-40", "bf16"),
                                        ("3e38", "tf32"), ("7", "fp4_e2m1fn"), ("300", "int8")])
def test_mode_table_agrees_with_numprec_round(capsys, value, fmt):
    code, out, err = run(capsys, "inspect", value, "--format", fmt)
    assert code == 0 and err == ""
    rows = mode_rows(out)
    x = float(value)
    for mode in ("rne", "rna", "rtz", "rup", "rdn", "rto"):
        flags = numprec.Flags()
        want = float(numprec.round(x, fmt, mode, flags=flags))
        result, bits, rest = rows[mode]
        assert (math.isnan(want) and result == "nan") or float(result) == want, (mode, result)
        if not math.isnan(want) or numprec.get_format(fmt).has_nan:
            assert int(bits, 16) == int(numprec.encode(x, fmt, mode))
        raised = [name for name, count in flags.as_dict().items() if count]
        assert rest.split()[-1].strip(",") == (raised[-1] if raised else "-")


def test_fp16_tenth_shows_fields_neighbours_ulp_and_sr(capsys):
    code, out, _ = run(capsys, "inspect", "0.1", "-f", "fp16")
    assert code == 0
    assert "0.1 is not a float64" in field(out, "input")
    assert field(out, "x").endswith("= 0x1.999999999999ap-4")
    assert field(out, "neighbours") == ("0.0999755859375 (0x2e66)  <  x  <  "
                                        "0.10003662109375 (0x2e67)")
    assert field(out, "ulp") == "2^-14 = 0.00006103515625"
    assert field(out, "rne result") == "0.0999755859375"
    assert field(out, "bits").startswith("0 | 01011 | 1001100110  = 0x2e66")
    assert "normal: +1.1001100110b x 2^(11 - 15 = -4)" in out
    assert field(out, "flags") == "inexact"
    rows = mode_rows(out)
    p_up = (0.1 - 0.0999755859375) / 2 ** -14
    assert float(next(k for k in rows if k.startswith("sr p=") and rows[k][1] == "0x2e67")[5:]) \
        == pytest.approx(p_up, rel=1e-6)


def test_bits_option_decodes_a_pattern(capsys):
    code, out, _ = run(capsys, "inspect", "--bits", "0x3c00", "--format", "fp16")
    assert code == 0
    assert field(out, "bits in") == "0x3c00 decodes to 1"
    assert "0 | 01111 | 0000000000  = 0x3c00" in out
    assert "x is representable" in field(out, "neighbours")
    assert field(out, "neighbours").startswith("0.99951171875 (0x3bff)  <  x  <  "
                                               "1.0009765625 (0x3c01)")


def test_bits_option_keeps_a_nan_payload(capsys):
    code, out, _ = run(capsys, "inspect", "--bits", "0x7d01", "-f", "fp16")
    assert code == 0
    assert field(out, "bits").startswith("0 | 11111 | 0100000001  = 0x7d01")
    assert "NaN" in out


@pytest.mark.parametrize("value, expected", [("-inf", "-inf"), ("-1e-5", "-0.0000100"),
                                             ("-0x1p3", "-8"), ("-0", "-0")])
def test_negative_values_are_not_taken_for_options(capsys, value, expected):
    code, out, err = run(capsys, "inspect", value, "--format", "fp16")
    assert code == 0, err
    assert field(out, "rne result").startswith(expected)


def test_saturate_and_ftz_options(capsys):
    _, out, _ = run(capsys, "inspect", "1000", "-f", "e4m3")
    assert mode_rows(out)["rne"][0] == "nan"
    _, out, _ = run(capsys, "inspect", "1000", "-f", "e4m3", "--saturate")
    assert mode_rows(out)["rne"][0] == "448"
    assert "saturated" in mode_rows(out)["rne"][2]
    _, out, _ = run(capsys, "inspect", "1e-7", "-f", "fp16", "--ftz")
    assert mode_rows(out)["rup"][0] == "0"  # the subnormal 2^-24 is flushed
    assert "flushed" in mode_rows(out)["rup"][2]


def test_headline_mode_and_seed(capsys):
    _, out, _ = run(capsys, "inspect", "0.1", "-f", "fp16", "--mode", "rup")
    assert field(out, "rup result") == "0.10003662109375"
    x = np.float64(0.1)
    want = float(numprec.round(x, "fp16", "sr", seed=5))
    _, out, _ = run(capsys, "inspect", "0.1", "-f", "fp16", "--mode", "sr", "--seed", "5")
    assert float(field(out, "sr result")) == want


@pytest.mark.parametrize("rbits, p", [("1", "0"), ("2", "0.25"), ("62", "0.25")])
def test_sr_probability_with_few_random_bits(capsys, rbits, p):
    # 1 + 2^-12 lies a quarter of the way from 1 to the next fp16 value 1 + 2^-10
    _, out, _ = run(capsys, "inspect", "0x1.001p0", "-f", "fp16", "--rbits", rbits)
    assert f"floor(frac * 2^{rbits}) / 2^{rbits} = {p}, frac" in out
    assert f"sr p={p}" in mode_rows(out)


def test_overflow_neighbour_is_marked_virtual(capsys):
    _, out, _ = run(capsys, "inspect", "464", "-f", "e4m3")
    assert field(out, "neighbours") == ("448 (0x7e)  <  x  <  480 (one step past the largest "
                                        "value: overflows)")
    rows = mode_rows(out)
    assert rows["rne"][0] == "448" and rows["rna"][0] == "nan"


def test_nan_in_a_format_without_nan(capsys):
    code, out, _ = run(capsys, "inspect", "nan", "-f", "fp4_e2m1fn")
    assert code == 0
    assert field(out, "bits") == "none: fp4_e2m1fn has no NaN pattern"


@pytest.mark.parametrize("argv, message", [
    (["inspect", "1", "-f", "fp99"], "unknown format 'fp99'"),
    (["inspect", "abc", "-f", "fp16"], "cannot read value 'abc'"),
    (["inspect", "1", "-f", "fp16", "--mode", "round"], "invalid rounding mode 'round'"),
    (["inspect", "-f", "fp16"], "either a VALUE or --bits"),
    (["inspect", "1", "--bits", "0x1", "-f", "fp16"], "either a VALUE or --bits"),
    (["inspect", "--bits", "0x100", "-f", "e4m3"], "out of range for fp8_e4m3fn"),
    (["inspect", "1", "-f", "fp16", "--rbits", "0"], "--rbits 0 is out of range"),
    (["inspect", "1e999", "-f", "fp16"], "beyond the float64 range"),
    (["inspect", "1"], "the following arguments are required: --format/-f"),
])
def test_errors_are_one_line_with_status_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("numprec: error: ")
    assert message in err
    assert "Traceback" not in err
