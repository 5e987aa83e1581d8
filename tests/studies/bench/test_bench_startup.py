"""numprec.studies.bench.startup: a tiny run writes both report files with every case and the
target verdicts (times are measured, never asserted)."""
import pandas as pd

from numprec.studies.bench import startup as bench_startup


def test_smoke_run_writes_csv_and_markdown(tmp_path):
    assert bench_startup.main(["--repeat", "1", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "bench_startup.csv")
    for case in bench_startup.TARGETS:
        assert case in set(frame.case)
    assert (frame.median_s > 0).all() and (frame.runs >= 1).all()
    # the import itself must not load numba (that is what lets formats and --help answer at once)
    assert frame.set_index("case").loc["import numprec", "note"] == "numba not loaded"
    text = (tmp_path / "bench_startup.md").read_text()
    assert "## Targets" in text and "numba's floor" in text
