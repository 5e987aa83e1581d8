"""Compiled kernels are cached on disk: a second process loads them instead of compiling, and
two processes starting together on an empty cache both succeed with identical results."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = ("import numpy as np, numprec; "
          "print(numprec.encode(np.linspace(-3, 3, 101), 'fp8_e4m3fn', 'sr', seed=3).sum())")


def _env(cache_dir):
    env = dict(os.environ, NUMPREC_CACHE_DIR=str(cache_dir), NUMBA_DEBUG_CACHE="1")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(cache_dir):
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=_env(cache_dir), check=True,
                          capture_output=True, text=True)
    return done.stdout


def test_second_process_loads_kernels_from_cache(tmp_path):
    cold = _run(tmp_path)
    assert "data saved" in cold and "_fast_pass" in cold
    warm = _run(tmp_path)
    assert "data saved" not in warm, "the second process compiled again"
    assert "data loaded" in warm and "_fast_pass" in warm
    assert cold.splitlines()[-1] == warm.splitlines()[-1]


def test_concurrent_cold_starts_share_one_cache(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    results = [out.splitlines()[-1] for out, _ in outputs]
    assert results[0] == results[1]
    assert "data saved" not in _run(tmp_path)
