"""GPU check: parity with the CPU kernels on large inputs, and throughput, in one run.

    PYTHONPATH=. python3 analysis/gpu_check.py --out reports/gpu [--quick]

On a machine with a CUDA GPU (about 5 minutes on one H200):
1. parity: every GPU kernel against its CPU twin, bit for bit with the flags, on large inputs
   from the regions where rounding breaks: rounding/encode (every format and mode, saturation,
   flush-to-zero, short stochastic draws), decode (all patterns of small formats), arithmetic
   (add, sub, mul, div, sqrt, fma), and the accumulation models (sum/dot rows and matmul in
   every order, mode and entry point);
2. throughput of rounding on device-resident data against a device-to-device copy of the same
   bytes (the memory-bandwidth ceiling; target >= 50%), with and without flag counting, and the
   speed-up over the CPU kernels (kernel alone, and through numprec.round with the copies);
3. per-step matmul throughput: rounded steps (s = round(s + a*b)) per second for the tiled
   sequential, blocked and fused orders, against the CPU kernels on the same problem;
4. quantization (numprec.kernels.gpu.quant, intmatmul): parity of quantize (every mode, zero
   point before and after rounding, per tensor / channel / group) with numprec.quant.quantize,
   of MX encode (every MX element format and scale rule) with numprec.quant.mx_encode, and of
   the int matmul with exact integers; GB/s of quantize and MX encode on 2^26 float32 elements
   (bytes read + written, against the d2d copy) and int8 matmul TOPS at 4096^3. Each of these
   runs guarded: a kernel that raises is reported (a parity row with the error, counted as a
   mismatch; a throughput row with the error) and the rest still runs.
Writes results.json, parity.csv, throughput.csv and summary.md to --out; exits 1 on any parity
mismatch. --quick uses tiny sizes (it is what CI runs under the CUDA simulator, where timings
mean nothing and are reported as such); under the simulator --quick is implied.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import json
import os
import platform
import sys
import time

import numpy as np
import pandas as pd

from numprec.report.files import atomic_folder, markdown_table

SIZES = {  # full run / quick run
    "round": (1 << 20, 24), "arith": (1 << 18, 16), "decode": (1 << 16, 64),
    "matmul": ((96, 80, 300), (5, 5, 9)), "reduce": ((512, 200), (4, 7)),
    "bandwidth": (1 << 27, 256), "cpu_round": (1 << 24, 256), "perf_matmul": (512, 8),
    "quantize": (1 << 18, 24), "mx_blocks": (1 << 13, 2), "int_matmul": (4, 1),
    "quant_bandwidth": (1 << 26, 256), "perf_int_matmul": (4096, 8),
}
QUICK_FORMATS = ("bf16", "fp8_e4m3fn", "q3.4")


def _every(cases, step):
    """Every step-th case (quick runs sample each sweep instead of running it whole)."""
    return itertools.islice(cases, 0, None, step)


def parity_checks(kernels, quick: bool):
    """Yield one row per check: kernel, format, mode, options, n, mismatches, flags."""
    from numprec.codes import KERNEL_ORDERS
    from numprec.testing import parity as gp
    from numprec.testing import parity_accum as ga
    pick = 1 if quick else 0
    step = 5 if quick else 1
    formats = [f for f in gp.PARITY_FORMATS if not quick or f.name in QUICK_FORMATS]
    for i, (fmt, mode, options) in enumerate(_every(gp.rounding_cases(formats), step)):
        options = dict(options)
        seed = options.pop("seed", 1000 + i)
        x = gp.stress_inputs(fmt, SIZES["round"][pick], seed=i)
        yield gp.check_rounding(kernels, fmt, mode, x, seed=seed, **options)
        if not options and mode in ("rne", "sr"):
            yield gp.check_rounding(kernels, fmt, mode, x, encode=True, seed=seed)
    for fmt in formats:
        yield gp.check_decode(kernels, fmt, gp.pattern_inputs(fmt, SIZES["decode"][pick]))
    for i, (fmt, op, mode, options) in enumerate(_every(gp.arith_cases(formats), step)):
        arity = {"sqrt": 1, "fma": 3}.get(op, 2)
        operands = gp.operand_inputs(fmt, SIZES["arith"][pick], arity, seed=i)
        yield gp.check_arith(kernels, op, fmt, mode, operands, seed=i, **options)
    m, n, k = SIZES["matmul"][pick]
    for i, (order, mode, formats_, options) in enumerate(_every(ga.matmul_cases(), step)):
        formats_ = dict(formats_)
        inputs = formats_.pop("inputs", "bf16")
        a = ga.grid_operands(inputs, (2, m, k), seed=i)
        b = ga.grid_operands(inputs, (2, k, n), seed=i + 1)
        yield ga.check_matmul(kernels, order, mode, a, b, [0, 1, 0], [0, 0, 1], seed=i,
                              **formats_, **options)
    rows, n = SIZES["reduce"][pick]
    x = ga.grid_operands("bf16", (rows, n), seed=2, specials=True)
    y = ga.grid_operands("bf16", (rows, n), seed=3)
    for order in KERNEL_ORDERS:
        for mode in ("rne",) if quick else ("rne", "sr"):
            yield ga.check_reduce(kernels, order, mode, x, y, acc="bf16", out="fp16", seed=5)
    yield from quant_parity_checks(quick)


def _failed(kernel, label, error):
    """A parity row for a check whose kernel raised: reported, and counted as a mismatch."""
    from numprec.testing.parity import Parity
    return Parity(kernel, label, "-", {}, 0, 1, f"ERROR {type(error).__name__}: {error}"[:500])


def _guarded(kernel, label, check):
    try:
        return check()
    except Exception as error:  # noqa: BLE001 (report any failure, go on with the rest)
        return _failed(kernel, label, error)


def quant_parity_checks(quick: bool):
    """The GPU quantization kernels against the CPU (numprec.testing.parity_quant), guarded:
    a kernel that fails to import, compile or run gives one failed row and the rest runs."""
    try:
        from numprec.kernels.gpu import intmatmul as gpu_intmatmul
        from numprec.kernels.gpu import quant as gpu_quant
        from numprec.testing import parity_quant as pq
    except Exception as error:  # noqa: BLE001
        for kernel in ("quantize", "mx_encode", "int_matmul"):
            yield _failed(kernel, "import", error)
        return
    pick = 1 if quick else 0
    step = 3 if quick else 1
    n = SIZES["quantize"][pick]
    for i, (options, recipe) in enumerate(_every(pq.quantize_cases(), step)):
        yield _guarded("quantize", f"int{options['bits']}", lambda: pq.check_quantize(
            gpu_quant, pq.quantize_case_inputs(recipe, n, seed=i), seed=100 + i, **options))
    nblocks = SIZES["mx_blocks"][pick]
    for i, (elem, options) in enumerate(_every(pq.mx_cases(), step)):
        block = options.get("block", 32)
        dtype = np.float32 if i % 2 else np.float64
        yield _guarded("mx_encode", elem, lambda: pq.check_mx(
            gpu_quant, pq.mx_blocks(elem, nblocks, block, seed=i, dtype=dtype), elem,
            **options))
    grow = SIZES["int_matmul"][pick]
    for i, (a_dtype, b_dtype, (m, n_, k), extremes, options) in enumerate(
            _every(pq.int_matmul_cases(), step)):
        g = 1 if any(np.ndim(v) for v in options.values()) else grow  # (zero points of a shape)
        shape = (m * g, n_ * g, k * g * g)
        yield _guarded("int_matmul", f"{np.dtype(a_dtype).name}x{np.dtype(b_dtype).name}",
                       lambda: pq.check_int_matmul(
                           gpu_intmatmul, pq.int_operands(shape[0::2], a_dtype, seed=i,
                                                          extremes=extremes),
                           pq.int_operands(shape[2:0:-1], b_dtype, seed=i + 1,
                                           extremes=extremes), **options))


class Timer:
    """Seconds per call of a GPU operation: CUDA events on a GPU, wall time in the simulator."""

    def __init__(self, simulator: bool):
        self.simulator = simulator

    def __call__(self, func, repeat: int) -> float:
        from numprec.kernels.gpu.arrays import quiet_simulator
        with quiet_simulator():
            return self._median(func, repeat)

    def _median(self, func, repeat: int) -> float:
        from numba import cuda
        func()  # warm-up (compilation)
        cuda.synchronize()
        times = []
        for _ in range(repeat):
            if self.simulator:
                start = time.perf_counter()
                func()
                times.append(time.perf_counter() - start)
                continue
            begin, end = cuda.event(), cuda.event()
            begin.record()
            func()
            end.record()
            end.synchronize()
            times.append(begin.elapsed_time(end) / 1e3)
        return float(np.median(times))


def _cpu_time(func, repeat: int) -> float:
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def rounding_throughput(quick: bool, timer: Timer):
    """Rows of GB/s for a device-to-device copy and the rounding kernel on the same bytes."""
    import numprec
    from numba import cuda
    from numprec.codes import MODE_CODE, NCOUNTS, SR_MAX_BITS, TALLY_SLOTS
    from numprec.kernels.cpu import rounding as cpu_rounding
    from numprec.kernels.gpu import rounding as gpu_rounding
    from numprec.kernels.gpu.arrays import launch_shape
    pick = 1 if quick else 0
    n = SIZES["bandwidth"][pick]
    repeat = 1 if quick else 10
    x = np.random.default_rng(0).standard_normal(n)
    d_x, d_out = cuda.to_device(x), cuda.device_array(n)
    moved = 16 * n  # bytes read + written, by the copy and by rounding alike
    copy = timer(lambda: d_out.copy_to_device(d_x), repeat)
    rows = [dict(kind="d2d copy", format="-", mode="-", flags=False, n=n, seconds=copy,
                 gb_per_s=moved / copy / 1e9, fraction_of_copy=1.0)]
    tallies = cuda.to_device(np.zeros(TALLY_SLOTS, dtype=np.int64))
    blocks, threads = launch_shape(n)
    n_cpu = SIZES["cpu_round"][pick]
    x_cpu, out_cpu = x[:n_cpu].copy(), np.empty(n_cpu)
    for name in ("bf16",) if quick else ("fp32", "bf16", "fp16", "fp8_e4m3fn", "fp4_e2m1fn"):
        P = numprec.get_format(name).kernel_params
        for mode in ("rne", "sr"):
            for flags in (False, True):
                args = (P, MODE_CODE[mode], False, False, np.uint64(12345), 0, SR_MAX_BITS,
                        flags)
                seconds = timer(lambda: gpu_rounding.rounding_kernel[blocks, threads](
                    False, d_x, d_out, *args, tallies), repeat)
                counts = np.zeros(NCOUNTS, dtype=np.int64)
                cpu_seconds = _cpu_time(lambda: cpu_rounding.round_into(x_cpu, out_cpu, *args,
                                                                        counts),
                                        repeat) / n_cpu * n
                rows.append(dict(kind="round kernel", format=name, mode=mode, flags=flags, n=n,
                                 seconds=seconds, gb_per_s=moved / seconds / 1e9,
                                 fraction_of_copy=copy / seconds,
                                 cpu_seconds_same_n=cpu_seconds,
                                 speedup_vs_cpu=cpu_seconds / seconds))
    for mode in ("rne", "sr"):  # the public op on host arrays: copies in and out included
        host = x[:n_cpu]
        gpu_s = _cpu_time(lambda: numprec.round(host, "bf16", mode, seed=1, backend="gpu"), repeat)
        cpu_s = _cpu_time(lambda: numprec.round(host, "bf16", mode, seed=1, backend="cpu"), repeat)
        rows.append(dict(kind="numprec.round host->host", format="bf16", mode=mode, flags=False,
                         n=n_cpu, seconds=gpu_s, gb_per_s=16 * n_cpu / gpu_s / 1e9,
                         fraction_of_copy=float("nan"), cpu_seconds_same_n=cpu_s,
                         speedup_vs_cpu=cpu_s / gpu_s))
    return rows


def matmul_throughput(quick: bool, timer: Timer):
    """Rows of rounded matmul steps per second, GPU tiled kernels against the CPU kernels."""
    from numba import cuda
    from numprec.codes import MODE_CODE
    from numprec.kernels.cpu import accum as cpu_accum
    from numprec.kernels.cpu import sequential_matmul as cpu_sequential
    from numprec.kernels.gpu import accum as gpu_accum
    from numprec.kernels.gpu.arrays import tile_grid
    from numprec.testing import parity_accum as ga
    import numprec
    size = SIZES["perf_matmul"][1 if quick else 0]
    repeat = 1 if quick else 3
    a = ga.grid_operands("bf16", (1, size, size), seed=1)
    b = ga.grid_operands("bf16", (1, size, size), seed=2)
    bt = np.ascontiguousarray(np.swapaxes(b, -1, -2)).reshape(-1)
    batch = np.zeros(1, dtype=np.int64)
    d_a, d_b, d_bt = (cuda.to_device(v.reshape(-1)) for v in (a, b, bt))
    d_batch = cuda.to_device(batch)
    d_out = cuda.device_array(size * size)
    d_flags = cuda.device_array(size * size, dtype=np.int64)
    out, row_flags = np.empty(size * size), np.zeros(size * size, dtype=np.int64)
    P = numprec.get_format("fp32").kernel_params
    PB = P
    steps = size ** 3
    rows = []
    for order, mode in (("sequential", "rne"), ("sequential", "sr"), ("blocked", "rne"),
                        ("fused", "rne")):
        C = ga.accumulation_config(order, mode, block=128, terms=32, width=14)
        keys = ga.accumulation_keys(7)
        d_keys = cuda.to_device(keys)
        if order == "fused":
            grid, tile = tile_grid(1, size, size, gpu_accum.FUSED_TILE), gpu_accum.FUSED_TILE

            def run_gpu():
                gpu_accum.matmul_fused_kernel[grid, (tile, tile)](
                    d_a, d_bt, d_batch, d_batch, size, size, size, d_out, C, P, P, d_keys,
                    d_flags)
        else:
            grid, tile = tile_grid(1, size, size, gpu_accum.TILE), gpu_accum.TILE

            def run_gpu():
                gpu_accum.matmul_streaming_kernel[grid, (tile, tile)](
                    d_a, d_b, False, d_batch, d_batch, size, size, size, d_out, C, P, P, PB, P,
                    d_keys, d_flags)
        if order == "sequential":
            def run_cpu():
                cpu_sequential.matmul_sequential_kernel(a.reshape(-1), b.reshape(-1), batch,
                                                        batch, size, size, size, out, C, P, P,
                                                        keys, row_flags, MODE_CODE[mode])
        else:
            def run_cpu():
                cpu_accum.matmul_kernel(a.reshape(-1), bt, batch, batch, size, size, size, out,
                                        C, P, P, PB, P, keys, row_flags)
        gpu_s = timer(run_gpu, repeat)
        cpu_s = _cpu_time(run_cpu, repeat)
        rows.append(dict(kind=f"matmul {order}", format="acc fp32, bf16 inputs", mode=mode,
                         flags=True, n=steps, seconds=gpu_s, steps_per_s=steps / gpu_s,
                         cpu_seconds_same_n=cpu_s, speedup_vs_cpu=cpu_s / gpu_s))
    return rows


def _quant_rows(kind, measure):
    """Rows of one guarded throughput measurement: its rows, or one row naming the error."""
    try:
        return measure()
    except Exception as error:  # noqa: BLE001 (report the failure, go on with the rest)
        return [dict(kind=kind, format="-", mode="-", n=0, seconds=float("nan"),
                     error=f"{type(error).__name__}: {error}"[:500])]


def quant_throughput(quick: bool, timer: Timer, copy_gb_per_s: float):
    """GB/s (bytes read + written) of quantize and MX encode on device-resident float32 data,
    against the d2d copy's GB/s, and int matmul TOPS (2 m n k integer ops per second)."""
    from numba import cuda
    from numprec.codes import MODE_CODE, NCOUNTS, SR_MAX_BITS, STREAM_ARITH, STREAM_ROUND
    from numprec.formats import FixedPoint, get_format
    from numprec.kernels.scalar.rng import key_from_seed
    pick = 1 if quick else 0
    n = SIZES["quant_bandwidth"][pick]
    repeat = 1 if quick else 10
    x = (np.random.default_rng(0).standard_normal(n) * 3).astype(np.float32)
    d_x = cuda.to_device(x)

    def quantize_rows():
        from numprec.kernels.gpu import quant as gq
        d_q = cuda.device_array(n, dtype=np.int8)
        P_div, P_add = FixedPoint(10, 0).kernel_params, FixedPoint(11, 0).kernel_params
        rows = []
        channels = min(1024, n // 4)
        for mode, label, layout, params in (
                ("rne", "per tensor", gq.param_layout((n,)), 1),
                ("sr", "per tensor", gq.param_layout((n,)), 1),
                ("rne", f"per channel ({channels})",
                 gq.param_layout((n // channels, channels), 1), channels)):
            key = key_from_seed(1, STREAM_ARITH["div"]) if mode == "sr" else 0
            scale, zp = np.full(params, 0.02), np.zeros(params, dtype=np.int64)
            seconds = timer(lambda: gq.quantize_into(
                d_x, d_q, scale, zp, layout, P_div, P_add, MODE_CODE[mode], False, key, 0,
                SR_MAX_BITS, -128, 127), repeat)
            moved = 5 * n  # float32 read, int8 written
            rows.append(dict(kind="quantize kernel", format=f"int8 {label}", mode=mode, n=n,
                             seconds=seconds, gb_per_s=moved / seconds / 1e9,
                             fraction_of_copy=moved / seconds / 1e9 / copy_gb_per_s))
        return rows

    def mx_rows():
        from numprec.kernels.gpu import quant as gq
        d_codes = cuda.device_array(n, dtype=np.uint8)
        d_scales = cuda.device_array(n // 32, dtype=np.uint8)
        counts = np.zeros(NCOUNTS, dtype=np.int64)
        rows = []
        for elem, rule, mode in (("fp8_e4m3fn", "floor", "rne"), ("fp8_e4m3fn", "rceil", "rne"),
                                 ("fp4_e2m1fn", "floor", "rne"), ("fp4_e2m1fn", "floor", "sr")):
            key = key_from_seed(1, STREAM_ROUND) if mode == "sr" else 0
            seconds = timer(lambda: gq.mx_encode_into(
                d_x, d_codes, d_scales, 32, get_format(elem), rule, "nan", "nan-scale", 8,
                MODE_CODE[mode], key, SR_MAX_BITS, False, counts), repeat)
            moved = 4 * n + n + n // 32  # float32 read, codes and scales written
            rows.append(dict(kind="mx_encode kernel", format=f"{elem} {rule}", mode=mode, n=n,
                             seconds=seconds, gb_per_s=moved / seconds / 1e9,
                             fraction_of_copy=moved / seconds / 1e9 / copy_gb_per_s))
        return rows

    def int_matmul_rows():
        from numprec.kernels.gpu import intmatmul as gi
        size = SIZES["perf_int_matmul"][pick]
        rng = np.random.default_rng(1)
        d_a = cuda.to_device(rng.integers(-128, 128, size * size).astype(np.int8))
        d_b = cuda.to_device(rng.integers(-128, 128, size * size).astype(np.int8))
        d_out = cuda.device_array(size * size, dtype=np.int32)
        rows = []
        for overflow in ("wrap", "saturate"):
            seconds = timer(lambda: gi.int_matmul_into(d_a, d_b, 0, 0, 1, size, size, size, 32,
                                                       overflow == "saturate", d_out),
                            1 if quick else 3)
            ops = 2 * size ** 3
            rows.append(dict(kind="int_matmul kernel", format="int8 x int8 -> int32",
                             mode=overflow, n=ops, seconds=seconds, tops=ops / seconds / 1e12))
        return rows

    return (_quant_rows("quantize kernel", quantize_rows) + _quant_rows("mx_encode kernel",
                                                                         mx_rows)
            + _quant_rows("int_matmul kernel", int_matmul_rows))


def _markdown(info, parity, throughput, simulator) -> str:
    bad = parity[(parity.mismatches > 0) | (parity.flags_cpu != parity.flags_gpu)]
    by_kernel = parity.groupby("kernel", sort=False).agg(
        checks=("n", "size"), elements=("n", "sum"),
        mismatching=("mismatches", lambda v: int((v > 0).sum()))).reset_index()
    verdict = ("**every check bit-identical to the CPU kernels, flags included**" if bad.empty
               else f"**{len(bad)} checks MISMATCH** (see parity.csv)")
    lines = ["# GPU check", "", f"- device: {info['device']}",
             f"- run: {info['when']}, {info['seconds']:.0f} s, numba {info['numba']}, "
             f"numba-cuda {info['numba_cuda']}, {'quick sizes' if info['quick'] else 'full sizes'}",
             f"- parity: {len(parity)} checks over {int(parity.n.sum())} elements: {verdict}", "",
             markdown_table(by_kernel), ""]
    if simulator:
        lines += ["Timings below come from the CUDA simulator and mean nothing.", ""]
    rounding = throughput[throughput.kind.str.startswith(("d2d", "round", "numprec"))]
    lines += ["## Rounding throughput (bytes read + written per second)", "",
              markdown_table(rounding, ["kind", "format", "mode", "flags", "n", "gb_per_s",
                                        "fraction_of_copy", "speedup_vs_cpu"]), ""]
    matmul = throughput[throughput.kind.str.startswith("matmul")]
    lines += ["## Matmul: rounded steps s = round(s + a*b) per second", "",
              markdown_table(matmul, ["kind", "format", "mode", "n", "steps_per_s",
                                      "speedup_vs_cpu"]), ""]
    quant = throughput[throughput.kind.str.startswith(("quantize", "mx_encode", "int_matmul"))]
    columns = [c for c in ("kind", "format", "mode", "n", "gb_per_s", "fraction_of_copy", "tops",
                           "error") if c in quant.columns and quant[c].notna().any()]
    lines += ["## Quantization kernels (GB/s: bytes read + written; TOPS: 2 m n k per second)",
              "", markdown_table(quant, columns) if len(quant) else "(not measured)", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="reports/gpu", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (implied under the "
                        "CUDA simulator)")
    args = parser.parse_args(argv)
    started = time.time()
    import numba
    from numba import cuda
    from numprec.kernels import gpu
    kernels = gpu.kernel_set()  # clear error without a GPU or the simulator
    from numprec.kernels.gpu.compiler import SIMULATOR
    quick = args.quick or SIMULATOR
    timer = Timer(SIMULATOR)
    info = dict(device=kernels.device, simulator=SIMULATOR, quick=quick,
                when=time.strftime("%Y-%m-%d %H:%M:%S"), host=platform.node(),
                cpus=os.cpu_count(), numba=numba.__version__,
                numba_cuda=importlib.metadata.version("numba-cuda"))
    if not SIMULATOR:
        device = cuda.get_current_device()
        info.update(compute_capability=list(device.compute_capability),
                    sm_count=device.MULTIPROCESSOR_COUNT)
    print(f"gpu_check on {info['device']} (quick={quick})", flush=True)
    parity_rows = []
    for result in parity_checks(kernels, quick):
        parity_rows.append(dict(kernel=result.kernel, format=result.fmt, mode=result.mode,
                                options=json.dumps(result.options, sort_keys=True), n=result.n,
                                mismatches=result.mismatches, first=result.first,
                                flags_cpu=str(result.flags_cpu), flags_gpu=str(result.flags_gpu)))
        if not result.ok:
            print("MISMATCH", result.describe(), flush=True)
    parity = pd.DataFrame(parity_rows)
    print(f"parity: {len(parity)} checks, {int((parity.mismatches > 0).sum())} mismatching "
          f"({time.time() - started:.0f} s)", flush=True)
    rounding_rows = rounding_throughput(quick, timer)
    copy_gb_per_s = rounding_rows[0]["gb_per_s"]
    throughput = pd.DataFrame(rounding_rows + matmul_throughput(quick, timer)
                              + quant_throughput(quick, timer, copy_gb_per_s))
    info["seconds"] = time.time() - started
    summary = _markdown(info, parity, throughput, SIMULATOR)
    with atomic_folder(args.out) as folder:
        parity.to_csv(folder / "parity.csv", index=False)
        throughput.to_csv(folder / "throughput.csv", index=False)
        (folder / "results.json").write_text(json.dumps(
            dict(info=info, parity=parity_rows, throughput=throughput.to_dict("records")),
            indent=1, default=float))
        (folder / "summary.md").write_text(summary)
    print(summary)
    ok = bool((parity.mismatches == 0).all() and (parity.flags_cpu == parity.flags_gpu).all())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
