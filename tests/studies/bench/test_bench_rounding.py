"""numprec.studies.bench.rounding: a tiny run writes its report, with the CPU model, and measures
the peers that are installed (leaving out, and naming, those that are not)."""
import pandas as pd

from numprec.studies.bench import rounding as bench_rounding
from numprec.studies.bench.common import cpu_model

ARGS = ["--n", "3000", "--peer-n", "500", "--repeat", "1", "--formats", "bf16", "int8",
        "--no-latency"]


def test_tiny_run_without_peers_names_them(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_rounding, "installed_peers", lambda: set())
    bench_rounding.main(ARGS + ["--out", str(tmp_path)])
    frame = pd.read_csv(tmp_path / "bench_rounding.csv")
    assert set(frame.library) == {"memcpy (x.copy)", "memcpy (np.copyto)",
                                  "memcpy float32 (x32.copy)", "numprec", "numprec encode",
                                  "numprec out=", "numprec float32"}
    assert set(frame.format) == {"-", "bf16", "int8"} and (frame.melem_per_s > 0).all()
    text = (tmp_path / "bench_rounding.md").read_text()
    assert "peers not installed here, so not measured: gfloat, ml_dtypes, pychop" in text
    assert "| bf16 |" in text and "| int8 |" in text
    assert "## Float32 in, float32 out; and out=" in text


def test_installed_peers_are_measured(tmp_path):
    peers = bench_rounding.installed_peers()
    bench_rounding.main(ARGS + ["--out", str(tmp_path)])
    frame = pd.read_csv(tmp_path / "bench_rounding.csv")
    libraries = set(frame.library)
    assert ("ml_dtypes" in libraries) == ("ml_dtypes" in peers)
    assert ("gfloat" in libraries) == ("gfloat" in peers)
    assert ("ml_dtypes float32 round trip" in libraries) == ("ml_dtypes" in peers)
    text = (tmp_path / "bench_rounding.md").read_text()
    assert cpu_model() in text
