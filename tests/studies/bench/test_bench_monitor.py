"""numprec.studies.bench.monitor: a tiny run writes both report files with every case."""
import pandas as pd

from numprec.studies.bench import monitor as bench_monitor


def test_smoke_run_writes_csv_and_markdown(tmp_path):
    assert bench_monitor.main(["--steps", "2", "--rounds", "1", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "bench_monitor.csv")
    assert set(frame.case) == set(bench_monitor.CASES)
    assert set(frame.model) == {"mlp", "cnn"} and set(frame.policy) == {"fp16-amp", "fp32"}
    plain = frame[frame.case == "unmonitored"]
    assert (plain.vs_unmonitored == 1.0).all() and (plain.paired_ratio == 1.0).all()
    assert (frame.median_ms > 0).all() and (frame.paired_ratio > 0).all()
    text = (tmp_path / "bench_monitor.md").read_text()
    assert "Target: default monitoring" in text and "| cnn | fp16-amp | monitored |" in text
