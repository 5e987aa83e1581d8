"""What-if statistics: what a tensor would lose in another format, without changing the run.

For a format F, the tensor's values x are rounded to F (rne, saturating, as a cast with clipping
would) and compared with x: `underflow_frac` (nonzero values that became zero), `overflow_frac`
(values whose rounding overflowed F's range: clamped to +-max here), `clipping_frac` (|x| > F's
max), `rel_error` (||q - x|| / ||x||, norm-wise over the finite elements) and `sqnr_db`
(10 log10(sum x^2 / sum (q - x)^2); inf when nothing was lost). The `_scaled` variant first
scales the tensor per tensor as FP8 recipes do (scale = F.max / amax in float32, Transformer
Engine's rule: numprec.policy.scale_from_amax) and dequantizes with float32(1 / scale).
Stat names: whatif_<canonical format name>[_scaled]_<stat>.
"""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..formats import get_format
from ..ops.flags import Flags
from ..policy.scaling import scale_from_amax

WHATIF_STATS = ("underflow_frac", "overflow_frac", "clipping_frac", "rel_error", "sqnr_db")


def whatif_names(fmt, scaled: bool) -> tuple:
    """The stat names for one format and variant."""
    prefix = f"whatif_{get_format(fmt).name}{'_scaled' if scaled else ''}_"
    return tuple(prefix + stat for stat in WHATIF_STATS)


def whatif_stats(x, fmt, scaled: bool = False) -> np.ndarray:
    """WHATIF_STATS of x in fmt (see the module docstring), in that order."""
    fmt = get_format(fmt)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return np.full(len(WHATIF_STATS), np.nan)
    flags = Flags()
    if scaled:
        amax = float(np.max(np.abs(finite)))
        scale = scale_from_amax(amax, fmt.max)
        q = np.asarray(ops.round(finite * scale, fmt, saturate=True, flags=flags))
        q = q * np.float64(np.float32(1.0 / scale))
    else:
        q = np.asarray(ops.round(finite, fmt, saturate=True, flags=flags))
    size = finite.size
    clipped = np.count_nonzero(np.abs(finite) > fmt.max) if not scaled else np.count_nonzero(
        np.abs(finite * scale) > fmt.max)
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
    return np.array([flags.zeroed / size, flags.overflow / size, clipped / size, rel_error, sqnr])


def whatif_vector(x, formats) -> np.ndarray:
    """The what-if stats of x for each format, unscaled then scaled, concatenated."""
    return np.concatenate([np.concatenate([whatif_stats(x, fmt, False), whatif_stats(x, fmt, True)])
                           for fmt in formats]) if formats else np.zeros(0)


__all__ = ["WHATIF_STATS", "whatif_names", "whatif_stats", "whatif_vector"]
