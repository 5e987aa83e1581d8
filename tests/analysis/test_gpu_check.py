"""analysis/gpu_check.py runs end to end, as its documented single command, under the CUDA
simulator with its quick sizes, and writes a complete report."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_runs_under_the_simulator(tmp_path):
    out = tmp_path / "gpu"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=str(ROOT))
    env.pop("NUMPREC_BACKEND", None)
    child = subprocess.run([sys.executable, "analysis/gpu_check.py", "--out", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-4000:]
    assert sorted(p.name for p in out.iterdir()) == ["parity.csv", "results.json", "summary.md",
                                                      "throughput.csv"]
    parity = pd.read_csv(out / "parity.csv")
    assert set(parity.kernel) == {"round", "encode", "decode", "add", "sub", "mul", "div",
                                  "sqrt", "fma", "matmul", "reduce", "quantize", "mx_encode",
                                  "int_matmul"}
    assert (parity.mismatches == 0).all() and (parity.flags_cpu == parity.flags_gpu).all()
    throughput = pd.read_csv(out / "throughput.csv")
    assert {"d2d copy", "round kernel", "numprec.round host->host", "matmul sequential",
            "matmul blocked", "matmul fused", "quantize kernel", "mx_encode kernel",
            "int_matmul kernel"} <= set(throughput.kind)
    quant = throughput[throughput.kind.isin(["quantize kernel", "mx_encode kernel",
                                             "int_matmul kernel"])]
    assert "error" not in quant.columns or quant.error.isna().all()
    assert (quant.seconds > 0).all()
    results = json.loads((out / "results.json").read_text())
    assert results["info"]["simulator"] is True and results["info"]["quick"] is True
    summary = (out / "summary.md").read_text()
    assert "bit-identical to the CPU kernels" in summary and "simulator" in summary
