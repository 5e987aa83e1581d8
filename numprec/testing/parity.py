"""Bit-for-bit comparison of a kernel set (the GPU's) with the CPU kernel set.

Shared by the simulator tests (small inputs) and analysis/gpu_check.py (large inputs on a real
GPU). Both sets are driven through the same entry points (numprec.kernels.ENTRY_POINTS) with the
same arguments. Inputs are chosen where rounding code breaks: every region of a format's grid (zero,
subnormals, the normal/subnormal boundary, max and beyond), exact midpoints between neighbours and
their float64 neighbours, random points between neighbours, and the special values. Results are
compared as bit patterns (signed zeros and NaN payloads included) together with the flag counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..codes import (ARITH_OPS, BINARY_OPS, MODE_CODE, MODES, NCOUNTS, SR, SR_MAX_BITS,
                     STREAM_ARITH, STREAM_ROUND)
from ..formats import Format, get_format
from ..kernels import cpu
from ..kernels.scalar.rng import key_from_seed

CPU = cpu.kernel_set()

# Every registered format (the unsigned block scales E8M0 and UE4M3 included), formats with
# unusual corners (no subnormals, no mantissa bits, an odd bias) and fixed point of several shapes
# (signed, unsigned, wide, wrapping on overflow).
PARITY_FORMATS = tuple(get_format(name) for name in (
    "fp64", "fp32", "tf32", "fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3fnuz",
    "fp8_e5m2fnuz", "fp6_e3m2fn", "fp6_e2m3fn", "fp4_e2m1fn", "fp8_e8m0fnu", "fp8_ue4m3",
    "int8", "q3.4", "uq2.5", "q20.31", "int8_wrap", "q3.4_wrap", "uq2.5_wrap")) + (Format("e5m2_nosub", 5, 2, subnormals=False), Format("e3m0_fn", 3, 0, nan="fn"),
                  Format("e4m2_bias3", 4, 2, bias=3))
SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])


def _decode(patterns, fmt):
    out = np.empty(patterns.shape, dtype=np.float64)
    CPU.decode_into(patterns.astype(np.int64), out, fmt.kernel_params)
    return out


def positive_patterns(fmt):
    """The range [0, top] of the patterns of nonnegative values in increasing order."""
    if not fmt.signed:  # unsigned fixed point and unsigned float formats
        return 0, (1 << fmt.nbits) - 1
    return 0, (1 << (fmt.nbits - 1)) - 1


def stress_inputs(fmt, n: int, seed: int = 0) -> np.ndarray:
    """n float64 inputs for rounding to fmt (the specials always included)."""
    fmt = get_format(fmt)
    rng = np.random.default_rng(seed)
    low, top = positive_patterns(fmt)
    # Consecutive grid points a < b: random ones, and the bottom and top of the grid.
    p = rng.integers(low, top, size=max(n // 6, 8), dtype=np.uint64, endpoint=False)
    p = np.concatenate([p, np.arange(low, min(low + 4, top), dtype=np.uint64),
                        np.arange(max(top - 4, low), top, dtype=np.uint64)])
    a, b = _decode(p, fmt), _decode(p + np.uint64(1), fmt)
    finite = np.isfinite(a) & np.isfinite(b) & (b > a)
    a, b = a[finite], b[finite]
    with np.errstate(over="ignore", invalid="ignore"):
        mid = a + (b - a) / 2
        between = a + (b - a) * rng.random(a.size)
        big = fmt.max
        beyond = np.array([big, big * (1 + fmt.eps / 2), big * (1 + fmt.eps), 2 * big, 1e300,
                           fmt.min_subnormal / 2, fmt.min_subnormal * 0.75, 5e-324, 1e-310])
        pool = np.concatenate([a, b, mid, np.nextafter(mid, 0.0), np.nextafter(mid, np.inf),
                               between, beyond, np.nextafter(beyond, 0.0)])
    pool = np.abs(pool[np.isfinite(pool)])
    pool = pool * np.where(rng.random(pool.size) < 0.5, -1.0, 1.0)
    picked = rng.choice(pool, size=max(n - SPECIALS.size, 0), replace=pool.size < n)
    x = np.concatenate([SPECIALS[:n], picked])
    return x[rng.permutation(x.size)]


def pattern_inputs(fmt, n: int, seed: int = 0) -> np.ndarray:
    """n bit patterns of fmt (int64): all of them when there are at most n, else random ones
    plus the top and bottom of each sign."""
    fmt = get_format(fmt)
    count = 1 << fmt.nbits
    if count <= n:
        return np.arange(count, dtype=np.int64)
    rng = np.random.default_rng(seed)
    edges = np.array([0, 1, count // 2 - 1, count // 2, count // 2 + 1, count - 1], dtype=np.uint64)
    drawn = rng.integers(0, count - 1, size=n - edges.size, dtype=np.uint64, endpoint=True)
    return np.concatenate([edges, drawn]).astype(np.int64)  # fp64 patterns wrap to int64 exactly


@dataclass
class Parity:
    """The outcome of one CPU/GPU comparison."""

    kernel: str
    fmt: str
    mode: str
    options: dict
    n: int
    mismatches: int
    first: str = ""
    flags_cpu: list = field(default_factory=list)
    flags_gpu: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.flags_cpu == self.flags_gpu

    def describe(self) -> str:
        head = f"{self.kernel} {self.fmt} {self.mode} {self.options} n={self.n}"
        if self.ok:
            return head + ": identical"
        return (f"{head}: {self.mismatches} mismatching element(s) {self.first}; flags cpu "
                f"{self.flags_cpu} gpu {self.flags_gpu}")


def _compare(kernel, fmt, mode, options, inputs, cpu_out, gpu_out, flags_cpu, flags_gpu):
    cpu_bits = cpu_out.view(np.int64) if cpu_out.dtype == np.float64 else cpu_out
    gpu_bits = gpu_out.view(np.int64) if gpu_out.dtype == np.float64 else gpu_out
    bad = np.flatnonzero(cpu_bits != gpu_bits)
    first = ""
    if bad.size:
        i = bad[0]
        first = (f"(first at [{i}]: input {inputs[i]!r}, cpu {cpu_out[i]!r} "
                 f"{int(cpu_bits[i]) & (2**64 - 1):#x}, gpu {gpu_out[i]!r} "
                 f"{int(gpu_bits[i]) & (2**64 - 1):#x})")
    return Parity(kernel, fmt.name, mode, options, int(inputs.size), int(bad.size), first,
                  [int(c) for c in flags_cpu], [int(c) for c in flags_gpu])


def _run(entries, inputs, dtype, fmt, code, saturate, ftz, key, offset, rbits, lead=()):
    """Run the CPU and the GPU entry point on the same arguments: (outputs, counts, returns)."""
    outs, counts, returned = [], [], []
    for entry in entries:
        out = np.empty(inputs[0].size, dtype=dtype)
        tally = np.zeros(NCOUNTS, dtype=np.int64)
        returned.append(entry(*lead, *inputs, out, fmt.kernel_params, code, saturate, ftz, key,
                              offset, rbits, True, tally))
        outs.append(out)
        counts.append(tally)
    return outs, counts, returned


def _options(saturate, ftz, rbits, offset):
    return {k: v for k, v in dict(saturate=saturate, ftz=ftz, rbits=rbits,
                                  offset=offset).items() if v not in (False, 0, SR_MAX_BITS)}


def check_rounding(gpu_set, fmt, mode, x, *, encode=False, saturate=False, ftz=False, seed=0,
                   rbits=None, offset=0) -> Parity:
    """round_into (or encode_into) on the GPU set against the CPU kernel, same arguments."""
    fmt = get_format(fmt)
    code = MODE_CODE[mode]
    rbits = SR_MAX_BITS if rbits is None else rbits
    key = np.uint64(key_from_seed(seed, STREAM_ROUND) if code == SR else 0)
    x = np.ascontiguousarray(x, dtype=np.float64)
    entry = "encode_into" if encode else "round_into"
    entries = (getattr(CPU, entry), getattr(gpu_set, entry))
    outs, counts, returned = _run(entries, [x], np.int64 if encode else np.float64, fmt, code,
                                  saturate, ftz, key, offset, rbits)
    if encode:  # the unencodable count is part of the result: elements whose code is -1
        counts = [np.append(counts[0], np.count_nonzero(outs[0] == -1)),
                  np.append(counts[1], returned[1])]
    return _compare("encode" if encode else "round", fmt, mode,
                    _options(saturate, ftz, rbits, offset), x, outs[0], outs[1], counts[0],
                    counts[1])


def check_arith(gpu_set, op, fmt, mode, operands, *, saturate=False, ftz=False, seed=0,
                rbits=None) -> Parity:
    """One arithmetic op (numprec.codes.ARITH_OPS) of the GPU set against the CPU's, same
    arguments."""
    fmt = get_format(fmt)
    code = MODE_CODE[mode]
    rbits = SR_MAX_BITS if rbits is None else rbits
    key = np.uint64(key_from_seed(seed, STREAM_ARITH[op]) if code == SR else 0)
    inputs = [np.ascontiguousarray(v, dtype=np.float64) for v in operands]
    entry = "binary_into" if op in BINARY_OPS else f"{op}_into"
    entries = (getattr(CPU, entry), getattr(gpu_set, entry))
    lead = (BINARY_OPS[op],) if op in BINARY_OPS else ()
    outs, counts, _ = _run(entries, inputs, np.float64, fmt, code, saturate, ftz, key, 0, rbits,
                           lead)
    return _compare(op, fmt, mode, _options(saturate, ftz, rbits, 0), inputs[0], outs[0],
                    outs[1], counts[0], counts[1])


def operand_inputs(fmt, n: int, count: int, seed: int = 0) -> list:
    """`count` operand arrays of n elements for arithmetic into fmt: values near fmt's grid,
    with equal and neighbouring pairs (cancellation), wide-range values (the scaled paths of
    add, far-apart fma addends) and special values in every position."""
    rng = np.random.default_rng(seed)
    operands = [stress_inputs(fmt, n, seed + 17 * k) for k in range(count)]
    if count > 1:
        pick = rng.random(n) < 0.15
        with np.errstate(over="ignore"):
            neighbours = np.nextafter(operands[0], np.inf)
        operands[1][pick] = np.where(rng.random(n) < 0.5, operands[0], neighbours)[pick]
    wide = rng.random((count, n)) < 0.1
    spread = (rng.standard_normal((count, n))
              * 2.0 ** rng.integers(-1070, 1020, size=(count, n)).astype(np.float64))
    for k in range(count):
        operands[k][wide[k]] = spread[k][wide[k]]
    return operands


def arith_cases(formats=PARITY_FORMATS, modes=MODES):
    """(format, op, mode, options): every op in every mode into bf16; every op in rne and sr into
    formats with distinct corners; add and fma in sr into the rest; saturation, flush-to-zero."""
    corners = ("fp64", "fp32", "fp8_e4m3fn", "fp4_e2m1fn", "q3.4", "e5m2_nosub", "fp8_e8m0fnu",
               "q3.4_wrap")
    for fmt in formats:
        if fmt.name == "bf16":
            cases = [(op, mode) for op in ARITH_OPS for mode in modes]
        elif fmt.name in corners:
            cases = [(op, mode) for op in ARITH_OPS for mode in ("rne", "sr")]
        else:
            cases = [("add", "sr"), ("fma", "sr")]
        for op, mode in cases:
            yield fmt, op, mode, {}
        if fmt.name in corners:
            yield fmt, "fma", "rne", {"saturate": True}
            yield fmt, "sub", "rdn", {"ftz": True}


def check_decode(gpu_set, fmt, bits) -> Parity:
    fmt = get_format(fmt)
    bits = np.ascontiguousarray(bits, dtype=np.int64)
    outs = []
    for entry in (CPU.decode_into, gpu_set.decode_into):
        out = np.empty(bits.size, dtype=np.float64)
        entry(bits, out, fmt.kernel_params)
        outs.append(out)
    return _compare("decode", fmt, "-", {}, bits, outs[0], outs[1], [], [])


def rounding_cases(formats=PARITY_FORMATS, modes=MODES):
    """(format, mode, options) of the rounding sweep: every format and mode, plus saturation,
    flush-to-zero and a short stochastic draw where they change results."""
    for fmt in formats:
        for mode in modes:
            yield fmt, mode, {}
        yield fmt, "rne", {"saturate": True}
        yield fmt, "rdn", {"ftz": True}
        yield fmt, "sr", {"rbits": 3, "offset": 1000, "seed": 7}
