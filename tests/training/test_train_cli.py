"""`numprec train`: accuracy per policy, outputs, reproducibility, and stopping on bad numbers."""
import json

import numpy as np
import pandas as pd
import pytest

from numprec.cli import main
from numprec.data import load_digits, split_dataset
from numprec.training import TrainConfig, TrainingStopped, load_checkpoint, train


def run_cli(tmp_path, policy, *extra, name="run", steps=400):
    out = tmp_path / name
    code = main(["train", "--model", "mlp", "--data", "digits", "--policy", policy, "--steps",
                 str(steps), "--seed", "3", "--out", str(out), "--no-progress", *extra])
    return code, out


@pytest.mark.parametrize("policy", ["fp32", "fp16-amp", "bf16-amp"])
def test_mlp_reaches_90_percent_on_digits(tmp_path, policy):
    code, out = run_cli(tmp_path, policy)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in ("policy", "steps", "final_loss", "test_accuracy", "skipped_steps",
                "final_loss_scale"):
        assert key in summary
    assert summary["policy"] == policy and summary["steps"] == 400 and summary["status"] == "ok"
    assert summary["test_accuracy"] >= 0.9
    assert summary["final_loss_scale"] == (65536.0 if policy == "fp16-amp" else 1.0)
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert list(metrics.columns) == ["step", "name", "value"]
    losses = metrics[metrics.name == "loss"]
    assert list(losses.step) == list(range(1, 401))
    assert losses.value.iloc[-1] == summary["final_loss"]
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_same_seed_and_policy_give_bit_identical_results(tmp_path):
    policy = tmp_path / "sr.json"
    policy.write_text(json.dumps({"base": "bf16-amp", "mode": "sr", "seed": 9}))
    first = run_cli(tmp_path, str(policy), name="a", steps=120)[1]
    second = run_cli(tmp_path, str(policy), name="b", steps=120)[1]
    assert (first / "summary.json").read_text() == (second / "summary.json").read_text()
    pd.testing.assert_frame_equal(pd.read_parquet(first / "metrics.parquet"),
                                  pd.read_parquet(second / "metrics.parquet"))
    for (name, a), (_, b) in zip(load_checkpoint(first / "checkpoint.npz")[0].items(),
                                 load_checkpoint(second / "checkpoint.npz")[0].items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    reseeded = tmp_path / "reseeded"
    main(["train", "--policy", str(policy), "--steps", "120", "--seed", "4", "--out",
          str(reseeded), "--no-progress"])
    assert (reseeded / "summary.json").read_text() != (first / "summary.json").read_text()


def test_nan_in_training_inputs_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    images, labels = load_digits()
    images[[10, 700]] = np.nan
    data_file = tmp_path / "bad.npz"
    np.savez(data_file, images=images / 16.0, labels=labels)
    out = tmp_path / "stopped"
    code = main(["train", "--data", str(data_file), "--steps", "200", "--checkpoint-every", "2",
                 "--out", str(out), "--no-progress"])
    assert code == 1
    message = capsys.readouterr().err
    assert "NaN/inf in the training inputs at step" in message and "checkpoint.npz" in message
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "stopped" and "NaN" in summary["message"]
    state, step = load_checkpoint(out / "checkpoint.npz")
    assert step == summary["steps"] - summary["steps"] % 2 and step >= 2
    assert all(np.all(np.isfinite(values)) for values in state.values())


def test_a_diverging_policy_stops_with_a_clear_message():
    data = split_dataset(*load_digits())
    with pytest.raises(TrainingStopped, match="the loss became nan at step"):
        train(TrainConfig(policy="fp16", steps=50), data)  # pure fp16 Adam: v underflows


def test_static_loss_scale_from_a_policy_file(tmp_path):
    policy = tmp_path / "static.toml"
    policy.write_text('base = "fp16-amp"\nloss_scale = 1024\n')
    code, out = run_cli(tmp_path, str(policy))
    summary = json.loads((out / "summary.json").read_text())
    assert code == 0 and summary["final_loss_scale"] == 1024.0 and summary["test_accuracy"] >= 0.9


@pytest.mark.parametrize("args, message", [
    (["--policy", "fp12"], "unknown policy 'fp12'"),
    (["--steps", "0"], "steps must be a positive int"),
    (["--data", "mnist"], "unknown data 'mnist'"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, args, message):
    assert main(["train", "--out", str(tmp_path / "x"), "--no-progress", *args]) == 2
    assert message in capsys.readouterr().err
