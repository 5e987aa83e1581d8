"""The demo rounding study, run once at reduced size (--quick)."""
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import numprec
from numprec.report.files import atomic_folder, markdown_table
from numprec.studies.rounding import experiments as ex
from numprec.studies.rounding import study as study_rounding


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "study_rounding"
    code = study_rounding.main(["--out", str(out), "--quick", "--seed", "0"])
    assert code == 0
    return out


def test_writes_report_figures_and_data(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    assert "report.md" in names
    assert set(study_rounding.FIGURES.values()) <= names
    assert {"error_vs_magnitude.csv", "format_summary.csv", "stagnation_traces.csv",
            "stagnation_points.csv", "stagnation_by_increment.csv", "bias_by_mode.csv",
            "sr_bias_by_bits.csv"} <= names
    assert not [n for n in names if n.startswith(".")]


def test_report_embeds_every_figure_and_lists_every_csv(report_dir):
    text = (report_dir / "report.md").read_text()
    embedded = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
    assert embedded == set(study_rounding.FIGURES.values())
    for csv in report_dir.glob("*.csv"):
        assert f"`{csv.name}`" in text
    assert "--quick" in text and "seed 0" in text


def test_figures_are_150_dpi_pngs(report_dir):
    for name in study_rounding.FIGURES.values():
        with Image.open(report_dir / name) as image:
            assert image.format == "PNG"
            assert image.info["dpi"] == pytest.approx((150, 150), abs=0.05)
            assert min(image.size) > 300


def test_stagnation_points_are_the_known_ones(report_dir):
    points = pd.read_csv(report_dir / "stagnation_points.csv")
    rne = points[points["mode"] == "rne"].set_index("format")["stagnates_at"]
    # Adding 1 under round-to-nearest-even stops at 2^p (REFERENCE.md).
    assert rne.to_dict() == {"fp16": 2048, "bf16": 256, "fp8_e4m3fn": 16, "fp8_e5m2": 8}
    rna = points[points["mode"] == "rna"].set_index("format")["stagnates_at"]
    assert rna.to_dict() == {"fp16": 4096, "bf16": 512, "fp8_e4m3fn": 32, "fp8_e5m2": 16}
    sr = points[points["mode"] == "sr (mean)"]
    assert (sr["rel_error"] < 0.1).all()  # unbiased: the mean follows the exact sum


def test_normal_range_error_is_bounded_by_u(report_dir):
    summary = pd.read_csv(report_dir / "format_summary.csv")
    assert summary["bound_holds"].all()
    assert (summary["max_rel_error_normal"] <= summary["u"]).all()
    fp16 = summary.set_index("format").loc["fp16"]
    assert fp16["decades_normal_range"] == pytest.approx(np.log10(65504 / 2.0 ** -14))


def test_error_table_shows_cliff_and_overflow(report_dir):
    errors = pd.read_csv(report_dir / "error_vs_magnitude.csv")
    fp16 = errors[errors["format"] == "fp16"].set_index("exponent")
    assert fp16.loc[-12, "frac_zero"] == 1.0          # far below 2^-24: everything flushes
    assert fp16.loc[0, "median_rel_error"] < 2.0 ** -11
    assert fp16.loc[8, "frac_nonfinite"] > 0.99       # far above 65504: overflow to inf
    assert (fp16["frac_nonfinite"] <= fp16["frac_above_max"]).all()
    fp4 = errors[errors["format"] == "fp4_e2m1fn"].set_index("exponent")
    assert (fp4["frac_nonfinite"] == 0).all()         # no inf/NaN: saturates instead
    assert fp4.loc[8, "median_rel_error"] == pytest.approx(1.0, abs=1e-6)


def test_bias_of_the_modes(report_dir):
    bias = pd.read_csv(report_dir / "bias_by_mode.csv").set_index(["format", "data", "mode"])
    for fmt in ex.BIAS_FORMATS:
        assert bias.loc[(fmt, "ties", "rna"), "mean_error_ulp"] == 0.5
        assert bias.loc[(fmt, "ties", "rtz"), "mean_error_ulp"] == -0.5
        for mode in ("rne", "sr"):
            row = bias.loc[(fmt, "uniform", mode)]
            assert abs(row["mean_error_ulp"]) < 6 * row["std_error_of_mean"] + 1e-12


def test_sr_bias_follows_the_random_bit_count(report_dir):
    bits = pd.read_csv(report_dir / "sr_bias_by_bits.csv").set_index("rbits")
    for k in (1, 2, 3):
        row = bits.loc[k]
        assert abs(row["mean_error_ulp"] - row["predicted_ulp"]) < 6 * row["std_error_of_mean"]


def test_same_seed_same_numbers_other_seed_other_numbers():
    first = ex.bias_by_mode(seed=4, samples=3000)
    pd.testing.assert_frame_equal(first, ex.bias_by_mode(seed=4, samples=3000))
    assert not first.equals(ex.bias_by_mode(seed=5, samples=3000))


def test_rerun_replaces_the_folder_whole(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    with atomic_folder(out) as work:
        (work / "new.txt").write_text("new")
        assert not (out / "new.txt").exists()  # nothing shows until the swap
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no temporary folders left


def test_failed_run_leaves_the_old_report(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "report.md").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_folder(out) as work:
            (work / "report.md").write_text("half")
            raise RuntimeError("boom")
    assert (out / "report.md").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_markdown_table():
    frame = pd.DataFrame({"name": ["a", "b"], "x": [1.0, 0.000123456], "ok": [True, False],
                          "v": [float("nan"), float("inf")]})
    assert markdown_table(frame).splitlines() == [
        "| name | x | ok | v |", "|---|---|---|---|",
        "| a | 1 | yes | nan |", "| b | 0.0001235 | no | inf |"]


def test_bad_seed_is_refused(tmp_path):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        study_rounding.run_study(tmp_path / "x", quick=True, seed=-1)
    assert numprec.get_format("fp16")  # the failure touched nothing else
    assert not (tmp_path / "x").exists()
