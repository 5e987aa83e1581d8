"""The loss-scaling study, end to end at its quick size."""
import pandas as pd
import pytest

from numprec.amp import GradScaler, StaticLossScaler
from numprec.studies.loss_scaling import experiments as ex
from numprec.studies.loss_scaling import study


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "study_loss_scaling"
    assert study.main(["--out", str(out), "--quick"]) == 0
    return out


def test_writes_the_report_figures_and_data(report_dir):
    assert (report_dir / "report.html").exists()
    for stem in ("underflow_by_depth", "loss_curves", "dynamic_scale"):
        for suffix in ("png", "svg", "pdf"):
            assert (report_dir / "figures" / f"{stem}.{suffix}").exists()


def test_the_tables_hold_what_the_figures_plot(report_dir):
    settings = study.SETTINGS["quick"]
    runs = pd.read_csv(report_dir / "data" / "runs.csv")
    assert {"setting", "step", "loss", "loss_scale", "skipped", "test_accuracy"} <= set(runs)
    assert set(runs["setting"]) == {"fp32", *ex.SCALES}
    assert len(runs) == settings["steps"] * (len(ex.SCALES) + 1)
    layers = pd.read_csv(report_dir / "data" / "layers.csv")
    assert {"setting", "step", "depth", "weight_zero_frac", "signal_underflow_frac"} <= set(layers)
    assert set(layers["step"]) == set(range(0, settings["steps"], settings["every"]))
    summary = pd.read_csv(report_dir / "data" / "summary.csv")
    assert {"setting", "final_loss", "test_accuracy", "skipped_steps", "dead_layers_max",
            "plateau_exit_step"} <= set(summary)


def test_scales_are_what_they_say(report_dir):
    runs = pd.read_csv(report_dir / "data" / "runs.csv")
    for setting in ex.SCALES[:-1]:
        expected = 1.0 if setting == "1" else 2.0 ** int(setting.split("^")[1])
        assert (runs.loc[runs["setting"] == setting, "loss_scale"] == expected).all()
    assert runs.loc[runs["setting"] == "dynamic", "loss_scale"].iloc[0] == 2.0 ** 16
    assert isinstance(ex.make_scaler("dynamic"), GradScaler)
    assert isinstance(ex.make_scaler("2^7"), StaticLossScaler) and ex.make_scaler("none") is None


def test_without_a_scale_fp16_loses_gradients_that_a_scale_keeps():
    """The study's premise, measured: unscaled fp16-amp flushes whole layers' gradients of the
    deep sigmoid net, fp32 and a 2^10 scale do not."""
    rows = {}
    for cell in (("fp32", "1"), ("fp16-amp", "1"), ("fp16-amp", "2^10")):
        runs, layers = ex.training_cell(cell, 8, 64, 2, 1, 3e-3, 32, 0)
        rows[cell] = ex.summary(runs, layers, 1).iloc[0]
    assert rows[("fp16-amp", "1")]["dead_layers_max"] >= 1
    assert rows[("fp16-amp", "1")]["worst_signal_underflow"] > 0.5
    assert rows[("fp32", "1")]["dead_layers_max"] == 0
    assert rows[("fp16-amp", "2^10")]["dead_layers_max"] == 0
