"""Bit-for-bit comparison of the GPU quantization kernels (numprec.kernels.gpu.quant,
numprec.kernels.gpu.intmatmul) with the CPU: numprec.quant.quantize and numprec.quant.bfp_encode
(mx_encode) called as black boxes, and the exact NumPy integer product for the int matmul.

Shared by the simulator tests (tests/kernels/gpu/gpu_quant_cases.py, small inputs) and
analysis/gpu_check.py (large inputs on a real GPU). Inputs come from where the rounding breaks:
exact ties of x / scale and their float64 neighbours, values beyond the integer range, signed
zeros, float64 subnormals, NaN and inf; MX blocks whose amax sits on a scale rule's boundary
(powers of two and one ulp either side, the element's max times a power of two, the `even`
rounding point), all-zero blocks, blocks with NaN or inf, tiny and huge blocks, element ties.
Results are numprec.testing.parity.Parity rows (their `flags_*`: the counts each side reports).
"""
from __future__ import annotations

import math

import numpy as np

from ..codes import FLAG_NAMES
from ..formats import get_format
from .parity import Parity

SATURATED = FLAG_NAMES.index("saturated")
SPECIALS = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -5e-324, 1e-310])


def _mismatch(kernel, fmt, mode, options, expected, got, inputs, flags_cpu, flags_gpu):
    expected = np.asarray(expected).reshape(-1)
    got = np.asarray(got).reshape(-1)
    if expected.shape != got.shape or expected.dtype != got.dtype:
        first = (f"(cpu {expected.dtype}{expected.shape}, gpu {got.dtype}{got.shape}: the "
                 "layouts differ)")
        return Parity(kernel, fmt, mode, options, int(expected.size), max(expected.size, 1),
                      first, flags_cpu, flags_gpu)
    bad = np.flatnonzero(expected != got)
    first = ""
    if bad.size:
        i = int(bad[0])
        shown = inputs.reshape(-1)[i] if inputs is not None and i < inputs.size else "-"
        first = f"(first at [{i}]: input {shown!r}, cpu {expected[i]!r}, gpu {got[i]!r})"
    return Parity(kernel, fmt, mode, options, int(expected.size), int(bad.size), first,
                  [int(c) for c in flags_cpu], [int(c) for c in flags_gpu])


