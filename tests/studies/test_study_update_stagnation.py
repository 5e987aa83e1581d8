"""The update-stagnation study, end to end at its quick size."""
import numpy as np
import pandas as pd
import pytest

from numprec.studies.update_stagnation import experiments as ex
from numprec.studies.update_stagnation import study


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "study_update_stagnation"
    assert study.main(["--out", str(out), "--quick"]) == 0
    return out


def test_writes_the_report_figures_and_data(report_dir):
    assert (report_dir / "report.html").exists()
    for stem in ("stagnation_over_steps", "loss_curves"):
        assert (report_dir / "figures" / f"{stem}.png").exists()
        assert (report_dir / "data" / f"{stem}.csv").exists()


def test_the_tables_hold_what_the_figures_plot(report_dir):
    settings = study.SETTINGS["quick"]
    stagnation = pd.read_csv(report_dir / "data" / "stagnation_over_steps.csv")
    assert {"config", "step", "stagnation_frac"} <= set(stagnation)
    assert set(stagnation["config"]) == {ex.label(*c) for c in study.CONFIGS}
    assert set(stagnation["step"]) == set(range(0, settings["steps"], settings["every"]))
    params = pd.read_csv(report_dir / "data" / "parameters.csv")
    assert set(params["parameter"]) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    assert ((params["stagnation_frac"] >= 0) & (params["stagnation_frac"] <= 1)).all()


def test_stagnation_is_what_storage_does_to_the_update():
    """bf16 storage with round-to-nearest loses most small SGD updates; fp32 master weights
    keep them; the size-weighted fraction is the mean of the parameters' fractions."""
    frames = {}
    for cell in (("bf16", "rne", False), ("bf16", "rne", True)):
        runs, params = ex.training_cell(cell, 3, 1, 0.01, 32, 0)
        frames[cell] = ex.stagnation_by_step(params)
        step0 = params[params["step"] == 0]
        expected = np.average(step0["stagnation_frac"], weights=step0["size"])
        assert frames[cell].loc[frames[cell]["step"] == 0, "stagnation_frac"].iloc[0] == \
            pytest.approx(expected)
    assert frames[("bf16", "rne", False)]["stagnation_frac"].min() > 0.3
    assert frames[("bf16", "rne", True)]["stagnation_frac"].max() < 0.01


def test_policies_store_and_round_as_labelled():
    policy = ex.policy_for("fp16", "sr", True)
    assert policy.master == "fp32" and policy.update_mode == "sr"
    assert ex.policy_for("bf16", "rne", False).master == "bf16"
    assert ex.label("fp16", "sr", True) == "fp16 sr + fp32 master"
