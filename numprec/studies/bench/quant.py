"""Throughput of integer quantization and MX block encoding against a memory copy and the peers.

    numprec bench quant [--n 16777216] [--peer-n 65536] [--repeat 10] [--out reports]

On one float32 N(0,1) array (seeded; 2^24 elements by default), in one run: np.copyto of it into
a preallocated float32 array (the ceiling); numprec.quant.quantize to int8 per tensor with a
given scale and with the minmax observer's scale, per channel (a 4096-row matrix view, axis 0)
with given and observed scales, and with the zero point before rounding; mx_encode to every OCP
MX format (E8M0 scales, blocks of 32, floor rule, plus rceil for MXFP8). Peers on the same array
where they are installed: pychop's integer quantizer (Chopi: calibrated min/max, then
round(x / scale + zp) in NumPy) and its MX quantize-dequantize (mx_quantize), gfloat's block
quantize-dequantize (quantize_block, one block per call), ml_dtypes casts of the float32 array
to int8-like and float8 types (a cast, no scale: a reference point, not the same operation),
and PyTorch's quantize_per_tensor / quantize_per_channel and torchao's MX cast when importable
(not installed here: the report says so). Slow peers run on the first --peer-n elements and are
reported per element like the others. Throughput is GB/s of float32 input (4 bytes per
element); each case is the best of --repeat rounds after a warm-up, every round timing one call
of the case and one copy, and each case's ratio is to the copies timed beside it (load on a
shared machine that comes and goes then weighs on both). Writes reports/bench_quant.csv and
reports/bench_quant.md (atomically) with the CPU model, its AVX-512 flags and the load.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform

import numpy as np
import pandas as pd

from numprec.quant import mx_encode, quantize
from numprec.studies.bench.common import atomic_write_text, best_time, machine_notes

PEERS = ("pychop", "gfloat", "ml_dtypes", "torch", "torchao")
COPY = "memory copy (np.copyto)"
MX_NAMES = ("mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8")
GFLOAT_INFO = {"mxfp8_e4m3": "format_info_mxfp8_e4m3", "mxfp8_e5m2": "format_info_mxfp8_e5m2",
               "mxfp6_e3m2": "format_info_mxfp6_e3m2", "mxfp6_e2m3": "format_info_mxfp6_e2m3",
               "mxfp4": "format_info_mxfp4_e2m1", "mxint8": "format_info_mxint8"}
PYCHOP_NAMES = {"mxfp4": "mxfp4_e2m1"}  # pychop's names where they differ from OCP's
TARGET_COPY_RATIO = 0.7


def installed_peers() -> set:
    return {name for name in PEERS if importlib.util.find_spec(name) is not None}


def avx512_flags() -> list:
    """Every avx512* flag of the first CPU in /proc/cpuinfo (Linux; [] elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return sorted(f for f in line.split(":", 1)[1].split()
                                  if f.startswith("avx512"))
    except OSError:
        pass
    return []


def _row(group, case, library, n, seconds, note=""):  # (GB/s of float32 input)
    return dict(group=group, case=case, library=library, n=n, seconds=seconds,
                gb_per_s=4.0 * n / seconds / 1e9, note=note)


def numprec_cases(x, w):
    """(group, case, callable) of every numprec measurement (x flat, w its matrix view)."""
    scale = float(np.float32(np.abs(x).max() / 127.5))
    ch_scale = (np.abs(w).max(axis=1) / 127.5).astype(np.float32).astype(np.float64)
    cases = [
        ("int8 per tensor", "given scale", lambda: quantize(x, scale=scale)),
        ("int8 per tensor", "minmax observer", lambda: quantize(x)),
        ("int8 per tensor", "given scale, zero point 3 before rounding",
         lambda: quantize(x, scale=scale, zero_point=3, zero_point_before_rounding=True,
                          scheme="asymmetric")),
        ("int8 per tensor", "given scale, mode rtz", lambda: quantize(x, scale=scale,
                                                                       mode="rtz")),
        ("int8 per channel", "given scales (axis 0)", lambda: quantize(w, axis=0,
                                                                        scale=ch_scale)),
        ("int8 per channel", "minmax observer (axis 0)", lambda: quantize(w, axis=0)),
    ]
    for name in MX_NAMES:
        cases.append(("MX " + name, "mx_encode floor", lambda name=name: mx_encode(x, name)))
    cases.append(("MX mxfp8_e4m3", "mx_encode rceil",
                  lambda: mx_encode(x, "mxfp8_e4m3", scale_rule="rceil")))
    return cases


def peer_cases(x, w, small, peers):
    """(group, case, library, callable, elements, note) of every peer measurement."""
    out = []
    n = x.size
    if "pychop" in peers:
        import pychop
        pychop.backend("numpy")

        def calibrated(data, **kw):  # the first quantize calibrates; later ones reuse it
            quantizer = pychop.Chopi(bits=8, symmetric=True, **kw)
            quantizer.quantize(data)
            return lambda: quantizer.quantize(data)
        given = calibrated(x)
        note = "round(x / scale + zp) in NumPy; scale from min/max, not PyTorch's"
        out.append(("int8 per tensor", "given scale", "pychop Chopi", given, n,
                    "calibrated once; " + note))
        out.append(("int8 per tensor", "minmax observer", "pychop Chopi",
                    lambda: pychop.Chopi(bits=8, symmetric=True).quantize(x), n,
                    "calibrate + quantize; " + note))
        out.append(("int8 per channel", "given scales (axis 0)", "pychop Chopi",
                    calibrated(w, per_channel=True, axis=0), n, "calibrated once; " + note))
        out.append(("int8 per channel", "minmax observer (axis 0)", "pychop Chopi",
                    lambda: pychop.Chopi(bits=8, symmetric=True, per_channel=True,
                                         axis=0).quantize(w), n, "calibrate + quantize"))
        for name in MX_NAMES:
            theirs = PYCHOP_NAMES.get(name, name)
            if theirs in getattr(pychop, "MX_FORMATS", {}):
                out.append(("MX " + name, "mx_encode floor", "pychop mx_quantize",
                            lambda theirs=theirs: pychop.mx_quantize(small, theirs),
                            small.size, "quantize-dequantize (float out)"))
    if "gfloat" in peers:
        import gfloat
        import gfloat.formats as gformats
        blocks = small.astype(np.float64).reshape(-1, 32)
        for name in MX_NAMES:
            info = getattr(gformats, GFLOAT_INFO[name])
            out.append(("MX " + name, "mx_encode floor", "gfloat quantize_block",
                        lambda info=info: [gfloat.quantize_block(info, b,
                                                                 gfloat.compute_scale_amax)
                                           for b in blocks], small.size,
                        "quantize-dequantize, one block per call (float64 in)"))
    if "ml_dtypes" in peers:
        import ml_dtypes
        for dtype, group in ((ml_dtypes.int4, "int8 per tensor"),
                             (ml_dtypes.float8_e4m3fn, "MX mxfp8_e4m3"),
                             (ml_dtypes.float8_e5m2, "MX mxfp8_e5m2"),
                             (ml_dtypes.float6_e3m2fn, "MX mxfp6_e3m2"),
                             (ml_dtypes.float6_e2m3fn, "MX mxfp6_e2m3"),
                             (ml_dtypes.float4_e2m1fn, "MX mxfp4")):
            out.append((group, "reference cast", "ml_dtypes astype " + np.dtype(dtype).name,
                        lambda dtype=dtype: x.astype(dtype), n,
                        "a cast of float32, no scale, no block: not the same operation"))
        out.append(("int8 per tensor", "reference cast", "numpy astype int8",
                    lambda: x.astype(np.int8), n, "truncating cast, no scale"))
    if "torch" in peers:
        import torch
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        scale = float(np.float32(np.abs(x).max() / 127.5))
        ch = torch.from_numpy((np.abs(w).max(axis=1) / 127.5).astype(np.float64))
        zeros = torch.zeros(ch.numel(), dtype=torch.int64)
        out.append(("int8 per tensor", "given scale", "torch quantize_per_tensor",
                    lambda: torch.quantize_per_tensor(tx, scale, 0, torch.qint8), n,
                    f"{torch.get_num_threads()} torch threads"))
        out.append(("int8 per channel", "given scales (axis 0)", "torch quantize_per_channel",
                    lambda: torch.quantize_per_channel(tw, ch, zeros, 0, torch.qint8), n, ""))
    if "torchao" in peers and "torch" in peers:
        out += _torchao_cases(x)
    return out


def _torchao_cases(x):
    """torchao's MX cast where its prototype API is importable (it moves between releases)."""
    try:
        import torch
        from torchao.prototype.mx_formats.mx_tensor import MXTensor
    except Exception:  # noqa: BLE001 (any import failure: not measured, said in the notes)
        return []
    tx = torch.from_numpy(x)
    cases = []
    for name, dtype in (("mxfp8_e4m3", getattr(torch, "float8_e4m3fn", None)),
                        ("mxfp8_e5m2", getattr(torch, "float8_e5m2", None))):
        if dtype is not None:
            cases.append(("MX " + name, "mx_encode floor", "torchao MXTensor.to_mx",
                          lambda dtype=dtype: MXTensor.to_mx(tx, dtype, 32), x.size, ""))
    return cases


def paired(func, copy, repeat):
    """(best time of func, best time of the copy) over `repeat` rounds, each timing one call of
    each: the copy is measured beside every case, so load that comes and goes on a shared
    machine weighs on both."""
    best, best_copy = float("inf"), float("inf")
    for _ in range(repeat):
        best_copy = min(best_copy, best_time(copy, 1))
        best = min(best, best_time(func, 1))
    return best, best_copy


def run(n, peer_n, repeat, progress=print):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32)
    rows_n = 4096 if n % 4096 == 0 else 1
    w = x.reshape(rows_n, -1)
    small = np.ascontiguousarray(x[:max(32, peer_n // 32 * 32)])
    target = np.empty_like(x)
    peers = installed_peers()
    rows = []

    def copy():
        np.copyto(target, x)

    copy()
    for group, case, func in numprec_cases(x, w):
        progress(f"  numprec {group}: {case}")
        func()  # compile / load from the kernel cache
        seconds, copy_seconds = paired(func, copy, repeat)
        rows.append(dict(_row(group, case, "numprec", n, seconds), copy_gb_per_s=4.0 * n /
                         copy_seconds / 1e9))
    for group, case, library, func, elements, note in peer_cases(x, w, small, peers):
        progress(f"  {library} {group}: {case}")
        try:
            func()
        except Exception as err:  # noqa: BLE001 (a peer that fails is reported, not fatal)
            rows.append(dict(group=group, case=case, library=library, n=elements,
                             seconds=np.nan, gb_per_s=np.nan, note=f"failed: {err!r}"[:200]))
            continue
        times = repeat if elements == n else max(2, repeat // 3)
        seconds, copy_seconds = paired(func, copy, times)
        rows.append(dict(_row(group, case, library, elements, seconds, note),
                         copy_gb_per_s=4.0 * n / copy_seconds / 1e9))
    frame = pd.DataFrame(rows)
    copy_rate = float(np.nanmedian(frame.copy_gb_per_s))
    frame.insert(0, "_order", range(1, len(frame) + 1))
    first = pd.DataFrame([dict(_row("memory copy", "float32 array into a preallocated one", COPY,
                                    n, 4.0 * n / copy_rate / 1e9,
                                    "the median of the copies timed beside every case"),
                               copy_gb_per_s=copy_rate, _order=0)])
    frame = pd.concat([first, frame], ignore_index=True).drop(columns="_order")
    frame["vs_copy"] = frame.gb_per_s / frame.copy_gb_per_s  # each against its own copies
    return frame, peers


def _times(ratio) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


def fastest_peer(frame, group, case):
    """(library, GB/s) of the fastest peer doing the same operation (casts excluded)."""
    peers = frame[(frame.group == group) & (frame.case == case) & (frame.library != "numprec")
                  & frame.gb_per_s.notna()]
    if peers.empty:
        return None, None
    best = peers.loc[peers.gb_per_s.idxmax()]
    return best.library, best.gb_per_s


def markdown(frame, n, peer_n, notes, peers) -> str:
    copy_rate = frame.gb_per_s.iloc[0]
    lines = ["# Quantization throughput", "",
             f"{n:,} float32 N(0,1) elements (one array for every case); GB/s of float32 input "
             "(4 bytes per element), best of several calls after a warm-up; peers marked "
             f"'subsample' ran on the first {peer_n:,} elements.", "", notes, "",
             f"Memory copy (np.copyto of the float32 array into a preallocated one), timed "
             f"beside every case: median **{copy_rate:.2f} GB/s**; '/ copy' divides each case "
             f"by the copies timed beside it (one call of each per round, best of the rounds). "
             f"Target: numprec at least {TARGET_COPY_RATIO}x the copy and at least as fast as "
             "the fastest installed peer doing the same operation.", "",
             "| operation | case | numprec GB/s | copy GB/s | / copy | fastest peer | peer GB/s | "
             "numprec / peer |", "|---|---|---:|---:|---:|---|---:|---:|"]
    mine = frame[frame.library == "numprec"]
    for r in mine.itertuples():
        library, rate = fastest_peer(frame, r.group, r.case)
        lines.append(f"| {r.group} | {r.case} | {r.gb_per_s:.2f} | {r.copy_gb_per_s:.2f} | "
                     f"{r.vs_copy:.2f} | {library or 'none installed'} | "
                     f"{'' if rate is None else f'{rate:.3f}'} | "
                     f"{'' if rate is None else _times(r.gb_per_s / rate)} |")
    lines += ["", "## Every measurement", "",
              "| operation | case | library | elements | GB/s | / copy | note |",
              "|---|---|---|---:|---:|---:|---|"]
    for r in frame.itertuples():
        rate = "" if pd.isna(r.gb_per_s) else f"{r.gb_per_s:.3f}"
        ratio = "" if pd.isna(r.vs_copy) else f"{r.vs_copy:.3f}"
        sub = " (subsample)" if r.n != n else ""
        lines.append(f"| {r.group} | {r.case} | {r.library} | {r.n:,}{sub} | {rate} | {ratio} "
                     f"| {r.note} |")
    missing = sorted(set(PEERS) - peers)
    lines += ["", "## Notes", "",
              "- numprec's results are bit-identical to its exact multi-pass paths "
              "(tests/quant/test_fast_paths.py); the peers round the float quotient "
              "(pychop: round(x / scale + zp) in NumPy, float32), so their integers can differ "
              "on near-ties, and quantize-dequantize peers return floats rather than codes.",
              "- ml_dtypes / numpy casts are reference points only: a cast of the float32 "
              "values, with no scale, no clamp to a quantization range and no shared exponent.",
              "- The kernels use no 64-bit integer multiply (the stochastic-rounding draws, "
              "SplitMix64, do; mode sr is not measured here). The integer quantizer computes "
              "in float64 lanes, the MX encoder of float32 input in float32 / int32 lanes; "
              "AVX-512 doubles the lanes over AVX2, and the loops vectorise on either.",
              f"- Peers not installed here, so not measured: {', '.join(missing) or 'none'}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="numprec bench quant",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 24, help="elements (default 2^24)")
    parser.add_argument("--peer-n", type=int, default=1 << 16,
                        help="elements for the slow peers (gfloat, pychop's MX)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", default="reports")
    args = parser.parse_args(argv)
    if args.n < 32 or args.n % 32 or args.peer_n < 32 or args.repeat < 1:
        parser.error("--n must be a positive multiple of 32, --peer-n >= 32, --repeat >= 1")
    notes = machine_notes()
    flags = avx512_flags()
    notes += f"; AVX-512 flags: {' '.join(flags) if flags else 'none (AVX2 or older)'}"
    print(f"benchmarking quantization on {args.n:,} elements ({notes})")
    frame, peers = run(args.n, min(args.peer_n, args.n), args.repeat)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    import numba
    notes += (f"; load average {load:.2f} at the end; Python {platform.python_version()}, "
              f"numpy {np.__version__}, numba {numba.__version__}")
    os.makedirs(args.out, exist_ok=True)
    atomic_write_text(os.path.join(args.out, "bench_quant.csv"), frame.to_csv(index=False))
    report = markdown(frame, args.n, min(args.peer_n, args.n), notes, peers)
    atomic_write_text(os.path.join(args.out, "bench_quant.md"), report)
    print(report)
    return 0


if __name__ == "__main__":
    main()
