"""quantize / dequantize: integer quantization of float arrays, bit-exact (docs/quantization.md,
"Quantizers").

    q = clamp(R(x / scale) + zero_point, qmin, qmax)        (default: zero point after rounding)
    q = clamp(R(x / scale + zero_point), qmin, qmax)        (zero_point_before_rounding=True)

R rounds the exact real quotient once in a numprec rounding mode (numprec.quant.affine proves
it); scale and zero point come from the arguments or from an observer (PyTorch's formulas:
numprec.quant.qparams), per tensor, per channel or per group (numprec.quant.granularity).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..codes import FLAG_NAMES, NFLAGS
from ..ops.validate import as_float64, check_flags, check_mode
from .affine import dequantize_values, quantize_values
from .granularity import Granularity
from .observers import Observer, make_observer
from .qparams import check_bits, check_scheme, int_dtype, int_range, pow2_ceil

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
    if np.isfinite(np.sum(x, dtype=np.float64)):  # NaN and inf always reach the sum
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
             flags=None) -> Quantized:
    """Quantize x to `bits`-bit integers (docs/quantization.md, "Quantizers").

    scale=None takes scale and zero point from a fresh observer (`observer`: minmax,
    moving-minmax, percentile, mse, kl, or an Observer instance, used as it is if it has
    observed data). A given scale without zero_point takes zero point 0, or 2^(bits-1) for
    unsigned symmetric. mode: rne, rna, rtz, rup, rdn, rto or sr (seed). nonfinite: "error"
    refuses NaN/inf, "clamp" maps NaN to the zero point and +-inf to qmax/qmin. power_of_two
    rounds every scale up to a power of two. flags (numprec.Flags) counts the clamped elements
    as `saturated`.
    """
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
        s = _check_scale(scale, gran)
        if power_of_two:
            s = pow2_ceil(s)
        if zero_point is None:
            default = 1 << (bits - 1) if (not signed and scheme == "symmetric") else 0
            zp = np.full(gran.param_shape, default, dtype=np.int64)
        else:
            zp = _check_zero_point(zero_point, gran, qmin, qmax)

    r, saturated = quantize_values(x, s, zp, qmin, qmax, mode, code, seed,
                                   bool(zero_point_before_rounding), gran)
    if counts["nan"]:
        nan = np.isnan(r)
        r[nan] = np.broadcast_to(gran.expand(zp), x.shape)[nan]
    if flags is not None:
        add = np.zeros(NFLAGS, dtype=np.int64)
        add[_SATURATED] = saturated
        flags.add(add)
    q = r.astype(int_dtype(bits, signed))
    return Quantized(q, s, zp, bits, signed, scheme, gran.axis, gran.group, counts)


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
