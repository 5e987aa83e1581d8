"""The precision advisor on real monitored runs with forced underflow and overflow."""
import json

import pytest

from numprec.advise import Thresholds, advice_lines, advise
from numprec.advise.rules import wider
from numprec.cli import main as numprec_main
from numprec.data import load_digits, split_dataset
from numprec.training import TrainConfig
from numprec.training.loop import TrainingStopped, train


def _run(tmp_path, name, scale, **config):
    data = split_dataset(*load_digits(), seed=0)
    data = dict(data, train_x=data["train_x"] * scale)
    out = tmp_path / name
    try:
        train(TrainConfig(monitor=True, checkpoint_every=1, **config), data, str(out))
    except TrainingStopped:
        pass  # its outputs are written: a stopped run is valid input for the advisor
    return out


@pytest.fixture(scope="module")
def underflow_run(tmp_path_factory):
    """fp16, no loss scale, inputs scaled by 2^-16: the weight gradients fall below fp16's
    smallest subnormal."""
    return _run(tmp_path_factory.mktemp("advise"), "underflow", 2.0 ** -16, policy="fp16",
                loss_scale="none", optimizer="sgd", steps=3, lr=0.1)


@pytest.fixture(scope="module")
def overflow_run(tmp_path_factory):
    """fp16, inputs scaled by 2^13: the first layer's outputs pass fp16's max 65504."""
    return _run(tmp_path_factory.mktemp("advise"), "overflow", 2.0 ** 13, policy="fp16",
                loss_scale="none", optimizer="sgd", steps=3, lr=0.1)


def test_forced_underflow_asks_first_for_a_loss_scale(underflow_run):
    advice = advise(underflow_run)
    first = advice["findings"][0]
    assert first["problem"] == "underflow" and first["kind"] in ("grad", "grad_scaled")
    suggestion = first["suggestions"][0]
    assert suggestion["change"] == "loss_scale" and suggestion["value"] >= 2.0 ** 8
    # the scale lifts the largest gradient seen to just below fp16's max, not past it
    assert 2.0 ** (advice["max_gradient_exponent"] + 1) * suggestion["value"] <= 65504
    assert first["evidence"]["underflow_frac_max"] > 0.01
    on_disk = json.loads((underflow_run / "advice.json").read_text())
    assert on_disk["findings"][0]["suggestions"][0]["change"] == "loss_scale"


def test_forced_overflow_asks_for_a_wider_format_or_a_smaller_scale(overflow_run):
    advice = advise(overflow_run)
    overflows = [f for f in advice["findings"] if f["problem"] in ("overflow", "nonfinite")]
    assert overflows
    first = next(f for f in advice["findings"] if f["problem"] == "overflow")
    change = first["suggestions"][0]
    assert change["change"] in ("wider_pass", "loss_scale")
    if change["change"] == "wider_pass":
        assert change["from_format"] == "fp16" and change["to_format"] in ("bf16", "fp32")


def test_thresholds_decide_what_is_a_finding(underflow_run):
    quiet = advise(underflow_run, Thresholds(underflow=1.0, overflow=1.0, stagnation=1.0,
                                             shadow_error=1e9))
    assert [f for f in quiet["findings"] if f["problem"] != "nonfinite"] == []
    assert advice_lines(quiet)[-1].startswith("nothing crossed")
    with pytest.raises(ValueError, match="threshold underflow"):
        advise(underflow_run, Thresholds(underflow=-1))


def test_the_same_run_gives_the_same_advice(underflow_run):
    assert advise(underflow_run) == advise(underflow_run)


def test_the_command_prints_the_findings_and_refuses_bad_directories(underflow_run, tmp_path,
                                                                      capsys):
    assert numprec_main(["advise", str(underflow_run)]) == 0
    out = capsys.readouterr().out
    assert "finding(s)" in out and "try: a loss scale of 2^" in out
    assert numprec_main(["advise", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("numprec: error:")
    plain = _run(tmp_path, "plain", 1.0, policy="fp32", steps=1, monitor_every=1)
    (plain / "tensors.parquet").unlink()
    assert numprec_main(["advise", str(plain)]) == 0  # any run directory: it says what it can
    assert "was not monitored" in capsys.readouterr().out
    assert json.loads((plain / "advice.json").read_text())["monitored"] is False


def test_wider_formats_climb_the_ladder():
    assert wider("fp8_e4m3fn", "range") == "fp8_e5m2" and wider("fp16", "range") == "bf16"
    assert wider("bf16", "precision") == "fp32" and wider("fp64", "range") is None


def test_the_fp16_preset_failure_is_traced_to_its_optimizer_state(tmp_path):
    """Pure fp16 with Adam stops on an overflow at step 2; the advisor names the underflow of
    Adam's exp_avg_sq a step earlier, and fp32-wide state as its fix."""
    run = _run(tmp_path, "fp16", 1.0, policy="fp16", steps=6)
    advice = advise(run)
    stop = advice["findings"][0]
    assert stop["problem"] == "nonfinite"
    assert stop["suggestions"][0]["change"] == "fix_earlier_finding"
    assert "exp_avg_sq" in stop["suggestions"][0]["text"]
    state = next(f for f in advice["findings"] if f["kind"] == "state")
    assert state["problem"] == "underflow"
    assert state["suggestions"][0] == {"change": "optimizer_state", "value": "bf16",
                                       "text": "optimizer state in bf16 (now fp16)"}
