"""What-if statistics: what a tensor would lose in another format, without changing the run.

For a format F, the tensor's values x are rounded to F (rne, saturating, as a cast with clipping
would) and compared with x: `underflow_frac` (nonzero values that became zero), `overflow_frac`
(values whose rounding overflowed F's range: clamped to +-max here), `clipping_frac` (|x| > F's
max), `rel_error` (||q - x|| / ||x||, norm-wise over the finite elements) and `sqnr_db`
(10 log10(sum x^2 / sum (q - x)^2); inf when nothing was lost). The `_scaled` variant first
scales the tensor per tensor as FP8 recipes do (scale = F.max / amax in float32, Transformer
Engine's rule: numprec.policy.scale_from_amax) and dequantizes with float32(1 / scale). The
`_block` variant, for element formats of at most 16 bits with a sign (block_formats), scales
per block as OCP MX does: blocks of 32 along the tensor's last axis (zero-padded), an E8M0
power-of-two scale per block from the floor rule (numprec.quant.mx_quantize); `clipping_frac`
counts the elements beyond their block's element max. Non-finite elements are left out (and
stand as zeros in their block). Stat names: whatif_<canonical format name>[_scaled|_block]_<stat>.
"""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..formats import get_format
from ..ops.flags import Flags
from ..formats import FixedPoint
from ..policy.scaling import scale_from_amax
from ..quant.mx import e8m0_decode, mx_decode, mx_encode

WHATIF_STATS = ("underflow_frac", "overflow_frac", "clipping_frac", "rel_error", "sqnr_db")
BLOCK = 32


def has_block_variant(fmt) -> bool:
    """True when fmt can be an MX element (signed, at most 16 bits)."""
    fmt = get_format(fmt)
    return fmt.nbits <= 16 and (not isinstance(fmt, FixedPoint) or fmt.signed)


def variants(fmt) -> tuple:
    """The what-if variants of fmt: unscaled, per-tensor scaled, and per-block where it can."""
    return (False, True, "block") if has_block_variant(fmt) else (False, True)


def whatif_names(fmt, scaled) -> tuple:
    """The stat names for one format and variant (False, True: per tensor, "block")."""
    suffix = "_block" if scaled == "block" else "_scaled" if scaled else ""
    prefix = f"whatif_{get_format(fmt).name}{suffix}_"
    return tuple(prefix + stat for stat in WHATIF_STATS)


def _block_quantized(x, fmt, flags):
    """(q, clipped count) of x's finite elements through MX blocks along the last axis; the
    element roundings count into flags (zeroed: nonzero values that became zero; overflow:
    elements the rounding clamped to the element's max)."""
    grid = np.where(np.isfinite(x), x, 0.0).reshape(-1, x.shape[-1] if x.ndim else 1)
    pad = (-grid.shape[1]) % BLOCK
    grid = np.pad(grid, ((0, 0), (0, pad))) if pad else grid
    codes, scales = mx_encode(grid, fmt, block=BLOCK, flags=flags)
    q = mx_decode(codes, scales, fmt, block=BLOCK)[:, :grid.shape[1] - pad]
    limit = fmt.max * np.repeat(e8m0_decode(scales), BLOCK, axis=1)[:, :grid.shape[1] - pad]
    keep = np.isfinite(x).reshape(q.shape)
    clipped = int(np.count_nonzero((np.abs(grid[:, :q.shape[1]]) > limit) & keep))
    return q[keep], clipped


def whatif_stats(x, fmt, scaled=False) -> np.ndarray:
    """WHATIF_STATS of x in fmt (see the module docstring), in that order."""
    fmt = get_format(fmt)
    x = np.asarray(x, dtype=np.float64)
    shaped, x = x, x.reshape(-1)
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return np.full(len(WHATIF_STATS), np.nan)
    flags = Flags()
    if scaled == "block":
        q, clipped = _block_quantized(shaped, fmt, flags)
        return _summary(finite, q, flags.zeroed, flags.overflow, clipped)
    if scaled:
        amax = float(np.max(np.abs(finite)))
        scale = scale_from_amax(amax, fmt.max)
        q = np.asarray(ops.round(finite * scale, fmt, saturate=True, flags=flags))
        q = q * np.float64(np.float32(1.0 / scale))
    else:
        q = np.asarray(ops.round(finite, fmt, saturate=True, flags=flags))
    clipped = np.count_nonzero(np.abs(finite) > fmt.max) if not scaled else np.count_nonzero(
        np.abs(finite * scale) > fmt.max)
    return _summary(finite, q, flags.zeroed, flags.overflow, clipped)


def _summary(finite, q, zeroed, overflowed, clipped) -> np.ndarray:
    size = finite.size
    error = q - finite
    # plain sums, not np.dot: BLAS would wake its threads for a few thousand products
    signal = float(np.sum(finite * finite))
    noise = float(np.sum(error * error))
    rel_error = math.sqrt(noise / signal) if signal > 0 else (0.0 if noise == 0 else math.inf)
    if noise == 0:
        sqnr = math.inf
    elif signal == 0:
        sqnr = -math.inf
    else:
        sqnr = 10.0 * math.log10(signal / noise)
    return np.array([zeroed / size, overflowed / size, clipped / size, rel_error, sqnr])


def whatif_vector(x, formats) -> np.ndarray:
    """The what-if stats of x for each format and each of its variants, concatenated."""
    return np.concatenate([whatif_stats(x, fmt, scaled) for fmt in formats
                           for scaled in variants(fmt)]) if formats else np.zeros(0)


__all__ = ["WHATIF_STATS", "whatif_names", "whatif_stats", "whatif_vector", "variants",
           "has_block_variant"]
