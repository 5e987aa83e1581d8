"""numprec.studies.bench.rounding: a tiny run writes its report, with the CPU model, and measures
the peers that are installed (leaving out, and naming, those that are not)."""
import numpy as np
import pandas as pd

import numprec

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
                                  "numprec out=", "numprec float32", "numprec encode float32",
                                  "numprec 30% subnormal"}
    assert set(frame.format) == {"-", "bf16", "int8"} and (frame.melem_per_s > 0).all()
    # every deterministic mode on N(0,1); on subnormal-heavy data only where there are subnormals
    plain = frame[frame.library == "numprec"]
    assert set(plain[plain.format == "int8"]["mode"]) == set(numprec.MODES)
    heavy = frame[frame.library == "numprec 30% subnormal"]
    assert set(heavy.format) == {"bf16"} and set(heavy["mode"]) == set(numprec.MODES) - {"sr"}
    text = (tmp_path / "bench_rounding.md").read_text()
    assert "peers not installed here, so not measured: gfloat, ml_dtypes, pychop" in text
    assert "| bf16 |" in text and "| int8 |" in text
    assert "## Float32 in, float32 out; and out=" in text
    assert "## Every deterministic mode: N(0,1) and 30% subnormals" in text


def test_subnormal_heavy_data_puts_the_share_in_the_subnormal_range():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(20000)
    for name in ("bf16", "fp8_e4m3fn", "fp4_e2m1fn"):
        fmt = numprec.get_format(name)
        heavy = bench_rounding.subnormal_heavy(x, fmt, np.random.default_rng(1))
        changed = heavy != x
        assert abs(changed.mean() - bench_rounding.SUBNORMAL_SHARE) < 0.02
        assert (np.abs(heavy[changed]) < fmt.min_normal).all()
        assert (heavy[changed] < 0).mean() > 0.45 and (heavy[changed] < 0).mean() < 0.55
        # most of them round to a subnormal of the format, not to zero
        rounded = numprec.round(heavy[changed], name)
        assert (rounded != 0).mean() > 0.8
    assert bench_rounding.subnormal_heavy(x, numprec.get_format("int8"), rng) is None


def test_installed_peers_are_measured(tmp_path):
    peers = bench_rounding.installed_peers()
    bench_rounding.main(ARGS + ["--out", str(tmp_path)])
    frame = pd.read_csv(tmp_path / "bench_rounding.csv")
    libraries = set(frame.library)
    assert ("ml_dtypes" in libraries) == ("ml_dtypes" in peers)
    assert ("gfloat" in libraries) == ("gfloat" in peers)
    assert ("ml_dtypes float32 round trip" in libraries) == ("ml_dtypes" in peers)
    assert ("ml_dtypes from float32" in libraries) == ("ml_dtypes" in peers)
    text = (tmp_path / "bench_rounding.md").read_text()
    assert cpu_model() in text
