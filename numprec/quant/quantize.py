"""quantize / dequantize: integer quantization of float arrays, bit-exact (docs/quantization.md,
"Quantizers").

    q = clamp(R(x / scale) + zero_point, qmin, qmax)        (default: zero point after rounding)
    q = clamp(R(x / scale + zero_point), qmin, qmax)        (zero_point_before_rounding=True)

R rounds the exact real quotient once in a numprec rounding mode (numprec.quant.affine proves
it); scale and zero point come from the arguments or from an observer (PyTorch's formulas:
numprec.quant.qparams), per tensor, per channel or per group (numprec.quant.granularity).

float32 and float64 arrays quantized per tensor or per channel in a deterministic mode take one
compiled pass (numprec.kernels.cpu.quant, which proves it gives the same integers), and the
minmax observer one more; everything else, and every invalid argument, takes the exact path
(_quantize_exact, the reference the fast one is tested against).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..codes import FLAG_NAMES, MODE_CODE, NFLAGS, SR
from ..kernels.cpu import quant as _fast
from ..ops.validate import as_float64, check_flags, check_mode
from .affine import dequantize_values, quantize_values
from .backend import on_gpu
from .granularity import Granularity
from .observers import Observer, make_observer
from .qparams import check_bits, check_scheme, int_dtype, int_range, pow2_ceil, range_qparams

NONFINITE = ("error", "clamp")
_SATURATED = FLAG_NAMES.index("saturated")


@dataclass(frozen=True, eq=False)
class Quantized:
    """Integer codes with their scale and zero point.

    q: integers in the smallest numpy dtype holding [qmin, qmax] (int8/uint8 up to 8 bits,
    int16/uint16 up to 16); scale (float64) and zero_point (int64) arrays of shape () per
    tensor, x's shape with 1 off the axis per channel, and x's shape with n / G along the axis
    per group; nonfinite_counts: how many NaN, +inf and -inf nonfinite="clamp" mapped.
    """

    q: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    bits: int
    signed: bool
    scheme: str
    axis: int | None = None
    group: int | None = None
    nonfinite_counts: dict = field(default_factory=lambda: {"nan": 0, "posinf": 0, "neginf": 0})

    @property
    def qmin(self) -> int:
        return int_range(self.bits, self.signed)[0]

    @property
    def qmax(self) -> int:
        return int_range(self.bits, self.signed)[1]

    def dequantize(self) -> np.ndarray:
        """(q - zero_point) * scale in float64."""
        return dequantize(self.q, self.scale, self.zero_point, axis=self.axis, group=self.group)


def _check_input(x) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64):
        return np.require(x, requirements="C")
    return as_float64(x, "x")


def _nonfinite_counts(x) -> dict:
    with np.errstate(invalid="ignore", over="ignore"):  # (inf - inf, finite overflow: counted)
        total = np.sum(x, dtype=np.float64)
    if np.isfinite(total):  # NaN and inf always reach the sum
        return {"nan": 0, "posinf": 0, "neginf": 0}
    return {"nan": int(np.count_nonzero(np.isnan(x))),
            "posinf": int(np.count_nonzero(x == np.inf)),
            "neginf": int(np.count_nonzero(x == -np.inf))}


def _refuse_nonfinite(x, counts):
    flat = np.flatnonzero(~np.isfinite(x.reshape(-1)))
    first = np.unravel_index(flat[0], x.shape) if x.ndim else ()
    index = tuple(int(i) for i in first)
    raise ValueError(f"quantize: x holds {counts['nan']} NaN, {counts['posinf']} +inf and "
                     f"{counts['neginf']} -inf value(s); the first is {float(x[index])!r} at "
                     f"index {index}; pass nonfinite='clamp' to map NaN to the zero point and "
                     "+-inf to qmax/qmin")


def _param(value, name, gran, dtype):
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"quantize: {name} must be real numbers, got {value!r}")
    shape = gran.param_shape
    if gran.kind == "channel" and arr.ndim == 1 and arr.size == gran.shape[gran.axis]:
        arr = arr.reshape(shape)
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"quantize: {name} of shape {arr.shape} does not fit {gran}, which "
                         f"needs shape {shape}") from None
    return np.array(arr, dtype=dtype)


def _first_bad(arr, bad):
    return arr.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]].item()


def _check_scale(scale, gran):
    s = _param(scale, "scale", gran, np.float64)
    bad = ~(np.isfinite(s) & (s > 0))
    if np.any(bad):
        raise ValueError(f"quantize: scale must be positive and finite, got "
                         f"{_first_bad(s, bad)!r}")
    return s


def _check_zero_point(zero_point, gran, qmin, qmax):
    raw = _param(zero_point, "zero_point", gran, np.float64)
    bad = ~np.isfinite(raw) | (raw != np.round(raw))
    if np.any(bad):
        raise ValueError(f"quantize: zero_point must be integers, got {_first_bad(raw, bad)!r}")
    out = ((raw < qmin) | (raw > qmax))
    if np.any(out):
        raise ValueError(f"quantize: zero_point {int(_first_bad(raw, out))} is out of the "
                         f"integer range [{qmin}, {qmax}]")
    return raw.astype(np.int64)


def _qparams_from_observer(observer, x, gran, bits, signed, scheme, power_of_two):
    if isinstance(observer, Observer):
        made_for = Granularity.of(x.shape, observer.axis, observer.group)
        if (made_for.axis, made_for.group) != (gran.axis, gran.group):
            raise ValueError(f"quantize: the observer was made for axis={observer.axis}, "
                             f"group={observer.group}; quantize got {gran}")
        obs = observer if observer.gran is not None else observer.observe(x)
    elif isinstance(observer, str):
        obs = make_observer(observer, axis=gran.axis, group=gran.group).observe(x)
    else:
        raise TypeError(f"quantize: observer must be a name or a numprec.quant Observer, got "
                        f"{observer!r}")
    scale, zp = obs.qparams(bits, signed, scheme, power_of_two=power_of_two)
    if scale.shape != gran.param_shape:
        raise ValueError(f"quantize: the observer gives scales of shape {scale.shape}; {gran} "
                         f"needs {gran.param_shape}")
    return scale, zp


def quantize(x, bits=8, *, signed=True, scheme="symmetric", axis=None, group=None, scale=None,
             zero_point=None, observer="minmax", mode="rne", seed=None,
             zero_point_before_rounding=False, nonfinite="error", power_of_two=False,
             flags=None, backend=None) -> Quantized:
    """Quantize x to `bits`-bit integers (docs/quantization.md, "Quantizers").

    scale=None takes scale and zero point from a fresh observer (`observer`: minmax,
    moving-minmax, percentile, mse, kl, or an Observer instance, used as it is if it has
    observed data). A given scale without zero_point takes zero point 0, or 2^(bits-1) for
    unsigned symmetric. mode: rne, rna, rtz, rup, rdn, rto or sr (seed). nonfinite: "error"
    refuses NaN/inf, "clamp" maps NaN to the zero point and +-inf to qmax/qmin. power_of_two
    rounds every scale up to a power of two. flags (numprec.Flags) counts the clamped elements
    as `saturated`. backend: "cpu" or "gpu" (None: numprec.get_backend()); on the GPU the
    observer and the checks run on the host and the codes come from
    numprec.kernels.gpu.quant, bit for bit the CPU's.
    """
    if on_gpu(backend):
        return _quantize_exact(x, bits, signed=signed, scheme=scheme, axis=axis, group=group,
                               scale=scale, zero_point=zero_point, observer=observer, mode=mode,
                               seed=seed, zero_point_before_rounding=zero_point_before_rounding,
                               nonfinite=nonfinite, power_of_two=power_of_two, flags=flags,
                               _gpu=True)
    fast = _quantize_fast(x, bits, signed, scheme, axis, group, scale, zero_point, observer,
                          mode, zero_point_before_rounding, nonfinite, power_of_two, flags)
    if fast is not None:
        return fast
    return _quantize_exact(x, bits, signed=signed, scheme=scheme, axis=axis, group=group,
                           scale=scale, zero_point=zero_point, observer=observer, mode=mode,
                           seed=seed, zero_point_before_rounding=zero_point_before_rounding,
                           nonfinite=nonfinite, power_of_two=power_of_two, flags=flags)


def _given_qparams(scale, zero_point, gran, bits, signed, scheme, power_of_two):
    """The checked scale (rounded up to a power of two when asked) and zero point of a call that
    gives its scale: zero point 0 when none is given, or 2^(bits-1) for unsigned symmetric."""
    s = _check_scale(scale, gran)
    if power_of_two:
        s = pow2_ceil(s)
    if zero_point is None:
        default = 1 << (bits - 1) if (not signed and scheme == "symmetric") else 0
        return s, np.full(gran.param_shape, default, dtype=np.int64)
    qmin, qmax = int_range(bits, signed)
    return s, _check_zero_point(zero_point, gran, qmin, qmax)


def _quantize_fast(x, bits, signed, scheme, axis, group, scale, zero_point, observer, mode,
                   zp_before, nonfinite, power_of_two, flags):
    """quantize by the one-pass kernel (numprec.kernels.cpu.quant.quantize_into), or None where
    it does not apply: other input types, per group, mode sr, scales beyond 2^-1000..2^990, and
    every argument the exact path refuses (it then raises as it always did)."""
    if (not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64) or x.size == 0
            or group is not None or not isinstance(mode, str) or mode not in MODE_CODE
            or MODE_CODE[mode] == SR or nonfinite not in NONFINITE
            or not isinstance(signed, (bool, np.bool_))):
        return None
    try:
        bits = check_bits(bits)
        scheme = check_scheme(scheme)
        check_flags(flags)
        gran = Granularity.of(x.shape, axis, None)
    except (TypeError, ValueError):
        return None
    signed = bool(signed)
    qmin, qmax = int_range(bits, signed)
    x = np.require(x, requirements="C")
    if gran.axis is None:
        outer, nchan, inner = 1, 1, x.size
    else:
        nchan = x.shape[gran.axis]
        outer = int(np.prod(x.shape[:gran.axis], dtype=np.int64))
        inner = int(np.prod(x.shape[gran.axis + 1:], dtype=np.int64))
    flat = x.reshape(-1)
    counts = None
    if scale is None:
        if zero_point is not None:
            return None
        if isinstance(observer, str) and observer == "minmax":  # one compiled pass
            lo, hi, found = _fast.finite_minmax(flat, outer, nchan, inner)
            counts = dict(zip(("nan", "posinf", "neginf"), found))
            if sum(found) and nonfinite == "error":
                _refuse_nonfinite(x, counts)
            try:  # (lo, hi widened to include 0, as range_qparams does first)
                s, zp = range_qparams(lo, hi, bits, signed, scheme, bool(power_of_two))
            except ValueError:  # the exact path names the observed range in its message
                return None
            s, zp = gran.from_rows(s), gran.from_rows(zp)
        else:  # the exact path's steps, in its order
            counts = _nonfinite_counts(x)
            if sum(counts.values()) and nonfinite == "error":
                _refuse_nonfinite(x, counts)
            s, zp = _qparams_from_observer(observer, x, gran, bits, signed, scheme,
                                           power_of_two)
    else:
        try:
            s, zp = _given_qparams(scale, zero_point, gran, bits, signed, scheme, power_of_two)
        except (TypeError, ValueError):
            return None
    if not _fast.scales_supported(s):  # (an observer has observed: finish here, exactly)
        if counts is None:
            counts = _nonfinite_counts(x)
            if sum(counts.values()) and nonfinite == "error":
                _refuse_nonfinite(x, counts)
        return _exact_values(x, gran, s, zp, counts, bits, signed, scheme, mode,
                             MODE_CODE[mode], None, bool(zp_before), flags)
    inv, sh, sl = (np.ascontiguousarray(a.reshape(-1)) for a in _fast.split_scale(s))
    zpf = np.ascontiguousarray(zp.reshape(-1), dtype=np.float64)
    zeros = np.zeros_like(zpf)
    zb, za = (zpf, zeros) if zp_before else (zeros, zpf)
    out = np.empty(flat.size, dtype=np.uint8 if bits <= 8 else np.uint16)
    saturated, *found = _fast.quantize_into(flat, out, outer, nchan, inner, inv, sh, sl, zb, za,
                                            qmin, qmax, MODE_CODE[mode])
    if counts is None:
        counts = dict(zip(("nan", "posinf", "neginf"), found))
        if sum(found) and nonfinite == "error":
            _refuse_nonfinite(x, counts)
    _add_saturated(flags, saturated)
    q = out.view(int_dtype(bits, signed)).reshape(x.shape)
    return Quantized(q, s, zp, bits, signed, scheme, gran.axis, gran.group, counts)


def _quantize_exact(x, bits=8, *, signed=True, scheme="symmetric", axis=None, group=None,
                    scale=None, zero_point=None, observer="minmax", mode="rne", seed=None,
                    zero_point_before_rounding=False, nonfinite="error", power_of_two=False,
                    flags=None, _gpu=False) -> Quantized:
    """quantize by the exact multi-pass path (numprec.quant.affine): the reference, and the path
    of everything the compiled kernel does not do; _gpu: the same checks and parameters, the
    codes from the GPU kernel."""
    bits = check_bits(bits)
    if not isinstance(signed, (bool, np.bool_)):
        raise TypeError(f"quantize: signed must be True or False, got {signed!r}")
    signed = bool(signed)
    scheme = check_scheme(scheme)
    code = check_mode(mode)
    if nonfinite not in NONFINITE:
        raise ValueError(f"quantize: unknown nonfinite={nonfinite!r}; valid: "
                         f"{', '.join(NONFINITE)}")
    check_flags(flags)
    x = _check_input(x)
    gran = Granularity.of(x.shape, axis, group)
    qmin, qmax = int_range(bits, signed)

    counts = _nonfinite_counts(x)
    nonfinite_total = sum(counts.values())
    if nonfinite_total and nonfinite == "error":
        _refuse_nonfinite(x, counts)

    if scale is None:
        if zero_point is not None:
            raise ValueError("quantize: zero_point= needs scale= (an observer chooses both)")
        s, zp = _qparams_from_observer(observer, x, gran, bits, signed, scheme, power_of_two)
    else:
        s, zp = _given_qparams(scale, zero_point, gran, bits, signed, scheme, power_of_two)

    if _gpu:
        return _gpu_values(x, gran, s, zp, counts, bits, signed, scheme, mode, seed,
                           bool(zero_point_before_rounding), flags)
    return _exact_values(x, gran, s, zp, counts, bits, signed, scheme, mode, code, seed,
                         bool(zero_point_before_rounding), flags)


def _exact_values(x, gran, s, zp, counts, bits, signed, scheme, mode, code, seed, zp_before,
                  flags) -> Quantized:
    """The exact path once scale and zero point are known (numprec.quant.affine)."""
    qmin, qmax = int_range(bits, signed)
    r, saturated = quantize_values(x, s, zp, qmin, qmax, mode, code, seed, zp_before, gran)
    if counts["nan"]:
        nan = np.isnan(r)
        r[nan] = np.broadcast_to(gran.expand(zp), x.shape)[nan]
    _add_saturated(flags, saturated)
    q = r.astype(int_dtype(bits, signed))
    return Quantized(q, s, zp, bits, signed, scheme, gran.axis, gran.group, counts)


def _gpu_values(x, gran, s, zp, counts, bits, signed, scheme, mode, seed, zp_before,
                flags) -> Quantized:
    """The codes of the validated x, s, zp from numprec.kernels.gpu.quant (NaN to the zero
    point and +-inf saturating, as _exact_values; "error" has refused them already)."""
    from ..kernels.gpu import quant as gpu_quant
    q, gpu_counts = gpu_quant.quantize(x, s, zp, bits=bits, signed=signed, axis=gran.axis,
                                       group=gran.group, mode=mode, seed=seed,
                                       zero_point_before_rounding=zp_before)
    _add_saturated(flags, gpu_counts["saturated"])
    q = q.astype(int_dtype(bits, signed), copy=False)
    return Quantized(q, s, zp, bits, signed, scheme, gran.axis, gran.group, counts)


def _add_saturated(flags, saturated):
    if flags is not None:
        add = np.zeros(NFLAGS, dtype=np.int64)
        add[_SATURATED] = saturated
        flags.add(add)


def dequantize(q, scale, zero_point=0, *, axis=None, group=None) -> np.ndarray:
    """(q - zero_point) * scale in float64, scale and zero point shaped as Quantized keeps
    them (for groups, n / G along `axis`: repeated G times)."""
    q = np.asarray(q)
    if q.dtype.kind not in "iu":
        raise TypeError(f"dequantize: q must be integers, got dtype {q.dtype}")
    gran = Granularity.of(q.shape, axis, group)
    s = np.asarray(scale, dtype=np.float64)
    z = np.asarray(zero_point)
    if z.dtype.kind not in "iu":
        raise TypeError(f"dequantize: zero_point must be integers, got dtype {z.dtype}")
    if gran.kind == "channel":
        n = q.shape[gran.axis]
        s = s.reshape(gran.param_shape) if s.ndim == 1 and s.size == n else s
        z = z.reshape(gran.param_shape) if z.ndim == 1 and z.size == n else z
    try:  # a scalar scale or zero point stands for every channel or group
        s = np.broadcast_to(s, gran.param_shape)
        z = np.broadcast_to(z, gran.param_shape)
    except ValueError:
        raise ValueError(f"dequantize: scale of shape {np.shape(scale)} and zero_point of shape "
                         f"{np.shape(zero_point)} do not fit {gran}, which needs shape "
                         f"{gran.param_shape}") from None
    return dequantize_values(q, s, z, gran)
