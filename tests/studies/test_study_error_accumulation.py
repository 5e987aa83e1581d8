"""The error-accumulation study, end to end at its quick size, and its measurements against
facts known independently of numprec."""
import io
import math
import re

import numpy as np
import pandas as pd
import pytest

import numprec
from numprec.studies.error_accumulation import experiments as ex
from numprec.studies.error_accumulation import study


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "study_error_accumulation"
    assert study.main(["--out", str(out), "--quick"]) == 0
    return out


def test_writes_the_report_its_figures_and_data(report_dir):
    assert (report_dir / "report.html").exists() and (report_dir / "report.md").exists()
    for op in ("sum", "dot", "matmul"):
        for suffix in ("png", "svg", "pdf"):
            assert (report_dir / "figures" / f"{op}_uniform_error_vs_n.{suffix}").exists()
    assert (report_dir / "figures" / "harmonic_series.png").exists()
    text = (report_dir / "report.md").read_text()
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (report_dir / figure).exists()
    assert not list(report_dir.parent.glob(".study_error_accumulation*"))  # cache cleared


def test_the_tables_hold_what_the_figures_plot(report_dir):
    errors = pd.read_csv(report_dir / "data" / "errors.csv")
    assert {"op", "data", "n", "trial", "format", "order", "mode", "rel_error", "scaled_error",
            "gamma_n", "prob_bound", "u"} <= set(errors.columns)
    settings = study.SETTINGS["quick"]
    assert set(errors["n"]) == {2 ** k for k in settings["log2_n"]}
    assert set(errors["order"]) == set(settings["orders"])
    plotted = pd.read_csv(report_dir / "data" / "sum_uniform_error_vs_n.csv")
    assert {"format", "mode", "order", "n", "scaled_error", "gamma_n", "prob_bound"} <= set(
        plotted.columns)
    partials = pd.read_csv(report_dir / "data" / "harmonic_series.csv")
    assert {"n", "mean", "format", "order", "mode"} <= set(partials.columns)


def test_no_measured_error_exceeds_the_deterministic_bound(report_dir):
    errors = pd.read_csv(report_dir / "data" / "errors.csv")
    bounded = errors[np.isfinite(errors["gamma_n"])]
    assert len(bounded) > 0
    assert (bounded["scaled_error"] <= bounded["gamma_n"]).all()
    # the exact sum rounded once is within u of the exact sum
    once = errors[(errors["order"] == "fp64") & (errors["mode"] == "rne")]
    assert (once["rel_error"] <= once["u"]).all()


def test_the_reference_is_the_exact_sum():
    """Cell errors against an independent exact computation with fractions."""
    from fractions import Fraction
    frame = ex.accumulation_cell(("dot", "uniform", 64, 0), ("bf16",), ("sequential",), ("rne",),
                                 2)
    rng = np.random.default_rng(ex.cell_seed("data", "dot", "uniform", 64, 0, "bf16"))
    a = numprec.round(rng.random(64) * ex.OPERAND_SCALE, "bf16")
    b = numprec.round(rng.random(64) * ex.OPERAND_SCALE, "bf16")
    exact = sum(Fraction(x) * Fraction(y) for x, y in zip(a, b))
    computed = Fraction(float(numprec.dot(a, b, "bf16")))
    assert frame["rel_error"].iloc[0] == pytest.approx(float(abs(computed - exact) / exact),
                                                        rel=1e-12)


def test_harmonic_stagnation_points_are_the_known_ones():
    """The recursive fp16 harmonic sum stops at 7.0859375 and the bf16 one at 5.0625 (values
    published for IEEE half and bfloat16; the sum stops growing once 1/k is at most half an
    ulp of it)."""
    fp16 = ex.stagnation_point("fp16", 4096)
    assert fp16["stalled_sum"] == 7.0859375 and fp16["stalls_at_n"] == 512
    assert fp16["next_term"] <= fp16["ulp_of_sum"] / 2
    bf16 = ex.stagnation_point("bf16", 1024)
    assert bf16["stalled_sum"] == 5.0625 and bf16["stalls_at_n"] == 64


def test_growth_rates_fit_a_power_law():
    n = 2 ** np.arange(4, 16)
    rows = [dict(op="sum", data="uniform", format="fp32", order=o, mode="rne", n=int(k),
                 trial=0, scaled_error=c * float(k) ** a, prob_bound=1.0)
            for o, c, a in (("sequential", 1e-8, 1.0), ("pairwise", 1e-8, 0.5)) for k in n]
    growth = ex.growth_rates(pd.DataFrame(rows))
    rates = dict(zip(growth["order"], growth["growth_exponent"]))
    assert rates["sequential"] == pytest.approx(1.0) and rates["pairwise"] == pytest.approx(0.5)


def test_an_interrupted_study_resumes_its_finished_cells(tmp_path):
    from numprec.studies.cells import cache_folder, run_cells
    calls = []

    def compute(cell):
        calls.append(cell)
        if cell == 3 and len(calls) == 3:
            raise KeyboardInterrupt  # stopped during the third cell
        return pd.DataFrame({"cell": [cell]})

    out = tmp_path / "study"
    with pytest.raises(KeyboardInterrupt):
        run_cells([1, 2, 3, 4], compute, out, "sig", "test", io.StringIO())
    assert len(list(cache_folder(out).glob("*.pkl"))) == 2
    frames = run_cells([1, 2, 3, 4], compute, out, "sig", "test", io.StringIO())
    assert calls == [1, 2, 3, 3, 4]  # 1 and 2 came from disk
    assert [int(f["cell"].iloc[0]) for f in frames] == [1, 2, 3, 4]
    run_cells([1], compute, out, "other settings", "test", io.StringIO())
    assert calls[-1] == 1  # other settings: computed again


def test_progress_on_a_log_is_a_line_at_the_start_and_per_tenth():
    from numprec.studies.cells import Progress
    stream = io.StringIO()
    progress = Progress(100, "work", stream)
    for _ in range(100):
        progress.advance()
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1].startswith("work [") and "100/100" in lines[-1]


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="quick or --full"):
        study.run_study(tmp_path / "x", quick=True, full=True)
    with pytest.raises(ValueError, match="seed"):
        study.run_study(tmp_path / "x", seed=-1)
    with pytest.raises(ValueError, match="unknown data"):
        ex._data("cauchy", np.random.default_rng(0), 3, 1.0)
    assert math.isinf(ex.gamma(2 ** 11, 2.0 ** -11))