# --- quantize -------------------------------------------------------------------------------------
def quantize_inputs(n: int, scale: float, bits: int = 8, signed: bool = True, zero_point: int = 0,
                    seed: int = 0, dtype=np.float64) -> np.ndarray:
    """n inputs for quantize with one scale: exact multiples and exact ties k + 1/2 of the
    scale (when the products are exact) and their float64 neighbours, across and beyond the
    integer range, random values, and the specials (NaN, +-inf, signed zeros, subnormals)."""
    rng = np.random.default_rng(seed)
    qmin, qmax = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    k = rng.integers(qmin - zero_point - 3, qmax - zero_point + 4, size=max(n // 4, 8))
    k = np.concatenate([k, [qmin - zero_point, qmax - zero_point, qmin - zero_point - 1,
                            qmax - zero_point + 1, 0, -1]]).astype(np.float64)
    with np.errstate(over="ignore"):
        t = np.concatenate([k, k + 0.5, k - 0.5, k + 0.25])
        v = t * scale
        pool = np.concatenate([v, np.nextafter(v, np.inf), np.nextafter(v, -np.inf),
                               rng.standard_normal(max(n // 4, 4)) * scale * (qmax - qmin) / 3,
                               [scale * 1e6, -scale * 1e6, scale * 2.0 ** -30]])
    pool = pool[np.isfinite(pool)].astype(dtype)
    pool = pool[np.isfinite(pool)]
    picked = rng.choice(pool, size=max(n - SPECIALS.size, 0), replace=pool.size < n)
    x = np.concatenate([SPECIALS[:n].astype(dtype), picked])
    return x[rng.permutation(x.size)]


def check_quantize(gpu_quant, x, *, bits=8, signed=True, scale=None, zero_point=None, axis=None,
                   group=None, mode="rne", seed=0, zero_point_before_rounding=False) -> Parity:
    """gpu_quant.quantize (numprec.kernels.gpu.quant) against numprec.quant.quantize with
    nonfinite="clamp": codes, dtype and shape, and the counts [saturated, nan, +inf, -inf]."""
    from .. import Flags
    from ..quant import quantize
    flags = Flags()
    ref = quantize(x, bits, signed=signed, axis=axis, group=group, scale=scale,
                   zero_point=zero_point, mode=mode, seed=seed, nonfinite="clamp",
                   zero_point_before_rounding=zero_point_before_rounding, flags=flags)
    q, counts = gpu_quant.quantize(x, ref.scale, ref.zero_point, bits=bits, signed=signed,
                                   axis=axis, group=group, mode=mode, seed=seed,
                                   zero_point_before_rounding=zero_point_before_rounding)
    nonfinite = ref.nonfinite_counts
    cpu_counts = [int(flags.all[SATURATED]), nonfinite["nan"], nonfinite["posinf"],
                  nonfinite["neginf"]]
    gpu_counts = [counts["saturated"], counts["nan"], counts["posinf"], counts["neginf"]]
    granularity = "tensor" if axis is None else (f"channel axis={axis}" if group is None
                                                 else f"group {group} axis={axis}")
    options = dict(bits=bits, signed=signed, granularity=granularity, dtype=str(x.dtype),
                   zp_before=bool(zero_point_before_rounding))
    return _mismatch("quantize", f"{'' if signed else 'u'}int{bits}", mode, options, ref.q, q, x,
                     cpu_counts, gpu_counts)


def quantize_cases(modes=("rne", "rna", "rtz", "rup", "rdn", "rto", "sr")):
    """(options for check_quantize, input recipe): every mode with the zero point after and
    before rounding, per tensor, per channel and per group, power-of-two and odd scales,
    signed and unsigned, 4, 8 and 16 bits, float32 and float64 input."""
    for mode in modes:
        for zpb in (False, True):
            yield dict(bits=8, signed=True, scale=0.25, zero_point=3, mode=mode,
                       zero_point_before_rounding=zpb), dict(scale=0.25, zero_point=3)
            yield dict(bits=8, signed=False, scale=0.1, zero_point=128, mode=mode,
                       zero_point_before_rounding=zpb), dict(scale=0.1, zero_point=128,
                                                             signed=False)
    for mode in ("rne", "sr", "rdn"):
        yield dict(bits=4, signed=True, scale=np.array([0.5, 0.3, 2.0 ** -10]), axis=1,
                   zero_point=np.array([0, -2, 7]), mode=mode), dict(scale=0.3, shape=(-1, 3),
                                                                       bits=4)
        yield dict(bits=16, signed=False, scale=np.array([[1e-3, 7.0]]), axis=1, group=2,
                   zero_point=np.array([[30000, 0]]), mode=mode), dict(
                       scale=1e-3, bits=16, signed=False, zero_point=30000, shape=(-1, 4))
    yield dict(bits=8, signed=True, scale=np.float32(0.0123), zero_point=-5, mode="rne"), dict(
        scale=float(np.float32(0.0123)), zero_point=-5, dtype=np.float32)
    yield dict(bits=2, signed=True, scale=1.0, zero_point=0, mode="rna"), dict(scale=1.0, bits=2)
    yield dict(bits=8, signed=True, scale=2.0 ** -1060, zero_point=0, mode="rne"), dict(
        scale=2.0 ** -1060)


def quantize_case_inputs(recipe: dict, n: int, seed: int = 0) -> np.ndarray:
    x = quantize_inputs(n, recipe["scale"], recipe.get("bits", 8), recipe.get("signed", True),
                        recipe.get("zero_point", 0), seed, recipe.get("dtype", np.float64))
    shape = recipe.get("shape")
    if shape is None:
        return x
    fixed = int(np.prod([d for d in shape if d > 0]))
    x = x[: (x.size // fixed) * fixed]
    return x.reshape(shape)


# --- MX block encode ------------------------------------------------------------------------------
def mx_blocks(elem, nblocks: int, block: int = 32, seed: int = 0, dtype=np.float64,
              nonfinite: bool = True) -> np.ndarray:
    """(nblocks, block) values whose blocks sit where the scale rules and the element
    rounding break (see the module docstring)."""
    fmt = get_format(elem)
    rng = np.random.default_rng(seed)
    emax = math.frexp(fmt.max)[1] - 1
    precision = fmt.mbits if not fmt.is_fixed else emax + fmt.frac_bits
    grid = np.array([0.5, 0.75, 1 / 3, 2.0 ** -20, 0.999999, 0.5625, 0.0, 1.0])
    rows = []
    for b in range(nblocks):
        kind = b % 10
        k = int(rng.integers(-140, 140))
        p = math.ldexp(1.0, k)
        if kind == 0:
            amax = p
        elif kind == 1:
            amax = float(np.nextafter(p, 0.0))
        elif kind == 2:
            amax = math.ldexp(fmt.max, k)
        elif kind == 3:
            amax = float(np.nextafter(math.ldexp(fmt.max, k), np.inf))
        elif kind == 4:  # the `even` rule's rounding point, and one ulp below it
            amax = math.ldexp(2.0 - math.ldexp(1.0, -(precision + 1)), k)
            if rng.random() < 0.5:
                amax = float(np.nextafter(amax, 0.0))
        elif kind == 5:
            amax = float(rng.choice([5e-324, 1e-310, 2.0 ** -1022, 1.7976931348623157e308,
                                     2.0 ** 200, 2.0 ** -200]))
        else:
            amax = float(np.exp(rng.uniform(-60, 60)))
        if kind == 9 and b % 20 == 9:
            values = np.full(block, -0.0 if rng.random() < 0.5 else 0.0)
        else:
            fractions = np.where(rng.random(block) < 0.5, rng.choice(grid, block),
                                 rng.random(block))
            values = amax * fractions
            values[0] = amax
            # element ties: odd multiples of half the quantum at amax's exponent
            ties = rng.random(block) < 0.2
            quantum = math.ldexp(1.0, math.frexp(amax)[1] - 1 - precision - 1)
            values[ties] = quantum * (2 * rng.integers(1, 2 ** min(precision + 1, 20),
                                                       ties.sum()) + 1)
            values = np.minimum(values, amax)
            values *= np.where(rng.random(block) < 0.5, -1.0, 1.0)
            values = values[rng.permutation(block)]
        if nonfinite and kind == 8:
            values[int(rng.integers(block))] = rng.choice([np.nan, np.inf, -np.inf])
        rows.append(values)
    x = np.array(rows, dtype=np.float64)
    if dtype == np.float32:
        with np.errstate(over="ignore", under="ignore"):
            x = x.astype(np.float32)
    return x


def check_mx(gpu_quant, x, elem, *, block=32, axis=-1, scale_rule="floor",
             nonfinite="nan-scale", scale_overflow="nan", scale_bits=8, mode="rne",
             seed=0) -> Parity:
    """gpu_quant.mx_encode against numprec.quant.bfp_encode (mx_encode for 8-bit scales):
    element codes and scale codes (values, dtypes, shapes) and the flag counts."""
    from .. import Flags
    from ..quant.mx import bfp_encode, element_format
    fmt = element_format(elem)
    cpu_flags, gpu_flags = Flags(), Flags()
    codes, scales = bfp_encode(x, fmt, block=block, scale_bits=scale_bits, axis=axis,
                               scale_rule=scale_rule, nonfinite=nonfinite,
                               scale_overflow=scale_overflow, mode=mode, seed=seed,
                               flags=cpu_flags, _caller="mx_encode")
    g_codes, g_scales = gpu_quant.mx_encode(x, fmt, block=block, axis=axis,
                                            scale_rule=scale_rule, nonfinite=nonfinite,
                                            scale_overflow=scale_overflow,
                                            scale_bits=scale_bits, mode=mode, seed=seed,
                                            flags=gpu_flags)
    options = dict(block=block, scale_rule=scale_rule, dtype=str(np.asarray(x).dtype))
    options.update({k: v for k, v in dict(axis=axis, nonfinite=nonfinite,
                                          scale_overflow=scale_overflow,
                                          scale_bits=scale_bits).items()
                    if v != dict(axis=-1, nonfinite="nan-scale", scale_overflow="nan",
                                 scale_bits=8)[k]})
    if (codes.shape, scales.shape, codes.dtype, scales.dtype) != (
            g_codes.shape, g_scales.shape, g_codes.dtype, g_scales.dtype):
        return _mismatch("mx_encode", fmt.name, mode, options, codes, g_codes, None,
                         cpu_flags.all, gpu_flags.all)
    # codes first, then the scales (an index past the codes is a scale: no input shown)
    expected = np.concatenate([codes.reshape(-1).astype(np.int64),
                               scales.reshape(-1).astype(np.int64)])
    got = np.concatenate([g_codes.reshape(-1).astype(np.int64),
                          g_scales.reshape(-1).astype(np.int64)])
    return _mismatch("mx_encode", fmt.name, mode, options, expected, got, np.asarray(x),
                     cpu_flags.all, gpu_flags.all)


def mx_cases(formats=None):
    """(element format name, options for check_mx): every MX element format under every scale
    rule, then the other choices (clamped scale overflow, nonfinite="ignore", sr, rtz, an
    odd block, 9-bit scales, another axis)."""
    from ..quant.mx import MX_FORMATS
    names = formats or sorted(set(MX_FORMATS.values()))
    for name in names:
        for rule in ("floor", "ceil", "even", "rceil"):
            yield name, dict(scale_rule=rule)
    yield "fp8_e4m3fn", dict(scale_overflow="clamp")
    yield "fp8_e5m2", dict(nonfinite="ignore")
    yield "fp4_e2m1fn", dict(mode="sr", seed=11)
    yield "q1.6", dict(mode="rtz", scale_rule="rceil")
    yield "fp6_e2m3fn", dict(block=6)
    yield "fp8_e4m3fn", dict(scale_bits=9, scale_rule="ceil")
    yield "fp16", dict(block=8, scale_rule="even")


# --- int matmul -----------------------------------------------------------------------------------
def reference_int_matmul(a, b, overflow: str = "detect", acc_bits: int = 32, a_zero_point=0,
                         b_zero_point=0):
    """(result, overflow count) of numprec.quant.int_matmul's documented semantics for 2-D
    codes, from exact integers: the partial sums S_t of (a - za)(b - zb) in increasing t;
    "wrap" / "detect": S_K modulo 2^acc (Python integers where int64 could overflow);
    "saturate": every partial sum clamped; the count: outputs whose exact partial sums left
    the range (for "saturate": that clamped)."""
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    A = np.asarray(a).astype(np.int64) - np.asarray(a_zero_point, dtype=np.int64)
    B = np.asarray(b).astype(np.int64) - np.asarray(b_zero_point, dtype=np.int64)
    m, k = A.shape
    n = B.shape[1]
    acc = np.zeros((m, n), dtype=np.int64)
    hit = np.zeros((m, n), dtype=bool)
    for t in range(k):  # |acc| <= 2^(acc-1) and |product| <= 2^62: no int64 overflow
        acc = acc + np.outer(A[:, t], B[t, :])
        outside = (acc > hi) | (acc < lo)
        hit |= outside
        if overflow == "saturate":
            np.clip(acc, lo, hi, out=acc)
        else:  # once an output left the range only its value modulo 2^acc matters
            acc = np.where(outside, (acc - lo) % (1 << acc_bits) + lo, acc)
    if overflow != "saturate":  # the exact sum, wrapped once, independently of the loop
        exact = A.astype(object) @ B.astype(object) if k else np.zeros((m, n), dtype=object)
        wrapped = np.vectorize(lambda v: (int(v) - lo) % (1 << acc_bits) + lo,
                               otypes=[object])(exact) if exact.size else exact
        assert np.array_equal(wrapped.astype(np.int64), acc)
    return acc.astype(np.int32 if acc_bits <= 32 else np.int64), int(hit.sum())


def int_operands(shape, dtype, seed: int = 0, extremes: float = 0.3) -> np.ndarray:
    """Integer codes of `dtype`: random, with a fraction at the extremes of the range."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    x = rng.integers(int(info.min), int(info.max), size=shape, endpoint=True)
    pick = rng.random(shape) < extremes
    x[pick] = rng.choice([int(info.min), int(info.max)], size=int(pick.sum()))
    return x.astype(dtype)


def check_int_matmul(gpu_intmatmul, a, b, overflow: str = "detect", acc_bits: int = 32,
                     a_zero_point=0, b_zero_point=0) -> Parity:
    """gpu_intmatmul.int_matmul against reference_int_matmul: every output (values and
    dtype) and the overflow count."""
    expected, count = reference_int_matmul(a, b, overflow, acc_bits, a_zero_point,
                                           b_zero_point)
    got, gpu_count = gpu_intmatmul.int_matmul(a, b, overflow=overflow, acc_bits=acc_bits,
                                              a_zero_point=a_zero_point,
                                              b_zero_point=b_zero_point, return_overflow=True)
    m, k = a.shape
    options = dict(m=m, n=b.shape[1], k=k, overflow=overflow, acc_bits=acc_bits,
                   zero_points=np.ndim(a_zero_point) + np.ndim(b_zero_point) > 0
                   or bool(a_zero_point) or bool(b_zero_point))
    return _mismatch("int_matmul", f"{a.dtype}x{b.dtype}", "-", options, expected, got, None,
                     [count], [gpu_count])


def int_matmul_cases():
    """(a dtype, b dtype, (m, n, k), extremes, options for check_int_matmul): 8-, 16- and
    32-bit codes under every overflow rule, sums that stay in range and ones that overflow
    int32, narrow and wide accumulators, scalar and per-row / per-column zero points."""
    yield np.int8, np.int8, (13, 11, 37), 0.3, dict(overflow="wrap")
    yield np.uint8, np.int8, (9, 17, 21), 0.3, dict(overflow="saturate")
    yield np.uint8, np.uint8, (8, 8, 64), 0.3, dict(overflow="detect", a_zero_point=128,
                                                    b_zero_point=3)
    yield np.int16, np.int16, (5, 7, 9), 1.0, dict(overflow="wrap")   # beyond int32: wraps
    yield np.int16, np.int16, (6, 5, 11), 1.0, dict(overflow="saturate")
    yield np.int16, np.int16, (7, 6, 13), 1.0, dict(overflow="detect")
    yield np.uint16, np.int8, (3, 9, 17), 1.0, dict(overflow="saturate", acc_bits=24)
    yield np.uint16, np.uint16, (4, 4, 3), 1.0, dict(overflow="detect", acc_bits=48)
    yield np.int8, np.int8, (6, 9, 40), 0.5, dict(overflow="saturate", acc_bits=8)
    yield np.int8, np.int8, (6, 9, 40), 0.5, dict(overflow="wrap", acc_bits=12)
    yield np.int32, np.int32, (3, 4, 10), 0.5, dict(overflow="detect", acc_bits=61)
    yield np.uint8, np.int8, (5, 6, 19), 0.3, dict(
        overflow="saturate", acc_bits=16, a_zero_point=np.arange(5).reshape(5, 1) * 40,
        b_zero_point=-7)


__all__ = ["quantize_inputs", "check_quantize", "quantize_cases", "quantize_case_inputs",
           "mx_blocks", "check_mx", "mx_cases", "reference_int_matmul", "int_operands",
           "check_int_matmul", "int_matmul_cases"]
