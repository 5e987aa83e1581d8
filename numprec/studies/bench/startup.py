"""How quickly numprec answers in a fresh process: the import, the first kernel call with a warm
and with an empty kernel cache, and numba's own start-up beside them.

    numprec bench startup [--repeat 5] [--out reports]

Every case is a fresh Python process timed from inside (time.perf_counter around the work, so
the interpreter's own start is left out), with Python's bytecode cached as for an installed
package (in a folder of its own, filled by one untimed start first). `import numprec` also
checks that numba is not loaded by it (numba loads on the first kernel call). The first call imports numprec and rounds 1000
values twice (bf16 rne, then fp8_e4m3fn sr). numba's floor is what any cached numba function
costs on its first call in a fresh process (`import numba` plus one trivial cached njit function,
its cache warm): the part of a warm first call that numprec cannot go below. Warm cases take the
median of `repeat` processes; the empty-cache cases run once each (they compile).
Targets: import <= 0.2 s, first call <= 0.6 s warm and <= 4 s with an empty cache.
Writes reports/bench_startup.csv and reports/bench_startup.md (atomically).
"""
from __future__ import annotations

import argparse
import functools
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

from numprec.studies.bench.common import (_FIRST_CALL, atomic_write_text, first_call_latency,
                                          fresh_process_env, machine_notes)

_IMPORT = ("import time, sys; t0 = time.perf_counter(); import numprec; "
           "numprec.finfo('fp16'); t1 = time.perf_counter(); "
           "print(t1 - t0, int('numba' in sys.modules))")
_NUMBA_IMPORT = ("import time; t0 = time.perf_counter(); import numba; "
                 "print(time.perf_counter() - t0)")
_NUMBA_FLOOR_SOURCE = '''\
import time
t0 = time.perf_counter()
import numpy as np
import numba


@numba.njit(cache=True)
def plus_one(x):
    return x + 1.0


plus_one(np.ones(3))
print(time.perf_counter() - t0)
'''
TARGETS = {"import numprec": 0.2, "first call, warm cache": 0.6,
           "first call, empty cache": 4.0}


def _fresh(code: str, bytecode: str, env_extra=None, path=None) -> list[str]:
    """The printed words of `code` (or of the script at `path`) run in a fresh interpreter,
    with Python's bytecode cached in `bytecode` (compiling numprec's sources on every start
    would be timed otherwise)."""
    env = fresh_process_env(bytecode_cache=bytecode)
    env.update(env_extra or {})
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    argv = [sys.executable, path] if path is not None else [sys.executable, "-c", code]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return done.stdout.split()


def run(repeat: int, progress=print) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as bytecode:
        fresh = functools.partial(_fresh, bytecode=bytecode)
        with tempfile.TemporaryDirectory() as cache:  # fills the bytecode cache, untimed
            fresh(_FIRST_CALL, env_extra={"NUMPREC_CACHE_DIR": cache})
        return _run(repeat, progress, fresh, bytecode)


def _run(repeat: int, progress, fresh, bytecode) -> pd.DataFrame:
    rows = []

    def add(case, seconds, note=""):
        rows.append(dict(case=case, runs=len(seconds), median_s=float(np.median(seconds)),
                         min_s=float(np.min(seconds)), max_s=float(np.max(seconds)),
                         note=note))
        progress(f"  {case}: {np.median(seconds):.3f} s")

    imports = [fresh(_IMPORT) for _ in range(repeat)]
    loaded = sum(int(words[1]) for words in imports)
    add("import numprec", [float(words[0]) for words in imports],
        "numba loaded by the import" if loaded else "numba not loaded")
    add("import numba", [float(fresh(_NUMBA_IMPORT)[0]) for _ in range(repeat)])
    with tempfile.TemporaryDirectory() as cache:
        script = os.path.join(cache, "numba_floor.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(_NUMBA_FLOOR_SOURCE)
        env = {"NUMBA_CACHE_DIR": os.path.join(cache, "numba")}
        fresh("", env_extra=env, path=script)  # fills the cache
        add("numba's floor: a cached njit function's first call",
            [float(fresh("", env_extra=env, path=script)[0]) for _ in range(repeat)])
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMPREC_CACHE_DIR": cache}
        cold = float(fresh(_FIRST_CALL, env_extra=env)[0])
        add("first call, empty cache", [cold])
        add("first call, warm cache", [float(fresh(_FIRST_CALL, env_extra=env)[0])
                                       for _ in range(repeat)])
    # both processes of a concurrent cold start must succeed
    concurrent = first_call_latency(bytecode)
    row = concurrent[concurrent.case.str.startswith("two processes")].iloc[0]
    add("two processes at once, empty cache (wall time, both finished)",
        [float(row.seconds)], "includes interpreter start")
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, notes: str) -> str:
    lines = ["# Start-up: import and first call in a fresh process", "",
             f"Machine: {notes}; Python {platform.python_version()}, NumPy {np.__version__}.",
             "Each case is a fresh interpreter timed from inside (its own start left out). The "
             "first call imports numprec and rounds 1000 values to bf16 (rne), then to "
             "fp8_e4m3fn (sr). numba's floor: `import numba` and the first call of one trivial "
             "cached njit function (warm cache), the least any cached numba kernel costs in a "
             "fresh process.", "",
             "| case | runs | median s | min-max s | note |", "|---|---:|---:|---:|---|"]
    for row in frame.itertuples():
        lines.append(f"| {row.case} | {row.runs} | {row.median_s:.3f} | {row.min_s:.3f}-"
                     f"{row.max_s:.3f} | {row.note} |")
    lines += ["", "## Targets", ""]
    by_case = frame.set_index("case")
    for case, limit in TARGETS.items():
        value = float(by_case.loc[case, "median_s"])
        verdict = "met" if value <= limit else "NOT met"
        lines.append(f"- {case}: {value:.3f} s (target <= {limit:g} s: {verdict})")
    floor = float(by_case.loc["numba's floor: a cached njit function's first call", "median_s"])
    warm = float(by_case.loc["first call, warm cache", "median_s"])
    lines += ["", f"A warm first call costs {warm:.3f} s against numba's floor of {floor:.3f} s: "
              f"numprec's own share (its import, loading its cached kernels, the two calls) is "
              f"{warm - floor:+.3f} s.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="numprec bench startup",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="fresh processes per warm case (default 5)")
    parser.add_argument("--out", default="reports", help="output folder (default reports)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    notes = machine_notes()
    frame = run(args.repeat)
    atomic_write_text(os.path.join(args.out, "bench_startup.csv"), frame.to_csv(index=False))
    text = markdown(frame, notes)
    atomic_write_text(os.path.join(args.out, "bench_startup.md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
