"""OCP microscaling (MX) block formats: blocks of `block` elements sharing one E8M0 scale.

A block's values V_i are stored as one scale X = 2^E (E8M0: the byte E + 127, 0xFF = NaN) and
elements P_i = round(V_i / X) in the element format, rounded once from the exact quotient with
saturation at the element's max; decoding gives X * P_i. E comes from the block's amax by the
scale rule (names as in torchao's ScaleCalculationMode; docs/quantization.md shows each on edge
blocks):

- `floor` (OCP MX v1.0, the default): E = floor(log2 amax) - emax_elem; amax / X lies in
  [2^emax_elem, 2^(emax_elem + 1)), so the largest elements may clip at the element's max;
- `ceil`: E = ceil(log2 amax) - emax_elem: never clips, loses up to one binade of range below;
- `even`: amax first rounded to the element's precision (half up, torchao's EVEN), then floor;
- `rceil`: E = ceil(log2(amax / max_elem)), the smallest E with amax / X <= max_elem (the
  cuBLAS / NVIDIA recipe; torchao computes amax * (1 / max_elem) in float32 first, which can
  land one above this exact value when amax / max_elem is within float32 rounding of a power of
  two).

Every exponent comes from exact arithmetic on the float64 bits (frexp, ldexp), never from a
float log2 (a float log2 returns k for values just below 2^k). Choices where tools differ are
options:

- `nonfinite`: a block holding NaN or inf gets the NaN scale 0xFF and decodes to NaN
  everywhere (`"nan-scale"`: OCP's reference code microxcaling and torchao); `"ignore"` takes
  amax over the finite values (what a NaN-skipping max such as C's fmaxf gives) and encodes
  NaN and inf by the element format's own rule (inf saturates to +-max; NaN where the format has
  one, otherwise an error); `"error"` refuses such blocks.
- `scale_overflow`: E above 127 (float64 inputs beyond about 2^(127 + emax_elem + 1)) gives the
  NaN scale (`"nan"`: microxcaling, torchao) or clamps to 127 with the elements saturating
  (`"clamp"`: gfloat). E below -127 always clamps to -127 (every tool).
- all-zero blocks take E = -127 (scale byte 0x00), as microxcaling, torchao and gfloat do.
"""
from __future__ import annotations

import math

import numpy as np

from ..codes import MODE_CODE, P_MAXM_NEG, P_MAXM_POS, SR, SR_MAX_BITS, STREAM_ROUND
from ..formats import FixedPoint, Format, get_format
from ..kernels.cpu import mx as _fast
from ..kernels.scalar.rng import key_from_seed
from ..ops import decode, encode
from ..ops.validate import check_flags, check_mode
from .backend import on_gpu

SCALE_RULES = ("floor", "ceil", "even", "rceil")
NONFINITE_RULES = ("nan-scale", "ignore", "error")
SCALE_OVERFLOW_RULES = ("nan", "clamp")
E8M0_BIAS = 127
E8M0_NAN = 0xFF
SCALE_EMIN, SCALE_EMAX = -127, 127

# The OCP MX v1.0 concrete formats: name -> element format (MXINT8's element is q1.6)
MX_FORMATS = {"mxfp8": "fp8_e4m3fn", "mxfp8_e4m3": "fp8_e4m3fn", "mxfp8_e5m2": "fp8_e5m2",
              "mxfp6_e3m2": "fp6_e3m2fn", "mxfp6_e2m3": "fp6_e2m3fn", "mxfp4": "fp4_e2m1fn",
              "mxint8": "q1.6"}

_TINY = math.ldexp(1.0, -1022)  # stands in for scaled values below float64's normal range


def element_format(elem):
    """The element format of an MX format name (`mxfp8`, `mxint8`, ...) or a numprec format."""
    if isinstance(elem, str) and elem.strip().lower() in MX_FORMATS:
        elem = MX_FORMATS[elem.strip().lower()]
    fmt = get_format(elem)
    if isinstance(fmt, FixedPoint) and not fmt.signed:
        raise ValueError(f"MX elements are signed; {fmt.name} is unsigned")
    if fmt.nbits > 16:
        raise ValueError(f"MX element formats have at most 16 bits; {fmt.name} has {fmt.nbits}")
    return fmt


