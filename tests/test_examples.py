"""The examples/ scripts run and show what their docstrings say."""
import importlib.util
from pathlib import Path

import pandas as pd

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_amp_loop_trains(capsys):
    result = _load("amp_training_loop").main(["--steps", "60"])
    assert result["test_accuracy"] > 0.5 and result["loss_scale"] > 1
    assert "test_accuracy" in capsys.readouterr().out


def test_the_monitoring_example_finds_the_fp16_story(tmp_path, capsys):
    monitor = _load("monitoring").main(["--steps", "10", "--out", str(tmp_path)])
    first = monitor.first_nonfinite
    assert first is not None and first["pass"] == "forward" and first["step"] == 1
    table = pd.read_parquet(tmp_path / "tensors.parquet")
    state = table[(table.kind == "state") & (table.stat == "underflow_frac") & (table.step == 0)]
    assert state.value.max() > 0.3  # Adam's second moment underflows in fp16
    assert "first NaN/inf: step 1" in capsys.readouterr().out
