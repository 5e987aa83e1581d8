"""Shared pieces of the benchmarks: timing, machine notes (CPU model and vector extensions),
cold starts."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pandas as pd

import numprec
from numprec.atomic import atomic_write_text  # noqa: F401  (the benchmarks' one writer)
from numprec.machine import VECTOR_EXTENSIONS, cpu_model  # noqa: F401  (used by the benchmarks)

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


def engine_step(model, optimizer, scaler, loss_fn, policy, x, y):
    """One training step as the benchmarks time it: zero_grad, forward under autocast(policy),
    loss, (scaled) backward, optimizer step and scaler update. Non-finite losses are stepped
    too (the fp16 preset diverges on the digits)."""
    from numprec import Tensor
    from numprec.amp import autocast
    optimizer.zero_grad()
    with autocast(policy):
        loss = loss_fn(model(Tensor(x)), y)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def machine_notes() -> str:
    import numba
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu_model()}; {os.cpu_count()} CPUs, {numba.get_num_threads()} numba threads, "
            f"load average {load:.2f} at start{compile_target_note()}")


_VECTOR_FEATURES = ("avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl")


def compile_target_note() -> str:
    """Where numba compiles for another CPU than the host (NUMBA_CPU_NAME, NUMBA_CPU_FEATURES:
    e.g. AVX2 code measured on an AVX-512 machine), which one and its vector extensions."""
    import numba
    name = numba.config.CPU_NAME
    if not name:
        return ""
    features = (numba.config.CPU_FEATURES or "").split(",")
    vector = [f[1:] for f in features if f.startswith("+") and f[1:] in _VECTOR_FEATURES]
    return (f"; numprec's kernels compiled for {name} ({' '.join(vector) or 'no vector extensions'}"
            "), not for the host")


def fresh_process_env(cache_dir=None, bytecode_cache=None) -> dict:
    """The environment of a timed fresh interpreter: numprec's kernel cache in `cache_dir`
    (None: the caller's), and with `bytecode_cache` Python's bytecode cached there even where
    the caller's environment turns it off (PYTHONDONTWRITEBYTECODE), as an installed package
    has it."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMPREC_CACHE_DIR"] = cache_dir
    env["PYTHONPATH"] = _PACKAGE_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    if bytecode_cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = bytecode_cache
    return env


def _time_fresh_process(cache_dir: str, bytecode_cache=None) -> float:
    env = fresh_process_env(cache_dir, bytecode_cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _FIRST_CALL], check=True, env=env,
                   capture_output=True, text=True)
    return time.perf_counter() - start


def first_call_latency(bytecode_cache=None) -> pd.DataFrame:
    """Wall time of a fresh process that imports numprec and rounds twice (bf16 rne, e4m3 sr):
    with an empty kernel cache (cold), again with the cache it left (warm), and two processes at
    once on an empty cache (both must succeed). Python's bytecode is cached in `bytecode_cache`
    (see fresh_process_env); without one, in a folder of its own filled by an untimed start."""
    if bytecode_cache is None:
        with tempfile.TemporaryDirectory() as bytecode, tempfile.TemporaryDirectory() as cache:
            _time_fresh_process(cache, bytecode)
            return first_call_latency(bytecode)
    rows = []
    with tempfile.TemporaryDirectory() as cold:
        rows.append(dict(case="cold (empty cache)",
                         seconds=_time_fresh_process(cold, bytecode_cache)))
        rows.append(dict(case="warm (cache filled by the previous run)",
                         seconds=_time_fresh_process(cold, bytecode_cache)))
    with tempfile.TemporaryDirectory() as shared:
        env = fresh_process_env(shared, bytecode_cache)
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
        rows.append(dict(case="warm after the concurrent start",
                         seconds=_time_fresh_process(shared, bytecode_cache)))
    return pd.DataFrame(rows)
