"""Dynamic precision adjustment: switches when the rates cross the thresholds, logged,
reproducible and resumable."""
import pandas as pd
import pytest

from numprec.data import load_digits, split_dataset
from numprec.training import TrainConfig
from numprec.training.adjust import SWITCH_COLUMNS, AdjustSettings
from numprec.training.loop import train


def _data():
    data = split_dataset(*load_digits(), seed=0)
    return dict(data, train_x=data["train_x"] * 2.0 ** -16)  # tiny gradients


def _adjusted(out, policy="fp16-amp", steps=12, **extra):
    config = TrainConfig(policy=policy, loss_scale="none", optimizer="sgd", lr=0.1, steps=steps,
                         adjust_precision=True, adjust_patience=3, checkpoint_every=4, **extra)
    summary = train(config, _data(), str(out))
    return summary, pd.read_parquet(out / "precision_switches.parquet")


def test_a_layer_is_promoted_when_its_gradients_underflow_and_demoted_once_safe(tmp_path):
    summary, switches = _adjusted(tmp_path / "run")
    assert list(switches.columns) == SWITCH_COLUMNS
    first = switches.iloc[0]
    assert (first["step"], first["layer"], first["pass"], first["from"], first["to"]) == \
        (1, "fc1", "backward", "fp16", "bf16")
    assert "underflow_frac" in first["reason"] and "> 0.01" in first["reason"]
    demoted = switches[switches["reason"].str.startswith("safe for 3")]
    assert len(demoted) and (demoted["from"] == "bf16").all() and (demoted["to"] == "fp16").all()
    assert summary["precision_switches"] == len(switches)
    assert summary["mean_bits_fp32"] == 32.0 and 16 <= summary["mean_bits"] <= 32


def test_the_same_seed_gives_the_same_switches(tmp_path):
    _, a = _adjusted(tmp_path / "a")
    _, b = _adjusted(tmp_path / "b")
    pd.testing.assert_frame_equal(a, b)


def test_a_promotion_that_does_not_help_is_taken_back(tmp_path):
    """Pure fp16 stores the gradients in the parameters' fp16: widening the backward matmul
    cannot keep them, so the adjuster takes the promotion back and leaves the pass alone."""
    _, switches = _adjusted(tmp_path / "fp16", policy="fp16", steps=8)
    assert len(switches) == 2
    assert switches.iloc[1]["to"] == "fp16" and "not where it is lost" in switches.iloc[1]["reason"]


def test_a_resumed_run_switches_as_an_uninterrupted_one(tmp_path):
    _, whole = _adjusted(tmp_path / "whole", steps=12)
    _adjusted(tmp_path / "part", steps=8)
    config = TrainConfig(policy="fp16-amp", loss_scale="none", optimizer="sgd", lr=0.1, steps=12,
                         adjust_precision=True, adjust_patience=3, checkpoint_every=4)
    train(config, _data(), str(tmp_path / "part"), resume=True)
    resumed = pd.read_parquet(tmp_path / "part" / "precision_switches.parquet")
    pd.testing.assert_frame_equal(whole, resumed)


def test_the_report_shows_the_switches(tmp_path):
    from numprec.report.run_report import write_run_report
    _adjusted(tmp_path / "run", steps=8)
    report = write_run_report([tmp_path / "run"], tmp_path / "report")
    assert (tmp_path / "report" / "figures" / "precision_switches.png").exists()
    assert "bits per stored value" in report.read_text()


def test_bad_settings_name_the_problem():
    with pytest.raises(ValueError, match="adjust-patience"):
        AdjustSettings(patience=0).check()
    with pytest.raises(ValueError, match="adjust-underflow"):
        TrainConfig(adjust_underflow=2.0).check()


def test_shadow_error_promotes_in_precision_and_the_start_cost_is_the_real_one(tmp_path):
    """With a float64 shadow, a matmul whose relative error passes the threshold goes one format
    wider in precision (fp16 -> fp32); the mean bits under the starting policy equal those of a
    run that never switched."""
    base = dict(policy="fp16-amp", steps=8, shadow="re-anchored", adjust_precision=True,
                adjust_patience=3)
    data = split_dataset(*load_digits(), seed=0)
    switched = train(TrainConfig(adjust_shadow_error=1e-4, **base), data, str(tmp_path / "a"))
    log = pd.read_parquet(tmp_path / "a" / "precision_switches.parquet")
    first = log.iloc[0]
    assert "shadow rel_error" in first["reason"] and (first["from"], first["to"]) == ("fp16",
                                                                                      "fp32")
    still = train(TrainConfig(adjust_shadow_error=1.0, **base), data, str(tmp_path / "b"))
    assert still["precision_switches"] == 0
    assert switched["mean_bits_start"] == pytest.approx(still["mean_bits"], rel=1e-12)
    assert switched["mean_bits"] > switched["mean_bits_start"]  # fp32 outputs cost bits
