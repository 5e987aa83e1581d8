"""The vanishing-gradients study, end to end at its quick size."""
import numpy as np
import pandas as pd
import pytest

from numprec.studies.vanishing_gradients import experiments as ex
from numprec.studies.vanishing_gradients import study


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "study_vanishing_gradients"
    assert study.main(["--out", str(out), "--quick"]) == 0
    return out


def test_writes_the_report_figures_and_data(report_dir):
    assert (report_dir / "report.html").exists()
    last = study.SETTINGS["quick"]["steps"] - 1
    for step in (0, last):
        for suffix in ("png", "svg", "pdf"):
            assert (report_dir / "figures" / f"gradients_by_depth_step{step}.{suffix}").exists()
    text = (report_dir / "report.md").read_text()
    assert "What the measurements show" in text and "--quick" in text


def test_the_tables_hold_what_the_figures_plot(report_dir):
    settings = study.SETTINGS["quick"]
    gradients = pd.read_csv(report_dir / "data" / "gradients.csv")
    assert {"activation", "policy", "step", "depth", "norm", "zero_frac", "underflow_frac",
            "signal_underflow_frac", "grad_output_scale", "loss"} <= set(gradients.columns)
    assert set(gradients["policy"]) == set(settings["policies"])
    assert set(gradients["depth"]) == set(range(1, settings["depth"] + 1))
    assert len(gradients) == (len(settings["policies"]) * len(settings["activations"])
                              * settings["steps"] * settings["depth"])
    plotted = pd.read_csv(report_dir / "data" / "gradients_by_depth_step0.csv")
    assert {"depth", "norm", "zero_frac", "signal_underflow_frac", "norm_vs_fp32"} <= set(
        plotted.columns)


def test_fp32_and_bf16_lose_nothing_to_underflow_and_dead_layers_have_a_cause(report_dir):
    gradients = pd.read_csv(report_dir / "data" / "gradients.csv")
    wide = gradients[gradients["policy"].isin(["fp32", "bf16"])]
    assert (wide["signal_underflow_frac"] == 0).all() and (wide["underflow_frac"] == 0).all()
    assert (wide["norm"] > 0).all()
    # an entirely zero weight gradient: its own signal or a deeper one (towards the output)
    # underflowed
    for (_, policy, step), group in gradients.groupby(["activation", "policy", "step"]):
        dead = group.loc[group["zero_frac"] >= 1, "depth"]
        if len(dead):
            flushed = group.loc[group["signal_underflow_frac"] > 0, "depth"]
            assert len(flushed) and flushed.max() >= dead.max(), (policy, step)
    fp8 = gradients[gradients["policy"] == "fp8-hybrid"]
    assert (fp8["grad_output_scale"] > 0).all()
    assert np.isnan(gradients.loc[gradients["policy"] == "fp16", "grad_output_scale"]).all()


def test_the_same_seed_gives_the_same_gradients():
    a = ex.gradient_cell(("tanh", "fp16"), 4, 16, 2, 0.1, 16, 3)
    b = ex.gradient_cell(("tanh", "fp16"), 4, 16, 2, 0.1, 16, 3)
    pd.testing.assert_frame_equal(a, b)


def test_a_deep_sigmoid_net_in_fp16_loses_its_first_layers():
    """At initialisation the 12-layer sigmoid net's fp32 gradient shrinks by about 7x per layer
    towards the input, below fp16's smallest subnormal (2^-24) well before layer 1."""
    cell = ex.gradient_cell(("sigmoid", "fp16"), 12, 64, 1, 0.1, 32, 0)
    reference = ex.gradient_cell(("sigmoid", "fp32"), 12, 64, 1, 0.1, 32, 0)
    assert (cell.loc[cell["depth"] == 1, "zero_frac"] == 1).all()
    assert (reference["norm"] > 0).all()
    rates = ex.decay_rates(ex.by_depth(pd.concat([cell, reference]), 0))
    fp32 = rates[rates["policy"] == "fp32"].iloc[0]
    assert 4 < fp32["growth_per_layer"] < 10 and fp32["layers_all_zero"] == 0
