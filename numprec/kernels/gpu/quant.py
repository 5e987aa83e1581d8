"""GPU (numba.cuda) kernels for quantization: integer quantize and block (MX) encode.

Both run the scalar kernels compiled as CUDA device functions (numprec.kernels.gpu.scalars.S),
step for step as numprec.quant computes on the CPU, so they give its bits:

- quantize_kernel: q = clamp(R(x / scale) + zp, qmin, qmax), or clamp(R(x / scale + zp), ...)
  with the zero point before rounding. R rounds the *exact* quotient: the division is
  scalar.arith.div_round into the fixed-point format FixedPoint(bits + 2, 0) (correctly rounded:
  the exact remainder of the float64 quotient, then one rounding of the exact value in the mode),
  exactly the call numprec.quant.affine makes through numprec.div; with the zero point before
  rounding, div_round to odd at quantum 1/4 (2^-33 under sr) then add_round of the zero point,
  as numprec.quant.affine proves equal to rounding x / scale + zp once. Stochastic draws come
  from the same streams and element indices as the CPU's (div's stream, or add's). NaN gives
  the zero point, +-inf saturates; every clamped element is counted (saturated), and NaN, +inf
  and -inf inputs are counted.
- mx_encode_kernel: one E8M0 (or 2..11-bit) scale per block of `block` consecutive elements,
  its exponent from the block's amax by the floor, ceil, even or rceil rule computed on the
  float64 bits (numprec.quant.mx.shared_exponents' formulas), elements x * 2^-E (exact, or below
  float64's normal range replaced by +-2^-1022 as the CPU does) rounded and encoded by
  scalar.fast's round_value / scalar.rounding's encode_scalar with saturation. A block holding NaN or inf
  gets the NaN scale and the element format's NaN (or zero) everywhere ("nan-scale"), or
  ("ignore") its amax is taken over the finite values and NaN/inf encode by the element's rule.
  Each thread block takes chunks of whole MX blocks; each thread a run of 1, 2 or 4 consecutive
  elements (coalesced loads), the block's amax reduced through shared memory.

The host entry points (quantize_into and mx_encode_into, one launch each on flat host or device
arrays; quantize and mx_encode, which take and give arrays of numprec.quant's shapes) are at the
end of this module. The integer matmul is numprec.kernels.gpu.intmatmul.
"""
from __future__ import annotations

import math

import numpy as np
from numba import cuda, types

from ...codes import (MODE_CODE, NCOUNTS, RTO, SR, SR_MAX_BITS, STREAM_ARITH, STREAM_ROUND,
                      TALLY_SLOTS, TALLY_UNENCODABLE)
from . import arrays
from .compiler import SIMULATOR, gpu_device, gpu_kernel
from .scalars import PARAMS, S, publish_tallies, start_tallies

# --- codes shared by the kernels and their launchers ---------------------------------------------
# (kernel-local: numprec.quant has no CPU kernels taking these codes yet)
SCALE_RULES = ("floor", "ceil", "even", "rceil")
RULE_FLOOR, RULE_CEIL, RULE_EVEN, RULE_RCEIL = range(len(SCALE_RULES))
SCALE_RULE_CODE = {name: code for code, name in enumerate(SCALE_RULES)}
# quantize's counts: clamped elements, then the NaN, +inf and -inf inputs
Q_SATURATED, Q_NAN, Q_POSINF, Q_NEGINF = range(4)
Q_SLOTS = 4

_ABS_MASK = 0x7FFFFFFFFFFFFFFF
_INF_BITS = 0x7FF0000000000000
_TINY = 2.0 ** -1022  # stands in for scaled values below float64's normal range (as the CPU)
MAX_THREADS = 1024    # threads of one MX launch block at most (shared-memory partials)
RUN_LENGTHS = (4, 2, 1)  # elements per thread in the MX kernel: the first that divides the block


# --- quantize -------------------------------------------------------------------------------------
@gpu_device
def start_counts(local, block):
    for k in range(Q_SLOTS):
        local[k] = 0
    if cuda.threadIdx.x < Q_SLOTS:
        block[cuda.threadIdx.x] = 0
    cuda.syncthreads()


