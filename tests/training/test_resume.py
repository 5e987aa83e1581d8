"""A run killed with SIGKILL and resumed from its last checkpoint ends bit-identical to one
never interrupted: parameters, optimizer and scaler state, every random stream, the batch
position, the metrics, the monitor tables and the float64 twin of the free shadow."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from numprec.training import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--policy", "fp16-amp", "--steps", "240", "--checkpoint-every", "40", "--monitor",
        "--shadow", "free", "--no-progress", "--lr", "3e-3"]


def _env():
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


def _train(*args, check=True):
    done = subprocess.run([sys.executable, "-m", "numprec", "train", *args], cwd=REPO,
                          env=_env(), capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _killed_mid_run(out: Path) -> int:
    """Start a run, SIGKILL it right after its first checkpoint; the step it had reached."""
    process = subprocess.Popen([sys.executable, "-m", "numprec", "train", *ARGS, "--out",
                                str(out)], cwd=REPO, env=_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while not (out / "resume.pkl").exists():
            assert process.poll() is None, "the run ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return load_checkpoint(out / "checkpoint.npz")[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    whole = root / "whole"
    _train(*ARGS, "--out", str(whole))
    killed = root / "killed"
    reached = _killed_mid_run(killed)
    assert not (killed / "summary.json").exists()  # it really was interrupted
    assert json.loads((killed / "run.json").read_text())["status"] == "running"
    _train("--resume", str(killed))
    return whole, killed, reached


def test_the_resumed_run_is_bit_identical(runs):
    whole, killed, reached = runs
    assert 40 <= reached < 240
    a, b = load_checkpoint(whole / "checkpoint.npz"), load_checkpoint(killed / "checkpoint.npz")
    assert a[1] == b[1] == 240
    for name in a[0]:
        np.testing.assert_array_equal(a[0][name], b[0][name])
    for table in ("metrics.parquet", "tensors.parquet", "exponents.parquet", "shadow.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(whole / table),
                                      pd.read_parquet(killed / table))
    one, two = (json.loads((d / "summary.json").read_text()) for d in (whole, killed))
    assert one == two


def test_the_manifest_records_the_resume(runs):
    _, killed, reached = runs
    manifest = json.loads((killed / "run.json").read_text())
    assert manifest["status"] == "ok"
    assert [r["from_step"] for r in manifest["resumed"]] == [reached]


def test_resuming_a_directory_without_a_checkpoint_is_one_line(tmp_path):
    done = _train("--resume", str(tmp_path), check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "is not a numprec run" in done.stderr
