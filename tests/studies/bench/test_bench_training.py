"""numprec.studies.bench.training: a one-step smoke run writes both report files."""
import pandas as pd

from numprec.studies.bench import training as bench_training


def test_smoke_run_writes_csv_and_markdown(tmp_path):
    assert bench_training.main(["--steps", "2", "--warmup", "1", "--rounds", "2",
                                "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "bench_training.csv")
    presets = {"fp64", "fp32", "fp16", "fp16-amp", "bf16-amp", "fp8-hybrid"}
    for model in ("mlp", "cnn"):
        rows = frame[frame.model == model]
        assert presets <= set(rows.policy)
        assert rows.loc[rows.policy == "fp32", "vs_fp32"].iloc[0] == 1.0
        assert (rows.median_ms > 0).all()
        assert (rows.steps == 4).all()  # two rounds of two timed steps, pooled
    text = (tmp_path / "bench_training.md").read_text()
    assert "| mlp | fp16-amp |" in text
    for case in ("fp32, mlp", "fp32, cnn", "fp16-amp, mlp", "fp16-amp, cnn"):
        assert f"- {case}: " in text
    if "pytorch-fp32" not in set(frame.policy):
        assert "PyTorch is not installed" in text and "not measured (no PyTorch)" in text
    else:
        assert "(target <= 2x): " in text and "(target <= 3x): " in text