@gpu_device
def publish_counts(local, block, counts):
    """Per-thread counts summed per block in shared memory, one atomic per block and slot."""
    for k in range(Q_SLOTS):
        if local[k] != 0:
            cuda.atomic.add(block, k, local[k])
    cuda.syncthreads()
    t = cuda.threadIdx.x
    if t < Q_SLOTS and block[t] != 0:
        cuda.atomic.add(counts, t, block[t])


@gpu_device
def param_index(i, per_tensor, inner, span, group, s_outer, s_axis, s_inner):
    """Index of element i's scale and zero point in their flat (C-order) arrays: x is
    (outer, n, inner) around the quantization axis (span = n * inner), the parameters
    (outer, n / group, inner) with strides s_outer, s_axis, s_inner (0 where they broadcast)."""
    if per_tensor:
        return 0
    outer = i // span
    rest = i - outer * span
    j = rest // inner
    return outer * s_outer + (j // group) * s_axis + (rest - j * inner) * s_inner


@gpu_kernel
def quantize_kernel(x, q, scale, zero_point, layout, P_div, P_add, mode, zp_before, div_key,
                    add_key, rbits, qmin, qmax, counts):
    """q[i] = clamp(R(x[i] / s) + zp, qmin, qmax) (zp_before: clamp(R(x[i] / s + zp), ...)) with
    (s, zp) the parameters of element i (layout: param_index's arguments); NaN gives zp.
    counts += (clamped elements, NaN, +inf, -inf inputs)."""
    local = cuda.local.array(Q_SLOTS, types.int64)
    block = cuda.shared.array(Q_SLOTS, types.int64)
    start_counts(local, block)
    per_tensor = layout[0] != 0
    inner, span, group = layout[1], layout[2], layout[3]
    s_outer, s_axis, s_inner = layout[4], layout[5], layout[6]
    hi = np.float64(qmax)
    lo = np.float64(qmin)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        p = param_index(i, per_tensor, inner, span, group, s_outer, s_axis, s_inner)
        v = np.float64(x[i])
        z = zero_point[p]
        if zp_before:
            y, _ = S.div_round(v, scale[p], P_div, RTO, False, False, np.int64(0), rbits)
            r, _ = S.add_round(y, np.float64(z), P_add, mode, False, False,
                               S.element_draw(add_key, i, mode), rbits)
        else:
            r, _ = S.div_round(v, scale[p], P_div, mode, False, False,
                               S.element_draw(div_key, i, mode), rbits)
            r = r + np.float64(z)
        if r != r:
            code = z
        elif r > hi:
            code = qmax
            local[Q_SATURATED] += 1
        elif r < lo:
            code = qmin
            local[Q_SATURATED] += 1
        else:
            code = np.int64(r)
        q[i] = code
        if v != v:
            local[Q_NAN] += 1
        elif v == np.inf:
            local[Q_POSINF] += 1
        elif v == -np.inf:
            local[Q_NEGINF] += 1
    publish_counts(local, block, counts)


# --- MX / block floating point encode -------------------------------------------------------------
@gpu_device
def shared_exponent(amax_bits, rule, emax, precision, sig_max, overflow_nan, emin_s, emax_s):
    """(E, NaN scale) of a block whose amax has the float64 bit pattern amax_bits (>= 0; at
    least inf's pattern: NaN or inf in the block), as numprec.quant.mx.shared_exponents: the
    exponent floor(log2 amax) read from the bits, sig_max = max_elem / 2^emax in [1, 2)."""
    if amax_bits >= _INF_BITS:
        return np.int64(emin_s), True
    if amax_bits == 0:
        e = np.int64(emin_s)
    else:
        amax = S.bits_f64(amax_bits)
        M, _, ex = S.significand_exponent(amax)
        e = ex - emax
        if rule == RULE_CEIL:
            if (M & (M - 1)) != 0:  # not a power of two
                e += 1
        elif rule == RULE_EVEN:
            # amax's significand in [1, 2), exactly (M < 2^53)
            significand = np.float64(M) * S.pow2(1 - S.bit_length(M))
            if significand >= 2.0 - S.pow2(-(precision + 1)):
                e += 1
        elif rule == RULE_RCEIL:
            # amax > max_elem * 2^e (ldexp, correctly rounded: one multiply of exact factors)
            if amax > sig_max * S.pow2(ex):
                e += 1
    nan = overflow_nan and e > emax_s
    return min(max(e, np.int64(emin_s)), np.int64(emax_s)), nan


@gpu_kernel
def mx_encode_kernel(x, codes, scales, block, run, blocks_per_chunk, P, emax, rule, precision,
                     sig_max, overflow_nan, ignore_nonfinite, scale_bias, nan_code, emin_s,
                     emax_s, filler, mode, key, rbits, want_flags, counts):
    """codes[i] = element code of x[i] in its block of `block` consecutive elements, scales[b]
    = the scale code of block b; each thread takes `run` consecutive elements of a chunk of
    blocks_per_chunk blocks. counts: the tallies (flags when want_flags, and the elements
    without a bit pattern)."""
    partial = cuda.shared.array(MAX_THREADS, types.int64)
    local = cuda.local.array(TALLY_SLOTS, types.int64)
    tallies = cuda.shared.array(TALLY_SLOTS, types.int64)
    start_tallies(local, tallies)
    fast = S.fast_path_limits(P)
    t = cuda.threadIdx.x
    nblocks = x.size // block
    nchunks = (nblocks + blocks_per_chunk - 1) // blocks_per_chunk
    per_block = block // run  # threads per MX block
    for c in range(cuda.blockIdx.x, nchunks, cuda.gridDim.x):
        b0 = c * blocks_per_chunk
        live_elements = min(blocks_per_chunk, nblocks - b0) * block
        start = b0 * block + t * run
        live = t * run < live_elements
        pmax = np.int64(0)
        if live:
            for u in range(run):
                bits = S.f64_bits(np.float64(x[start + u])) & _ABS_MASK
                if not (ignore_nonfinite and bits >= _INF_BITS):
                    pmax = max(pmax, bits)
        partial[t] = pmax
        cuda.syncthreads()
        if live:
            g = t // per_block
            amax = np.int64(0)
            for u in range(g * per_block, (g + 1) * per_block):
                amax = max(amax, partial[u])
            e, nan = shared_exponent(amax, rule, emax, precision, sig_max, overflow_nan,
                                     emin_s, emax_s)
            if t == g * per_block:
                scales[b0 + g] = nan_code if nan else e + scale_bias
            down = S.pow2(-e)
            for u in range(run):
                i = start + u
                if nan:
                    v = filler
                else:
                    xi = np.float64(x[i])
                    v = xi * down  # exact where the result is a normal float64
                    if abs(v) < _TINY and xi != 0.0:
                        v = _TINY if xi > 0.0 else -_TINY
                value, flags = S.round_value(v, P, mode, True, False,
                                             S.element_draw(key, i, mode), rbits, fast)
                codes[i] = S.encode_counted(value, P, local)
                if want_flags:
                    S.tally_flags(local, flags)
        cuda.syncthreads()  # the partials are rewritten by the next chunk
    publish_tallies(local, tallies, counts)


# Argument types of the launches, for compile_ptx.
_FLOATS = (types.float32[::1], types.float64[::1])
_I64 = types.int64[::1]
_F64 = types.float64[::1]
LAYOUT = types.UniTuple(types.int64, 7)
QUANT_INTS = (types.int8[::1], types.uint8[::1], types.int16[::1], types.uint16[::1])
CODE_INTS = (types.uint8[::1], types.uint16[::1])
MX_ARGS = (types.int64, types.int64, types.int64, PARAMS, types.int64, types.int64, types.int64,
           types.float64, types.boolean, types.boolean, types.int64, types.int64, types.int64,
           types.int64, types.float64, types.int64, types.uint64, types.int64, types.boolean,
           _I64)
SIGNATURES = {
    "quantize_kernel": [(xt, qt, _F64, _I64, LAYOUT, PARAMS, PARAMS, types.int64, types.boolean,
                         types.uint64, types.uint64, types.int64, types.int64, types.int64, _I64)
                        for xt in _FLOATS for qt in QUANT_INTS],
    "mx_encode_kernel": [(xt, ct, st) + MX_ARGS for xt, ct, st in (
        (_FLOATS[0], CODE_INTS[0], CODE_INTS[0]), (_FLOATS[1], CODE_INTS[0], CODE_INTS[0]),
        (_FLOATS[0], CODE_INTS[1], CODE_INTS[0]), (_FLOATS[1], CODE_INTS[1], CODE_INTS[0]),
        (_FLOATS[1], CODE_INTS[0], CODE_INTS[1]))],  # (the last: scales of 9-11 bits)
}
KERNELS = {"quantize_kernel": quantize_kernel, "mx_encode_kernel": mx_encode_kernel}


# --- host entry points ----------------------------------------------------------------------------
def param_layout(shape, axis=None, group=None) -> tuple:
    """quantize_kernel's layout tuple for x of `shape` quantized per tensor (axis None), per
    channel along `axis`, or per group of `group` consecutive elements along `axis`; the
    parameters are flat C-order arrays of numprec.quant's shapes (per channel: n values; per
    group: shape with n / group along axis)."""
    shape = tuple(int(d) for d in shape)
    if axis is None:
        return (1, 1, 1, 1, 0, 0, 0)
    axis = int(axis) % len(shape)
    n = shape[axis]
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    if group is None:
        return (0, max(inner, 1), max(n * inner, 1), 1, 0, 1, 0)
    group = int(group)
    if group < 1 or n % group:
        raise ValueError(f"group={group} does not divide axis {axis} of length {n}")
    return (0, max(inner, 1), max(n * inner, 1), group, (n // group) * inner, inner, 1)


def quantize_into(x, q, scale, zero_point, layout, P_div, P_add, mode, zp_before, div_key,
                  add_key, rbits, qmin, qmax):
    """One launch of quantize_kernel: x (float32 or float64) and q (int8/uint8/int16/uint16)
    are flat NumPy arrays (copied) or device arrays (kept there); scale (float64) and
    zero_point (int64) are host parameter arrays. Returns the counts (saturated, nan, posinf,
    neginf) as Python ints."""
    n = arrays.size_of(x)
    arrays.check_sizes("quantize_into", q=(q, n))
    staged = arrays.Staged("quantize_into", x=x, q=q)
    d_x = staged.input("x", x, np.float64, np.float32)
    q_dtype = np.dtype(getattr(q, "dtype", np.int8))
    if q_dtype not in (np.int8, np.uint8, np.int16, np.uint16):
        raise TypeError(f"quantize_into: q must be int8, uint8, int16 or uint16, got {q_dtype}")
    d_q = staged.output("q", q, q_dtype)
    counts = arrays.to_device(np.zeros(Q_SLOTS), np.int64)
    if n:
        blocks, threads = arrays.launch_shape(n)
        with arrays.quiet_simulator():
            quantize_kernel[blocks, threads](
                d_x, d_q, arrays.to_device(scale, np.float64),
                arrays.to_device(zero_point, np.int64), tuple(int(v) for v in layout),
                tuple(int(v) for v in P_div), tuple(int(v) for v in P_add), int(mode),
                bool(zp_before), np.uint64(div_key), np.uint64(add_key), int(rbits), int(qmin),
                int(qmax), counts)
        staged.finish()
    return tuple(int(c) for c in counts.copy_to_host())


def quantize(x, scale, zero_point=0, *, bits=8, signed=True, axis=None, group=None, mode="rne",
             seed=None, zero_point_before_rounding=False):
    """Integer codes of x on the GPU, bit for bit numprec.quant.quantize(x, bits, signed=signed,
    axis=axis, group=group, scale=scale, zero_point=zero_point, mode=mode, seed=seed,
    zero_point_before_rounding=..., nonfinite="clamp").q.

    x: a float32 or float64 NumPy array (or a C-contiguous device array: q is then a device
    array); scale (positive, finite) and zero_point (integers in range): per tensor scalars,
    per channel n values (or numprec.quant's param shape), per group that shape with n / group
    along axis; the caller validates them as numprec.quant.quantize does. Returns (q, counts):
    q in the smallest integer dtype of the range (int8/uint8/int16/uint16), x's shape; counts
    a dict {"saturated", "nan", "posinf", "neginf"}.
    """
    from ...formats import FixedPoint
    from ..scalar.rng import key_from_seed
    from . import is_device_array
    bits = int(bits)
    if not 2 <= bits <= 16:
        raise ValueError(f"bits={bits} is out of range; valid: 2..16")
    qmin, qmax = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    q_dtype = np.dtype(f"{'' if signed else 'u'}int{8 if bits <= 8 else 16}")
    code = MODE_CODE[mode]
    on_device = is_device_array(x)
    host = None if on_device else np.ascontiguousarray(
        x if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64)
        else np.asarray(x, dtype=np.float64))
    shape = tuple(x.shape) if on_device else host.shape
    layout = param_layout(shape, axis, group)
    s = np.ascontiguousarray(scale, dtype=np.float64).reshape(-1)
    z = np.ascontiguousarray(zero_point).reshape(-1)
    if z.dtype.kind not in "iu":
        z = z.astype(np.float64)
        if not np.all(z == np.round(z)):
            raise ValueError("quantize: zero_point must be integers")
    z = z.astype(np.int64)
    if axis is None:
        wanted = 1  # one scale per tensor, per channel, or per group
    elif group is None:
        wanted = shape[int(axis) % len(shape)]
    else:
        wanted = int(np.prod(shape, dtype=np.int64)) // int(group)
    if s.size == 1 and wanted != 1:
        s = np.full(wanted, s[0])
    if z.size == 1 and wanted != 1:
        z = np.full(wanted, z[0])
    if s.size != wanted or z.size != wanted:
        raise ValueError(f"quantize: {wanted} scale(s) and zero point(s) needed for shape "
                         f"{shape}, axis={axis}, group={group}; got {s.size} and {z.size}")
    m = (qmax - qmin).bit_length() + 2  # numprec.quant.affine's M = bits + 2
    zp_before = bool(zero_point_before_rounding) and bool(np.any(z != 0))
    if zp_before:
        P_div = FixedPoint(m, 33 if code == SR else 2).kernel_params
        rbits = 32 if code == SR else SR_MAX_BITS
    else:
        P_div = FixedPoint(m, 0).kernel_params
        rbits = SR_MAX_BITS
    P_add = FixedPoint(m + 1, 0).kernel_params
    div_key = key_from_seed(seed, STREAM_ARITH["div"]) if code == SR and not zp_before else 0
    add_key = key_from_seed(seed, STREAM_ARITH["add"]) if code == SR and zp_before else 0
    if on_device:
        q = cuda.device_array(shape, dtype=q_dtype)
        flat_x, flat_q = x.reshape(x.size), q.reshape(q.size)
    else:
        q = np.empty(shape, dtype=q_dtype)
        flat_x, flat_q = host.reshape(-1), q.reshape(-1)
    counts = quantize_into(flat_x, flat_q, s, z, layout, P_div, P_add, code, zp_before,
                           div_key, add_key, rbits, qmin, qmax)
    return q, dict(zip(("saturated", "nan", "posinf", "neginf"), counts))


def _run_length(block: int) -> int:
    return next(r for r in RUN_LENGTHS if block % r == 0)


def mx_launch_shape(nblocks: int, block: int) -> tuple:
    """(launch blocks, threads, elements per thread, MX blocks per chunk) of mx_encode_kernel."""
    run = _run_length(block)
    threads = 16 if SIMULATOR else 256
    if block > threads * run:  # one MX block per chunk: enough threads to cover it
        threads = -(-block // run)
        if not SIMULATOR:
            threads = -(-threads // 32) * 32
    if threads > MAX_THREADS:
        raise ValueError(f"mx_encode on the GPU: block {block} is too long (at most "
                         f"{MAX_THREADS * run} elements for this block size)")
    per_chunk = (threads * run) // block
    chunks = -(-nblocks // per_chunk)
    if SIMULATOR:
        grid = max(1, min(2, chunks))
    else:
        grid = max(1, min(chunks, 16 * cuda.get_current_device().MULTIPROCESSOR_COUNT))
    return grid, threads, run, per_chunk


def element_parameters(elem) -> dict:
    """What mx_encode_kernel needs of an element format (a numprec format: signed, <= 16 bits):
    emax (floor(log2 max)), sig_max (max / 2^emax), precision (fraction bits of the top binade),
    filler (the value of NaN-scale blocks: NaN, or 0 where the format has none)."""
    from ...formats import Format, get_format
    fmt = get_format(elem)
    if fmt.is_fixed and not fmt.signed:
        raise ValueError(f"MX elements are signed; {fmt.name} is unsigned")
    if fmt.nbits > 16:
        raise ValueError(f"MX element formats have at most 16 bits; {fmt.name} has {fmt.nbits}")
    emax = math.frexp(fmt.max)[1] - 1
    precision = fmt.mbits if isinstance(fmt, Format) else emax + fmt.frac_bits
    return dict(fmt=fmt, emax=emax, sig_max=math.ldexp(fmt.max, -emax), precision=precision,
                filler=math.nan if fmt.has_nan else 0.0)


def mx_encode_into(x, codes, scales, block, elem, scale_rule, scale_overflow, nonfinite,
                   scale_bits, mode, key, rbits, want_flags, counts):
    """One launch of mx_encode_kernel over flat x (float32/float64; blocks of `block`
    consecutive elements), writing codes (uint8/uint16, x's size) and scales (uint8/uint16, one
    per block). NumPy arrays are copied, device arrays kept there; counts (host int64,
    NCOUNTS) += the flag counts when want_flags. Returns the number of elements without a bit
    pattern (NaN in an element format without NaN, under nonfinite="ignore")."""
    if scale_rule not in SCALE_RULE_CODE:
        raise ValueError(f"unknown scale rule {scale_rule!r}; valid: {', '.join(SCALE_RULES)}")
    if scale_overflow not in ("nan", "clamp"):
        raise ValueError(f"unknown scale_overflow {scale_overflow!r}; valid: nan, clamp")
    if nonfinite not in ("nan-scale", "ignore"):
        raise ValueError(f"mx_encode on the GPU: nonfinite={nonfinite!r} is not supported "
                         "(nan-scale, ignore; 'error' is the caller's check)")
    if not 2 <= int(scale_bits) <= 11:
        raise ValueError(f"mx_encode on the GPU: scale_bits={scale_bits} (valid: 2..11)")
    if not (isinstance(counts, np.ndarray) and counts.dtype == np.int64
            and counts.shape == (NCOUNTS,)):
        raise TypeError(f"mx_encode_into: counts must be a host int64 array of shape ({NCOUNTS},)")
    block = int(block)
    n = arrays.size_of(x)
    if block < 1 or n % block:
        raise ValueError(f"mx_encode_into: block {block} does not divide the {n} elements")
    nblocks = n // block
    arrays.check_sizes("mx_encode_into", codes=(codes, n), scales=(scales, nblocks))
    e = element_parameters(elem)
    bias = (1 << (int(scale_bits) - 1)) - 1
    staged = arrays.Staged("mx_encode_into", x=x, codes=codes, scales=scales)
    d_x = staged.input("x", x, np.float64, np.float32)
    code_dtype = np.dtype(np.uint8 if e["fmt"].nbits <= 8 else np.uint16)
    scale_dtype = np.dtype(np.uint8 if int(scale_bits) <= 8 else np.uint16)
    d_codes = staged.output("codes", codes, code_dtype)
    d_scales = staged.output("scales", scales, scale_dtype)
    tallies = arrays.to_device(np.zeros(TALLY_SLOTS), np.int64)
    if nblocks == 0:
        return 0
    grid, threads, run, per_chunk = mx_launch_shape(nblocks, block)
    with arrays.quiet_simulator():
        mx_encode_kernel[grid, threads](
            d_x, d_codes, d_scales, block, run, per_chunk, tuple(int(v) for v in
                                                                 e["fmt"].kernel_params),
            int(e["emax"]), SCALE_RULE_CODE[scale_rule], int(e["precision"]),
            float(e["sig_max"]), scale_overflow == "nan", nonfinite == "ignore", bias,
            (1 << int(scale_bits)) - 1, -bias, bias, float(e["filler"]), int(mode),
            np.uint64(key), int(rbits), bool(want_flags), tallies)
    staged.finish()
    totals = tallies.copy_to_host()
    if want_flags:
        counts += totals[:NCOUNTS]
    return int(totals[TALLY_UNENCODABLE])


def mx_encode(x, elem, *, block=32, axis=-1, scale_rule="floor", nonfinite="nan-scale",
              scale_overflow="nan", scale_bits=8, mode="rne", seed=None, flags=None):
    """(element codes, scale codes) of x on the GPU, bit for bit numprec.quant.bfp_encode(x,
    elem, block=block, scale_bits=scale_bits, ...) (mx_encode for scale_bits=8), as NumPy
    arrays of its shapes and dtypes. elem: a numprec format (numprec.quant.mx.element_format
    resolves the MX names); x: float32 or float64 (a device array's axis must be the last: the
    results are then device arrays, flat codes and per-block scales). flags (numprec.Flags)
    counts the elements' rounding events."""
    from ..scalar.rng import key_from_seed
    from . import is_device_array
    code = MODE_CODE[mode]
    key = key_from_seed(seed, STREAM_ROUND) if code == SR else 0
    counts = np.zeros(NCOUNTS, dtype=np.int64)
    params = element_parameters(elem)
    code_dtype = np.uint8 if params["fmt"].nbits <= 8 else np.uint16
    scale_dtype = np.uint8 if int(scale_bits) <= 8 else np.uint16
    if is_device_array(x):
        if axis not in (-1, len(x.shape) - 1):
            raise ValueError("mx_encode on the GPU: device arrays take blocks along the last axis")
        codes = cuda.device_array(x.size, dtype=code_dtype)
        scales = cuda.device_array(x.size // int(block), dtype=scale_dtype)
        flat = x.reshape(x.size)
        moved = None
    else:
        arr = np.asarray(x)
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        if arr.ndim == 0:
            raise ValueError("mx_encode: needs an array with at least one dimension")
        axis = int(axis) % arr.ndim
        moved = np.moveaxis(arr, axis, -1)
        if moved.shape[-1] % int(block):
            raise ValueError(f"mx_encode: block {block} does not divide the length "
                             f"{moved.shape[-1]} of axis {axis}")
        flat = np.ascontiguousarray(moved).reshape(-1)
        codes = np.empty(flat.size, dtype=code_dtype)
        scales = np.empty(flat.size // int(block), dtype=scale_dtype)
    bad = mx_encode_into(flat, codes, scales, block, params["fmt"], scale_rule, scale_overflow,
                         nonfinite, scale_bits, code, key, SR_MAX_BITS, flags is not None,
                         counts)
    if bad:
        raise ValueError(f"mx_encode: {params['fmt'].name} has no NaN for the NaN value(s) of x "
                         "(nonfinite='nan-scale' gives their block the NaN scale)")
    if flags is not None:
        flags.add(counts)
    if moved is None:
        return codes, scales
    codes = np.moveaxis(codes.reshape(moved.shape), -1, axis)
    scales = np.moveaxis(scales.reshape(moved.shape[:-1] + (moved.shape[-1] // int(block),)),
                         -1, axis)
    return codes, scales