def element_emax(fmt) -> int:
    """floor(log2) of the element format's largest value (E4M3 8, E5M2 15, E2M1 2, q1.6 0)."""
    return math.frexp(fmt.max)[1] - 1


def _precision_bits(fmt) -> int:
    """Fraction bits of the element's top binade: mbits, or for qM.N emax + N."""
    if isinstance(fmt, Format):
        return fmt.mbits
    return element_emax(fmt) + fmt.frac_bits


def _check_choice(value, valid, what):
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


def scale_range(scale_bits: int = 8) -> tuple:
    """(emin, emax, bias, NaN code) of an exponent-only scale of `scale_bits` bits (E8M0: -127,
    127, 127, 0xFF): the all-ones code is NaN, the exponents are symmetric."""
    if isinstance(scale_bits, bool) or not isinstance(scale_bits, (int, np.integer)) or not (
            2 <= scale_bits <= 16):
        raise ValueError(f"scale_bits must be an integer in 2..16, got {scale_bits!r}")
    bias = 2 ** (int(scale_bits) - 1) - 1
    return -bias, bias, bias, 2 ** int(scale_bits) - 1


def shared_exponents(amax, elem, scale_rule: str = "floor", scale_overflow: str = "nan",
                     scale_bits: int = 8):
    """(E, nan): the unbiased shared exponent of blocks whose (non-negative) amax is given, and
    where the scale is NaN (a NaN or inf amax, or E above the scale's emax (127 for E8M0) under
    scale_overflow="nan")."""
    emin_scale, emax_scale, _, _ = scale_range(scale_bits)
    _check_choice(scale_rule, SCALE_RULES, "scale rule")
    _check_choice(scale_overflow, SCALE_OVERFLOW_RULES, "scale_overflow")
    fmt = element_format(elem)
    amax = np.asarray(amax, dtype=np.float64)
    finite = np.isfinite(amax)
    positive = finite & (amax > 0)
    safe = np.where(positive, amax, 1.0)
    mantissa, exponent = np.frexp(safe)  # safe = mantissa * 2^exponent, mantissa in [0.5, 1)
    floor_log2 = exponent.astype(np.int64) - 1
    emax = element_emax(fmt)
    if scale_rule == "floor":
        e = floor_log2 - emax
    elif scale_rule == "ceil":
        e = floor_log2 + (mantissa != 0.5) - emax
    elif scale_rule == "even":
        # rounding amax's significand 2 * mantissa in [1, 2) to p fraction bits, halves up,
        # carries into the next binade exactly when it is at least 2 - 2^-(p + 1)
        p = _precision_bits(fmt)
        e = floor_log2 + (2.0 * mantissa >= 2.0 - math.ldexp(1.0, -(p + 1))) - emax
    else:  # rceil: the smallest e with amax <= max * 2^e lies in {f, f + 1}
        f = np.clip(floor_log2 - emax, -40000, 40000)  # beyond, the clamp below decides
        with np.errstate(over="ignore"):  # (max * 2^f beyond float64 is inf: amax <= it)
            e = f + (safe > np.ldexp(fmt.max, f))
    e = np.where(positive, e, emin_scale)
    nan = ~finite
    if scale_overflow == "nan":
        nan = nan | (e > emax_scale)
    e = np.clip(e, emin_scale, emax_scale)
    return e.astype(np.int64), nan


