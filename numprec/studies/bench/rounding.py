"""Rounding throughput of numprec against its peers and against the memory-copy ceiling.

    numprec bench rounding [--n 10000000] [--out reports]

Every format, modes rne and sr, on N(0,1) float64 data (seeded), in one run: numprec, ml_dtypes
casts, gfloat, pychop, numpy casts (fp16/fp32) and a plain memory copy; and, for every format
whose values fit float32, numprec on the same data as float32 (float32 out) against ml_dtypes'
float32 round trip and a float32 copy, and numprec writing into a given array (out=) against
np.copyto; every deterministic mode on N(0,1) data and on data with 30% of its elements in the
format's subnormal range; and encode from float32 against ml_dtypes' cast from float32. Slow peers
are timed on a subsample and reported per element. Also measures numprec's first-call latency from fresh processes
with a cold and a warm kernel cache. Writes reports/bench_rounding.csv, bench_first_call.csv and
bench_rounding.md (atomically).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform

import numpy as np
import pandas as pd

import numprec
from numprec.studies.bench.common import (atomic_write_text, best_time, first_call_latency,
                                          machine_notes)

# numprec format -> (ml_dtypes dtype name, gfloat format_info name); None where the peer lacks it.
PEER_FORMATS = {
    "fp64": (None, "format_info_binary64"),
    "fp32": (None, "format_info_binary32"),
    "tf32": (None, None),
    "fp16": ("float16", "format_info_binary16"),
    "bf16": ("bfloat16", "format_info_bfloat16"),
    "fp8_e4m3fn": ("float8_e4m3fn", "format_info_ocp_e4m3"),
    "fp8_e5m2": ("float8_e5m2", "format_info_ocp_e5m2"),
    "fp8_e4m3fnuz": ("float8_e4m3fnuz", None),
    "fp8_e5m2fnuz": ("float8_e5m2fnuz", None),
    "fp6_e3m2fn": ("float6_e3m2fn", "format_info_ocp_e3m2"),
    "fp6_e2m3fn": ("float6_e2m3fn", "format_info_ocp_e2m3"),
    "fp4_e2m1fn": ("float4_e2m1fn", "format_info_ocp_e2m1"),
}
NUMPY_CASTS = {"fp16": np.float16, "fp32": np.float32}
DETERMINISTIC_MODES = tuple(mode for mode in numprec.MODES if mode != "sr")
SUBNORMAL_SHARE = 0.3  # of the elements of the subnormal-heavy data


def subnormal_heavy(x, fmt, rng):
    """x with SUBNORMAL_SHARE of its elements (at random places) replaced by values drawn
    log-uniformly between the format's smallest subnormal / 2 and its min normal, random signs:
    results that are subnormal (or round to zero or to the min normal). None for a format without
    subnormals (fixed point has none)."""
    if fmt.is_fixed or not fmt.subnormals:
        return None
    low, high = np.log2(fmt.min_subnormal) - 1, np.log2(fmt.min_normal)
    heavy = x.copy()
    where = rng.random(x.size) < SUBNORMAL_SHARE
    tiny = np.exp2(rng.uniform(low, high, int(where.sum())))
    heavy[where] = np.where(rng.random(tiny.size) < 0.5, -tiny, tiny)
    return heavy


def _row(fmt, mode, library, n, seconds, note=""):
    return dict(format=fmt, mode=mode, library=library, n=n, seconds=seconds,
                melem_per_s=n / seconds / 1e6, note=note)


def bench_numprec(x, fmt, mode, repeat):
    numprec.round(x[:1000], fmt, mode, seed=1)  # compile / load the serial copies from cache
    # and one whole call, untimed: it loads the parallel copies, and this machine's first
    # passes over fresh memory can stall for a while (a plain numba loop stalls alike)
    numprec.round(x, fmt, mode, seed=1)
    return best_time(lambda: numprec.round(x, fmt, mode, seed=1), repeat)


def _ml_dtype(dtype_name):
    import ml_dtypes
    return np.float16 if dtype_name == "float16" else getattr(ml_dtypes, dtype_name)


def bench_ml_dtypes(x, dtype_name, repeat):
    dtype = _ml_dtype(dtype_name)
    return best_time(lambda: x.astype(dtype), repeat)


def bench_ml_dtypes_round_trip(x32, dtype_name, repeat):
    """float32 -> the narrow type -> float32: what rounding float32 data costs with ml_dtypes."""
    dtype = _ml_dtype(dtype_name)
    return best_time(lambda: x32.astype(dtype).astype(np.float32), repeat)


def bench_gfloat(x, info_name, mode):
    import gfloat
    import gfloat.formats
    info = getattr(gfloat.formats, info_name)
    if mode == "sr":
        bits = np.random.default_rng(0).integers(0, 2**8, size=x.shape, dtype=np.uint64)
        run = lambda: gfloat.round_ndarray(info, x, gfloat.RoundMode.Stochastic, srbits=bits,
                                           srnumbits=8)
    else:
        run = lambda: gfloat.round_ndarray(info, x)
    return best_time(run, 2)


def bench_pychop(x, fmt, mode):
    import pychop
    pychop.backend("numpy")
    chop = pychop.Chop(exp_bits=fmt.ebits, sig_bits=fmt.mbits, rmode=5 if mode == "sr" else 1)
    return best_time(lambda: chop(x), 2)


PEERS = ("ml_dtypes", "gfloat", "pychop")


def installed_peers() -> set:
    """The peer libraries importable here (the bench extra installs them all)."""
    return {name for name in PEERS if importlib.util.find_spec(name) is not None}


def run(n, peer_n, repeat, formats, with_latency=True, progress=print):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    x32 = x.astype(np.float32)
    small = x[:peer_n].copy()
    rows = []
    peers = installed_peers()
    out = np.empty_like(x)
    copies = {"memcpy (x.copy)": (lambda: x.copy(), "allocates its output, like numprec.round"),
              "memcpy (np.copyto)": (lambda: np.copyto(out, x), "preallocated output"),
              "memcpy float32 (x32.copy)": (lambda: x32.copy(), "the float32 data's copy")}
    # timed at the start and again at the end, the best of both: a process's first passes over
    # fresh memory, and a noisy neighbour, must not lower the ceiling
    copy_seconds = {name: best_time(copy, repeat) for name, (copy, _) in copies.items()}
    for name in formats:
        fmt = numprec.get_format(name)
        progress(f"  {name}")
        ml_name, gfloat_name = PEER_FORMATS.get(name, (None, None))
        ml_name = ml_name if "ml_dtypes" in peers else None
        gfloat_name = gfloat_name if "gfloat" in peers else None
        heavy = subnormal_heavy(x, fmt, np.random.default_rng(1))
        for mode in DETERMINISTIC_MODES[1:]:
            rows.append(_row(name, mode, "numprec", n, bench_numprec(x, name, mode, repeat)))
        for mode in DETERMINISTIC_MODES if heavy is not None else ():
            rows.append(_row(name, mode, "numprec 30% subnormal", n,
                             bench_numprec(heavy, name, mode, repeat),
                             f"{SUBNORMAL_SHARE:.0%} of the elements in the subnormal range"))
        del heavy
        for mode in ("rne", "sr"):
            rows.append(_row(name, mode, "numprec", n, bench_numprec(x, name, mode, repeat)))
            if gfloat_name:
                rows.append(_row(name, mode, "gfloat", peer_n, bench_gfloat(small, gfloat_name,
                                                                             mode)))
            if not fmt.is_fixed and "pychop" in peers:
                note = "" if fmt.nan == "ieee" else "IEEE-style format of the same ebits/mbits"
                rows.append(_row(name, mode, "pychop", peer_n, bench_pychop(small, fmt, mode),
                                 note))
        numprec.round(x[:1000], name, out=out[:1000])
        rows.append(_row(name, "rne", "numprec out=", n,
                         best_time(lambda: numprec.round(x, name, out=out), repeat),
                         "into a preallocated float64 array, like np.copyto"))
        if fmt.fits_float32:
            rows.append(_row(name, "rne", "numprec float32", n,
                             bench_numprec(x32, name, "rne", repeat),
                             "float32 in, float32 out"))
            if ml_name:
                rows.append(_row(name, "rne", "ml_dtypes float32 round trip", n,
                                 bench_ml_dtypes_round_trip(x32, ml_name, repeat),
                                 "astype(narrow).astype(float32)"))
        numprec.encode(x[:1000], name, saturate=True)
        rows.append(_row(name, "rne", "numprec encode", n,
                         best_time(lambda: numprec.encode(x, name, saturate=True), repeat),
                         "bit patterns in the format's container, like an ml_dtypes cast"))
        if ml_name:
            rows.append(_row(name, "rne", "ml_dtypes", n, bench_ml_dtypes(x, ml_name, repeat),
                             "astype from float64 (cast only, no decode back)"))
        if fmt.fits_float32:
            numprec.encode(x32[:1000], name, saturate=True)
            rows.append(_row(name, "rne", "numprec encode float32", n,
                             best_time(lambda: numprec.encode(x32, name, saturate=True), repeat),
                             "bit patterns from float32 data"))
            if ml_name:
                rows.append(_row(name, "rne", "ml_dtypes from float32", n,
                                 bench_ml_dtypes(x32, ml_name, repeat), "astype from float32"))
        if name in NUMPY_CASTS:
            dtype = NUMPY_CASTS[name]
            rows.append(_row(name, "rne", "numpy", n, best_time(lambda: x.astype(dtype), repeat),
                             "astype from float64"))
    for name, (copy, note) in copies.items():
        rows.append(_row("-", "-", name, n, min(copy_seconds[name], best_time(copy, repeat)),
                         note))
    latency = first_call_latency() if with_latency else None
    return pd.DataFrame(rows), latency


def _ratio(table, fmt, mode, lib, other_lib, other_mode="rne"):
    mine = table.get((fmt, mode, lib))
    theirs = table.get((fmt, other_mode, other_lib))
    return None if mine is None or theirs is None else mine / theirs


def markdown(df, latency, n, notes):
    rate = {(r.format, r.mode, r.library): r.melem_per_s for r in df.itertuples()}
    copy_rate = rate[("-", "-", "memcpy (x.copy)")]
    lines = ["# Rounding throughput", "",
             f"{n:,} float64 N(0,1) elements; million elements per second (best of several "
             "runs; gfloat and pychop on a subsample). numprec returns float64 values; the "
             "ml_dtypes/numpy columns time only the cast to the narrow type.", "",
             notes, "",
             f"Memory-copy ceiling: x.copy() {copy_rate:.0f} M/s, np.copyto "
             f"{rate[('-', '-', 'memcpy (np.copyto)')]:.0f} M/s.", "",
             "| format | numprec rne | numprec sr | numprec encode | ml_dtypes | numpy | gfloat rne |"
             " gfloat sr | pychop rne | pychop sr | rne / copy | sr / rne | rne / ml_dtypes |"
             " encode / ml_dtypes | rne / max(gfloat, pychop) |",
             "|---|" + "---:|" * 14]
    for fmt in dict.fromkeys(f for f in df.format if f != "-"):
        get = lambda mode, lib: rate.get((fmt, mode, lib))
        cell = lambda v: "" if v is None else f"{v:,.1f}"
        slow_peer = max([v for v in (get("rne", "gfloat"), get("rne", "pychop")) if v] or [0])
        vs_ml = _ratio(rate, fmt, "rne", "numprec", "ml_dtypes")
        enc_ml = _ratio(rate, fmt, "rne", "numprec encode", "ml_dtypes")
        lines.append("| " + " | ".join([
            fmt, cell(get("rne", "numprec")), cell(get("sr", "numprec")),
            cell(get("rne", "numprec encode")), cell(get("rne", "ml_dtypes")), cell(get("rne", "numpy")), cell(get("rne", "gfloat")),
            cell(get("sr", "gfloat")), cell(get("rne", "pychop")), cell(get("sr", "pychop")),
            f"{get('rne', 'numprec') / copy_rate:.2f}",
            f"{get('sr', 'numprec') / get('rne', 'numprec'):.2f}",
            "" if vs_ml is None else f"{vs_ml:.1f}x",
            "" if enc_ml is None else f"{enc_ml:.1f}x",
            "" if not slow_peer else f"{get('rne', 'numprec') / slow_peer:.0f}x"]) + " |")
    copy32 = rate[("-", "-", "memcpy float32 (x32.copy)")]
    copyto = rate[("-", "-", "memcpy (np.copyto)")]
    lines += ["", "## Float32 in, float32 out; and out=", "",
              "The same data as float32, for every format whose values fit float32 (numprec "
              "returns float32, no float64 copy); ml_dtypes' float32 round trip is "
              "astype(narrow).astype(float32). `out=`: float64 data rounded into a preallocated "
              f"float64 array. Float32 copy {copy32:.0f} M/s, np.copyto {copyto:.0f} M/s.", "",
              "| format | numprec float32 | ml_dtypes float32 round trip | float32 / ml_dtypes |"
              " float32 / float32 copy | numprec out= | out= / np.copyto |",
              "|---|" + "---:|" * 6]
    for fmt in dict.fromkeys(f for f in df.format if f != "-"):
        get = lambda lib: rate.get((fmt, "rne", lib))
        f32, trip, into = get("numprec float32"), get("ml_dtypes float32 round trip"), \
            get("numprec out=")
        cell = lambda v: "" if v is None else f"{v:,.1f}"
        lines.append("| " + " | ".join([
            fmt, cell(f32), cell(trip), "" if f32 is None or trip is None else f"{f32 / trip:.1f}x",
            "" if f32 is None else f"{f32 / copy32:.2f}", cell(into),
            "" if into is None else f"{into / copyto:.2f}"]) + " |")
    lines += ["", "## Every deterministic mode: N(0,1) and 30% subnormals", "",
              "numprec's rounding against x.copy() of the same array, per mode: on the N(0,1) data, "
              f"and (after the slash) on the same data with {SUBNORMAL_SHARE:.0%} of its elements "
              "replaced by values in the format's subnormal range (log-uniform from half the "
              "smallest subnormal to the min normal; none for fixed point and fp64, whose "
              "subnormals are float64's own).", "",
              "| format | " + " | ".join(DETERMINISTIC_MODES) + " | worst |",
              "|---|" + "---:|" * (len(DETERMINISTIC_MODES) + 1)]
    for fmt in dict.fromkeys(f for f in df.format if f != "-"):
        cells, worst = [], []
        for mode in DETERMINISTIC_MODES:
            plain, heavy = rate.get((fmt, mode, "numprec")), rate.get(
                (fmt, mode, "numprec 30% subnormal"))
            ratios = [v / copy_rate for v in (plain, heavy) if v is not None]
            worst += ratios
            cells.append(" / ".join(f"{r:.2f}" for r in ratios))
        lines.append(f"| {fmt} | " + " | ".join(cells) +
                     f" | {min(worst):.2f} |" if worst else f"| {fmt} |" + " |" * (len(cells) + 1))
    lines += ["", "## Encode: from float64 and from float32", "",
              "numprec.encode (bit patterns in the format's container) against ml_dtypes' astype "
              "from the same data.", "",
              "| format | numprec encode | ml_dtypes | ratio | numprec encode float32 | "
              "ml_dtypes from float32 | ratio |", "|---|" + "---:|" * 6]
    for fmt in dict.fromkeys(f for f in df.format if f != "-"):
        get = lambda lib: rate.get((fmt, "rne", lib))
        cell = lambda v: "" if v is None else f"{v:,.1f}"
        vals = [get("numprec encode"), get("ml_dtypes"), get("numprec encode float32"),
                get("ml_dtypes from float32")]
        if vals[1] is None and vals[3] is None:
            continue
        ratio = lambda a, b: "" if a is None or b is None else f"{a / b:.1f}x"
        lines.append("| " + " | ".join([fmt, cell(vals[0]), cell(vals[1]),
                                        ratio(vals[0], vals[1]), cell(vals[2]), cell(vals[3]),
                                        ratio(vals[2], vals[3])]) + " |")
    if latency is not None:
        lines += ["", "## First-call latency (fresh process: import numprec and round one array; "
                  "wall time from outside, the interpreter's start included, bytecode cached)",
                  "", "| cache | seconds |", "|---|---:|"]
        lines += [f"| {r.case} | {r.seconds:.2f} |" for r in latency.itertuples()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="numprec bench rounding",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="elements (default 10M)")
    parser.add_argument("--peer-n", type=int, default=200_000,
                        help="elements for the slow pure-numpy peers (gfloat, pychop)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", nargs="*", default=numprec.format_names() + ["int8"])
    parser.add_argument("--out", default="reports")
    parser.add_argument("--no-latency", action="store_true", help="skip the fresh-process timing")
    args = parser.parse_args(argv)
    if args.n < 1 or args.peer_n < 1 or args.repeat < 1:
        parser.error("--n, --peer-n and --repeat must be >= 1")
    for name in args.formats:
        numprec.get_format(name)  # fail early, naming an unknown format
    notes = machine_notes()
    missing = sorted(set(PEERS) - installed_peers())
    if missing:
        notes += (f"; peers not installed here, so not measured: {', '.join(missing)} "
                  "(pip install 'numprec[bench]')")
    print(f"benchmarking rounding on {args.n:,} elements ({notes})")
    df, latency = run(args.n, min(args.peer_n, args.n), args.repeat, args.formats,
                      not args.no_latency)
    os.makedirs(args.out, exist_ok=True)
    atomic_write_text(os.path.join(args.out, "bench_rounding.csv"), df.to_csv(index=False))
    if latency is not None:
        atomic_write_text(os.path.join(args.out, "bench_first_call.csv"),
                          latency.to_csv(index=False))
    report = markdown(df, latency, args.n, notes + f"; {platform.python_version()}, "
                      f"numpy {np.__version__}, numba {__import__('numba').__version__}")
    atomic_write_text(os.path.join(args.out, "bench_rounding.md"), report)
    print(report)


if __name__ == "__main__":
    main()
