"""Shared pieces of the benchmarks: timing, machine notes (CPU model and vector extensions),
cold starts."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time

import pandas as pd

import numprec
from numprec.atomic import atomic_write_text  # noqa: F401  (the benchmarks' one writer)

# The folder holding the numprec package: fresh processes import the same numprec.
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(numprec.__file__)))

_FIRST_CALL = ("import time; t0 = time.perf_counter(); import numpy as np, numprec; "
               "numprec.round(np.linspace(-3, 3, 1000), 'bf16', 'rne'); "
               "numprec.round(np.linspace(-3, 3, 1000), 'fp8_e4m3fn', 'sr', seed=0); "
               "print(time.perf_counter() - t0)")


def best_time(func, repeat: int) -> float:
    """Minimum wall time of `repeat` calls (after the caller's warm-up)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


VECTOR_EXTENSIONS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw",
                     "avx512vl", "avx512ifma", "avx512_bf16", "avx512_fp16", "amx_tile", "neon",
                     "asimd", "sve")


def cpu_model() -> str:
    """The CPU model and its SIMD extensions (Linux /proc/cpuinfo; platform's name elsewhere)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model", "CPU part") and name in ("", platform.machine(),
                                                                          platform.processor()):
                    name = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    simd = [f for f in VECTOR_EXTENSIONS if f in flags]
    return f"{name} ({' '.join(simd) or 'SIMD extensions unknown'})"


def machine_notes() -> str:
    import numba
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu_model()}; {os.cpu_count()} CPUs, {numba.get_num_threads()} numba threads, "
            f"load average {load:.2f} at start")


def _time_fresh_process(cache_dir: str, env_extra=None) -> float:
    env = dict(os.environ, NUMPREC_CACHE_DIR=cache_dir, **(env_extra or {}))
    env["PYTHONPATH"] = _PACKAGE_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _FIRST_CALL], check=True, env=env,
                   capture_output=True, text=True)
    return time.perf_counter() - start


def first_call_latency() -> pd.DataFrame:
    """Wall time of a fresh process that imports numprec and rounds twice (bf16 rne, e4m3 sr):
    with an empty kernel cache (cold), again with the cache it left (warm), and two processes at
    once on an empty cache (both must succeed)."""
    rows = []
    with tempfile.TemporaryDirectory() as cold:
        rows.append(dict(case="cold (empty cache)", seconds=_time_fresh_process(cold)))
        rows.append(dict(case="warm (cache filled by the previous run)",
                         seconds=_time_fresh_process(cold)))
    with tempfile.TemporaryDirectory() as shared:
        env = dict(os.environ, NUMPREC_CACHE_DIR=shared)
        env["PYTHONPATH"] = _PACKAGE_PARENT + os.pathsep + env.get("PYTHONPATH", "")
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _FIRST_CALL], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
        codes = [p.wait() for p in procs]
        elapsed = time.perf_counter() - start
        if any(codes):
            raise RuntimeError(f"concurrent cold start failed with exit codes {codes}")
        rows.append(dict(case="two processes at once, empty cache (both finished)",
                         seconds=elapsed))
        rows.append(dict(case="warm after the concurrent start", seconds=_time_fresh_process(shared)))
    return pd.DataFrame(rows)