def _blocks(x, block, axis, name):
    """x as a float64 array of shape (..., nblocks, block) with `axis` moved last, and the
    shape of the moved array."""
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"{name}: block must be a positive integer, got {block!r}")
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"{name}: needs an array with at least one dimension, got a scalar")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name}: needs real numbers, got dtype {arr.dtype}")
    axis = _normalize_axis(axis, arr.ndim, name)
    moved = np.moveaxis(arr.astype(np.float64, copy=False), axis, -1)
    n = moved.shape[-1]
    if n % block:
        raise ValueError(f"{name}: block {block} does not divide the length {n} of axis {axis}")
    return moved.reshape(moved.shape[:-1] + (n // block, block)), moved.shape, axis


def _normalize_axis(axis, ndim, name) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim


def bfp_encode(x, elem, *, block: int, scale_bits: int = 8, axis: int = -1,
               scale_rule: str = "floor", nonfinite: str = "nan-scale",
               scale_overflow: str = "nan", mode: str = "rne", seed=None, flags=None,
               backend=None, _caller: str = "bfp_encode"):
    """(element codes, scale codes) of x in blocks of `block` along `axis`, each block's scale a
    power of two 2^E stored as the `scale_bits`-bit code E + bias (all ones: NaN; E8M0 for 8):
    generic block floating point, of which MX is the 8-bit-scale case (mx_encode).

    Codes have x's shape (uint8, or uint16 for wider elements; fixed point elements in two's
    complement); scales have x's shape with that axis divided by `block`. Elements are rounded
    once from the exact quotient x / X with `mode` (rne, as the spec says, by default) and
    saturate at the element's max. Elements of a block with the NaN scale decode to NaN whatever
    they hold: numprec writes the element format's NaN there, or zero where it has none.
    flags (a numprec.Flags) counts the elements' rounding events.

    float32 and float64 arrays take one compiled pass (numprec.kernels.cpu.mx) when the
    options allow (no flags, nonfinite "nan-scale" or "error", scale_bits <= 10, an element
    format with subnormals or signed fixed point); everything else, and every invalid argument,
    takes the exact multi-pass path, which gives the same bits. backend: "cpu" or "gpu" (None:
    numprec.get_backend()); the GPU's codes (numprec.kernels.gpu.quant) are the CPU's bits."""
    if on_gpu(backend):
        return _bfp_encode_gpu(x, elem, block, scale_bits, axis, scale_rule, nonfinite,
                               scale_overflow, mode, seed, flags, _caller)
    fast = _bfp_encode_fast(x, elem, block, scale_bits, axis, scale_rule, nonfinite,
                            scale_overflow, mode, seed, flags)
    if fast is not None:
        return fast
    return _bfp_encode_exact(x, elem, block=block, scale_bits=scale_bits, axis=axis,
                             scale_rule=scale_rule, nonfinite=nonfinite,
                             scale_overflow=scale_overflow, mode=mode, seed=seed, flags=flags,
                             _caller=_caller)


def _bfp_encode_gpu(x, elem, block, scale_bits, axis, scale_rule, nonfinite, scale_overflow,
                    mode, seed, flags, caller):
    """bfp_encode on the GPU: the exact path's checks on the host (names, shapes, the first
    NaN or inf for nonfinite="error"), then numprec.kernels.gpu.quant.mx_encode."""
    from ..kernels.gpu import quant as gpu_quant
    fmt = element_format(elem)
    _check_choice(nonfinite, NONFINITE_RULES, "nonfinite rule")
    _check_choice(scale_rule, SCALE_RULES, "scale rule")
    _check_choice(scale_overflow, SCALE_OVERFLOW_RULES, "scale_overflow")
    check_mode(mode)
    check_flags(flags)
    scale_range(scale_bits)
    blocks, _, axis = _blocks(x, block, axis, caller)
    bad = ~np.isfinite(blocks)
    if nonfinite == "error":
        _refuse_nonfinite_blocks(bad, caller)
        nonfinite = "nan-scale"  # (none there: the same codes)
    arr = x if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64) else \
        np.asarray(x, dtype=np.float64)
    return gpu_quant.mx_encode(arr, fmt, block=int(block), axis=axis, scale_rule=scale_rule,
                               nonfinite=nonfinite, scale_overflow=scale_overflow,
                               scale_bits=int(scale_bits), mode=mode, seed=seed, flags=flags)


def _refuse_nonfinite_blocks(bad, caller):
    """nonfinite="error": name how many NaN or inf values the blocks hold and the first one's
    block (bad: the blocks' non-finite mask, blocks along the last axis)."""
    if bad.any():
        first = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise ValueError(f"{caller}: {int(bad.sum())} NaN or inf value(s); the first is in "
                         f"block {first[:-1]} (nonfinite='ignore' or 'nan-scale' accept them)")


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _fast_element(fmt):
    """(fixed point?, the element constants of the compiled encode
    (numprec.kernels.cpu.mx._mx_element)), or None for an element format it does not handle
    (no subnormals, unsigned)."""
    P = fmt.kernel_params
    nbits = fmt.nbits
    # (only the plain signed kinds: no unsigned or zero-less float, no wrapping fixed point)
    if (not getattr(fmt, "signed", True) or not getattr(fmt, "zero", True)
            or getattr(fmt, "overflow", "saturate") != "saturate"):
        return None
    if isinstance(fmt, FixedPoint):
        limits = (math.ldexp(1.0, fmt.frac_bits), float(P[P_MAXM_POS]), float(P[P_MAXM_NEG]),
                  (1 << nbits) - 1)
        bits = (0, 0, 0, fmt.frac_bits, int(P[P_MAXM_POS]), int(P[P_MAXM_NEG]), (1 << nbits) - 1)
        p32 = _p32(0, 0, 0, 0, 0, False, fmt.frac_bits, P[P_MAXM_POS], P[P_MAXM_NEG],
                   (1 << nbits) - 1)
        f32_ok = fmt.frac_bits <= 100
        return True, (0, 0, 0, 1.0, 0, 0, False, limits, bits, p32, f32_ok)
    if not fmt.subnormals or fmt.emin < -1000:
        return None
    maxmag = int(encode(np.array([fmt.max]), fmt)[0])
    bits = (fmt.mbits, fmt.emin, fmt.bias, 0, 0, 0, 0)
    # float32 lanes: 2^-126 below half the smallest quantum, every binade a float32 one
    f32_ok = fmt.emin - fmt.mbits - 1 > -126 and fmt.emax <= 127 and fmt.mbits <= 22
    p32 = _p32(fmt.emin if f32_ok else 0, fmt.mbits, fmt.bias, maxmag, 1 << (nbits - 1),
               fmt.nan == "fnuz", 0, 0, 0, 0)
    return False, (52 - fmt.mbits, (fmt.emin + 1023) << 52, (1023 - fmt.bias) << fmt.mbits,
                   math.ldexp(1.0, fmt.mbits - fmt.emin), maxmag, 1 << (nbits - 1),
                   fmt.nan == "fnuz", (1.0, 0.0, 0.0, 0), bits, p32, f32_ok)


def _p32(emin, mbits, bias, maxmag, sign_bit, fnuz_zero, nfrac, limit_pos, limit_neg, mask):
    """The float32-lane constants of numprec.kernels.cpu.mx._mx_f32_element ((254 + mbits)
    << 23 wrapped into int32: the kernel's int32 difference with P's bits wraps back)."""
    i32, f32 = np.int32, np.float32
    return (f32(2.0 ** -126), i32(np.float32(2.0 ** emin).view(np.int32)),
            i32(((254 + mbits) << 23) - (1 << 32) if mbits >= 2 else (254 + mbits) << 23),
            i32(23 - mbits), i32((128 - bias) << mbits), i32(maxmag),
            i32(sign_bit), bool(fnuz_zero), f32(2.0 ** nfrac), f32(limit_pos), f32(limit_neg),
            i32(mask))


_FAST_ELEMENTS: dict = {}


def _bfp_encode_fast(x, elem, block, scale_bits, axis, scale_rule, nonfinite, scale_overflow,
                     mode, seed, flags):
    """bfp_encode by the one-pass kernel, or None where it does not apply (then the exact path
    runs, and raises for invalid arguments as it always did)."""
    if (flags is not None or not isinstance(x, np.ndarray)
            or x.dtype not in (np.float32, np.float64) or x.ndim == 0 or x.size == 0
            or nonfinite not in ("nan-scale", "error") or scale_rule not in SCALE_RULES
            or scale_overflow not in SCALE_OVERFLOW_RULES
            or not isinstance(mode, str) or mode not in MODE_CODE
            or not _is_int(block) or block < 1 or not _is_int(axis)
            or not -x.ndim <= axis < x.ndim or not _is_int(scale_bits)
            or not 2 <= scale_bits <= 10):
        return None
    try:
        fmt = element_format(elem)
        key = key_from_seed(seed, STREAM_ROUND) if MODE_CODE[mode] == SR else 0
    except (TypeError, ValueError, KeyError):
        return None
    axis = int(axis) % x.ndim
    n = x.shape[axis]
    if n % block:
        return None
    if fmt not in _FAST_ELEMENTS:  # (the NaN-scale blocks' filler: NaN, or 0 without NaN)
        filler = int(encode(np.array([np.nan if fmt.has_nan else 0.0]), fmt)[0])
        _FAST_ELEMENTS[fmt] = (_fast_element(fmt), filler)
    element, filler = _FAST_ELEMENTS[fmt]
    if element is None:
        return None
    fixed, constants = element
    emin_s, emax_s, bias, nan_code = scale_range(scale_bits)
    params = (fixed, SCALE_RULES.index(scale_rule), element_emax(fmt), _precision_bits(fmt),
              float(fmt.max), emin_s, emax_s, bias, nan_code, scale_overflow == "nan", filler,
              constants)
    moved = np.ascontiguousarray(x if axis == x.ndim - 1 else np.moveaxis(x, axis, -1))
    flat = moved.reshape(-1)
    codes = np.empty(flat.size, dtype=np.uint8 if fmt.container_bits == 8 else np.uint16)
    scales = np.empty(flat.size // block, dtype=np.uint8 if scale_bits <= 8 else np.uint16)
    bad = _fast.mx_encode_into(flat, codes, scales, int(block), params, MODE_CODE[mode], key,
                               SR_MAX_BITS)
    if bad and nonfinite == "error":
        return None  # the exact path names the first NaN or inf
    codes = np.moveaxis(codes.reshape(moved.shape), -1, axis)
    scales = scales.reshape(moved.shape[:-1] + (n // block,))
    return codes, np.moveaxis(scales, -1, axis)


def _bfp_encode_exact(x, elem, *, block: int, scale_bits: int = 8, axis: int = -1,
               scale_rule: str = "floor", nonfinite: str = "nan-scale",
               scale_overflow: str = "nan", mode: str = "rne", seed=None, flags=None,
               _caller: str = "bfp_encode"):
    """The exact multi-pass reference of bfp_encode (the fast kernel is checked against it):
    (element codes, scale codes) of x in blocks of `block` along `axis`, each block's scale a
    power of two 2^E stored as the `scale_bits`-bit code E + bias (all ones: NaN; E8M0 for 8):
    generic block floating point, of which MX is the 8-bit-scale case (mx_encode).

    Codes have x's shape (uint8, or uint16 for wider elements; fixed point elements in two's
    complement); scales have x's shape with that axis divided by `block`. Elements are rounded
    once from the exact quotient x / X with `mode` (rne, as the spec says, by default) and
    saturate at the element's max. Elements of a block with the NaN scale decode to NaN whatever
    they hold: numprec writes the element format's NaN there, or zero where it has none.
    flags (a numprec.Flags) counts the elements' rounding events."""
    fmt = element_format(elem)
    _check_choice(nonfinite, NONFINITE_RULES, "nonfinite rule")
    blocks, moved_shape, axis = _blocks(x, block, axis, _caller)
    magnitude = np.abs(blocks)
    bad = ~np.isfinite(blocks)
    if nonfinite == "error":
        _refuse_nonfinite_blocks(bad, _caller)
    if nonfinite == "ignore":
        amax = np.where(bad, 0.0, magnitude).max(axis=-1)
    else:
        amax = magnitude.max(axis=-1)  # NaN where the block holds a NaN, inf for an inf
    _, _, bias, nan_code = scale_range(scale_bits)
    e, nan_scale = shared_exponents(amax, fmt, scale_rule, scale_overflow, scale_bits)
    scaled = np.ldexp(blocks, -e[..., None])  # exact where the result is a normal float64
    # a nonzero quotient below float64's normal range rounds like any value of its sign below
    # the element's smallest quantum; stand in for it exactly (ldexp may have lost its bits)
    tiny = (np.abs(scaled) < _TINY) & (blocks != 0)
    scaled = np.where(tiny, np.copysign(_TINY, blocks), scaled)
    filler = np.nan if fmt.has_nan else 0.0
    scaled = np.where(nan_scale[..., None], filler, scaled)
    if nonfinite == "ignore" and not fmt.has_nan and np.isnan(scaled).any():
        raise ValueError(f"{_caller}: {fmt.name} has no NaN for the NaN value(s) of x "
                         "(nonfinite='nan-scale' gives their block the NaN scale)")
    codes = encode(scaled, fmt, mode, saturate=True, seed=seed, flags=flags)
    scales = np.where(nan_scale, nan_code, e + bias).astype(
        np.uint8 if scale_bits <= 8 else np.uint16)
    codes = np.moveaxis(codes.reshape(moved_shape), -1, axis)
    return codes, np.moveaxis(scales, -1, axis)


def mx_encode(x, elem, *, block: int = 32, axis: int = -1, scale_rule: str = "floor",
              nonfinite: str = "nan-scale", scale_overflow: str = "nan", mode: str = "rne",
              seed=None, flags=None, backend=None):
    """(element codes, E8M0 scale codes) of x in OCP MX blocks of `block` along `axis`.

    Codes have x's shape (uint8, or uint16 for wider elements; fixed point elements in two's
    complement); scales have x's shape with that axis divided by `block`. Elements are rounded
    once from the exact quotient x / X with `mode` (rne, as the spec says, by default) and
    saturate at the element's max. Elements of a block with the NaN scale decode to NaN whatever
    they hold: numprec writes the element format's NaN there, or zero where it has none.
    flags (a numprec.Flags) counts the elements' rounding events. backend: "cpu" or "gpu"
    (None: numprec.get_backend())."""
    return bfp_encode(x, elem, block=block, scale_bits=8, axis=axis, scale_rule=scale_rule,
                      nonfinite=nonfinite, scale_overflow=scale_overflow, mode=mode, seed=seed,
                      flags=flags, backend=backend, _caller="mx_encode")


def bfp_decode(codes, scales, elem, *, block: int, scale_bits: int = 8, axis: int = -1,
               _caller: str = "bfp_decode"):
    """float64 values of block floating point element codes and their scale codes
    (bfp_encode's layout)."""
    _, _, bias, nan_code = scale_range(scale_bits)
    fmt = element_format(elem)
    codes = np.asarray(codes)
    scales = np.asarray(scales)
    if not np.issubdtype(codes.dtype, np.integer) or not np.issubdtype(scales.dtype,
                                                                         np.integer):
        raise TypeError(f"{_caller}: codes and scales must be integer arrays, got "
                        f"{codes.dtype} and {scales.dtype}")
    blocks, moved_shape, axis = _blocks(codes, block, axis, _caller)
    moved_scales = np.moveaxis(scales, axis, -1) if scales.ndim else scales
    if moved_scales.shape != blocks.shape[:-1]:
        raise ValueError(f"{_caller}: scales of shape {scales.shape} do not match codes of shape"
                         f" {codes.shape} in blocks of {block} along axis {axis}")
    if scales.size and (scales.min() < 0 or scales.max() > nan_code):
        raise ValueError(f"{_caller}: {scale_bits}-bit scale codes lie in 0..{nan_code}")
    if codes.size and (codes.min() < 0 or codes.max() >= 2 ** fmt.nbits):
        raise ValueError(f"{_caller}: {fmt.name} codes lie in 0..{2 ** fmt.nbits - 1}")
    values = decode(blocks.astype(np.int64), fmt)
    e = moved_scales.astype(np.int64) - bias
    with np.errstate(over="ignore"):  # exact unless beyond float64 (scale_bits > 10): inf
        out = np.ldexp(values, e[..., None])
    out = np.where((moved_scales == nan_code)[..., None], np.nan, out)
    return np.moveaxis(out.reshape(moved_shape), -1, axis)


def mx_decode(codes, scales, elem, *, block: int = 32, axis: int = -1):
    """float64 values of MX element codes and their E8M0 scale codes (mx_encode's layout)."""
    return bfp_decode(codes, scales, elem, block=block, scale_bits=8, axis=axis,
                      _caller="mx_decode")


def mx_quantize(x, elem, *, block: int = 32, axis: int = -1, scale_rule: str = "floor",
                nonfinite: str = "nan-scale", scale_overflow: str = "nan", mode: str = "rne",
                seed=None, flags=None):
    """x through an MX format and back (float64): mx_decode(*mx_encode(x, ...))."""
    codes, scales = mx_encode(x, elem, block=block, axis=axis, scale_rule=scale_rule,
                              nonfinite=nonfinite, scale_overflow=scale_overflow, mode=mode,
                              seed=seed, flags=flags)
    return mx_decode(codes, scales, elem, block=block, axis=axis)


def block_stats(x, elem, *, block: int = 32, scale_bits: int = 8, axis: int = -1,
                scale_rule: str = "floor", scale_overflow: str = "nan") -> dict:
    """Per-block statistics of x in a block format (what a monitor reports for MX):
    `shared_exponents` (histogram: {E: number of blocks}, NaN scales under "nan"),
    `clipped_frac` (elements whose exact |x| / X lies beyond the element's max: they saturate),
    `dynamic_range_log2` (per block, log2 of amax over the smallest nonzero |x|; NaN for blocks
    without a nonzero finite value) and `zero_blocks`. Non-finite values count as NaN scales."""
    fmt = element_format(elem)
    blocks, _, _ = _blocks(x, block, axis, "block_stats")
    magnitude = np.abs(blocks)
    finite = np.isfinite(blocks)
    amax = magnitude.max(axis=-1)
    e, nan_scale = shared_exponents(amax, fmt, scale_rule, scale_overflow, scale_bits)
    # |x| / 2^E > max exactly  <=>  |x| > max * 2^E (ldexp exact: max has few bits)
    with np.errstate(over="ignore"):  # (beyond float64: inf, nothing clips)
        limit = np.ldexp(fmt.max, e)[..., None]
    clipped = (magnitude > limit) & finite & ~nan_scale[..., None]
    nonzero = np.where(finite & (magnitude > 0), magnitude, np.inf)
    smallest = nonzero.min(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(np.isfinite(smallest) & np.isfinite(amax),
                          np.log2(amax) - np.log2(smallest), np.nan)
    values, counts = np.unique(e[~nan_scale], return_counts=True)
    histogram = {int(v): int(c) for v, c in zip(values, counts)}
    return {"shared_exponents": histogram, "nan_scales": int(nan_scale.sum()),
            "clipped_frac": float(clipped.sum() / blocks.size) if blocks.size else np.nan,
            "dynamic_range_log2": spread.reshape(-1), "zero_blocks": int((amax == 0).sum())}


def e8m0_decode(scales):
    """float64 values 2^(s - 127) of E8M0 scale codes (NaN for 0xFF)."""
    s = np.asarray(scales)
    if not np.issubdtype(s.dtype, np.integer) or (s.size and (s.min() < 0 or s.max() > 0xFF)):
        raise ValueError("e8m0_decode: E8M0 scale codes are bytes (0..255)")
    out = np.ldexp(1.0, s.astype(np.int64) - E8M0_BIAS)
    return np.where(s == E8M0_NAN, np.nan, out)


__all__ = ["mx_encode", "mx_decode", "mx_quantize", "bfp_encode", "bfp_decode", "scale_range",
           "block_stats", "shared_exponents", "element_format",
           "element_emax", "e8m0_decode", "MX_FORMATS", "SCALE_RULES", "NONFINITE_RULES",
           "SCALE_OVERFLOW_RULES", "E8M0_BIAS", "E8M0_NAN"]
