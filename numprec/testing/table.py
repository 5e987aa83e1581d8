"""A vectorized exact oracle for small formats, for exhaustive sweeps.

The Fraction oracle (numprec.testing.oracle) is obviously correct but slow. For formats whose
every value can be listed (a few hundred thousand at most) this module rounds whole arrays at once:
the sorted table of representable magnitudes (plus the virtual neighbour past max), np.searchsorted
to find the two neighbours, and comparisons that are exact in float64 because every grid value and
every midpoint has at most 53 significant bits (checked when the table is built). It implements the
same contract, docs/rounding.md, and is itself checked against the Fraction oracle in the tests.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..codes import STREAM_ROUND
from ..kernels.scalar.rng import key_from_seed
from .oracle import FLAG_NAMES, MODES, SR_BITS, limits_of, pick, representable_values

# NaN inputs: canonical quiet, negative, signalling, and all-ones payloads of both signs.
_NAN_PATTERNS = [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001,
                 0x7FF4000000000000, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def random62_array(key: int, index) -> np.ndarray:
    """Vectorized twin of numprec.kernels.scalar.rng.random62_py (uint64 arithmetic wraps mod
    2^64)."""
    index = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (index + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(2)).astype(np.int64)


def _round_up(X, lo, step, negative: bool, mode: str, draws, rbits: int):
    """Mask of the inexact elements (lo < X < lo + step) that go to the upper neighbour.

    All arithmetic is exact: X - lo by Sterbenz (lo is 0 or >= step, so X < 2 lo), half a step (the
    table checks that midpoints are exact) and the division by the power of two `step`; lo / step
    is an integer below 2^53."""
    diff, half = X - lo, step * 0.5
    lo_even = np.fmod(lo / step, 2.0) == 0.0
    if mode == "rne":
        return (diff > half) | ((diff == half) & ~lo_even)
    if mode == "rna":
        return diff >= half
    if mode == "rtz":
        return np.zeros(X.shape, dtype=bool)
    if mode == "rup":
        return np.full(X.shape, not negative)
    if mode == "rdn":
        return np.full(X.shape, negative)
    if mode == "rto":
        return lo_even
    # floor(frac * 2^rbits) with frac = diff / step: one exact power-of-two scaling (a result
    # small enough to lose bits is below 1, where the floor is 0 either way).
    step_exp = np.frexp(step)[1] - 1
    threshold = np.floor(np.ldexp(diff, rbits - step_exp)).astype(np.int64)
    return (draws >> (SR_BITS - rbits)) < threshold


class TableOracle:
    """Exact rounding of float64 arrays to one small format, by table look-up."""

    def __init__(self, fmt, max_bits: int = 20):
        self.limits = lim = limits_of(fmt)
        self.fmt = lim.fmt
        smallest_half = lim.step_at(0) / 2
        if (not lim.fixed and self.fmt.mbits > 51) or smallest_half < Fraction(2) ** -1074 or (
                max(lim.virtual_pos, lim.virtual_neg) >= Fraction(2) ** 1024):
            raise ValueError(f"{self.fmt.name}: its midpoints are not all exact float64 values")
        values = representable_values(self.fmt, max_bits)
        self.values = values
        pos = values[values >= 0]
        if not lim.zero:  # no zero (E8M0): 0 stands in as the lower neighbour of tiny values,
            pos = np.append(0.0, pos)  # and a result of 0 becomes the smallest value
        neg = -values[values <= 0][::-1] + 0.0
        self.grids = {False: np.append(pos, float(lim.virtual_pos)),
                      True: np.append(neg, float(lim.virtual_neg))}
        self.max_mag = {False: float(lim.max_pos), True: float(lim.max_neg)}
        self.min_normal = None if lim.fixed else float(lim.min_normal)

    def _signed(self, magnitude, negative: bool):
        """Apply the sign; a negative zero only where the format has one."""
        magnitude = np.asarray(magnitude, dtype=np.float64)
        if not negative:
            return magnitude + 0.0
        if self.limits.negative_zero:
            return -magnitude
        return np.where(magnitude == 0.0, 0.0, -magnitude)

    def round(self, x, mode="rne", *, saturate=False, ftz=False, seed=None, rbits=None, offset=0):
        """(values, flags) for the flat float64 array x: flags maps each flag name to a bool array.
        For mode "sr", element i uses the draw of index offset + i under
        key_from_seed(seed, STREAM_ROUND)."""
        if mode not in MODES:
            raise ValueError(f"invalid rounding mode {mode!r}; valid modes: {', '.join(MODES)}")
        if mode == "sr" and seed is None:
            raise ValueError("the table oracle needs an explicit seed for mode 'sr'")
        rbits = SR_BITS if rbits is None else int(rbits)
        x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
        fixed = self.limits.fixed
        clamps = bool(saturate) or fixed or self.fmt.nan == "none"
        out = np.empty_like(x)
        flags = {name: np.zeros(x.shape, dtype=bool) for name in FLAG_NAMES}
        negative = np.signbit(x)
        nan, inf, zero = np.isnan(x), np.isinf(x), x == 0.0
        out[nan] = x[nan]
        # values an unsigned format cannot hold: negatives, and zero where it has none
        invalid = ~nan & ((negative & ~zero & (not fixed and not self.limits.signed))
                          | (zero & (not self.limits.zero)))
        out[invalid] = np.nan
        flags["invalid"][invalid] = True
        for sign in (False, True):
            at = inf & (negative == sign) & ~invalid
            if clamps:
                out[at] = self._signed(self.max_mag[sign], sign)
                flags["saturated"][at] = True
            elif self.fmt.nan == "ieee":
                out[at] = x[at]
            else:
                out[at] = np.nan
                flags["invalid"][at] = True
            out[zero & (negative == sign) & ~invalid] = self._signed(0.0, sign)

        draws = None
        if mode == "sr":
            draws = random62_array(key_from_seed(seed, STREAM_ROUND), np.arange(x.size) + offset)
        finite = ~(nan | inf | zero | invalid)
        for sign in (False, True):
            sel = np.flatnonzero(finite & (negative == sign))
            value, raised = self._round_finite(np.abs(x[sel]), sign, mode, clamps, ftz,
                                               None if draws is None else draws[sel], rbits,
                                               bool(saturate))
            out[sel] = value
            for name, mask in raised.items():
                flags[name][sel] = mask
        return out, flags

    def _round_finite(self, X, negative, mode, clamps, ftz, draws, rbits, saturate=False):
        grid, max_mag = self.grids[negative], self.max_mag[negative]
        idx = np.searchsorted(grid, X, side="right") - 1
        beyond = idx >= grid.size - 1  # at or past the virtual neighbour
        idx = np.minimum(idx, grid.size - 2)
        lo, hi = grid[idx], grid[idx + 1]
        exact = X == lo
        inside = np.where(beyond, lo, X)  # past the virtual neighbour every mode overflows
        up = _round_up(inside, lo, hi - lo, negative, mode, draws, rbits) & ~exact
        R = np.where(up, hi, lo)
        if not self.limits.zero:
            R = np.where(R == 0.0, self.min_normal, R)
        over = beyond | (R > max_mag)
        raised = {"inexact": ~exact | over, "overflow": over}

        if not self.limits.fixed:
            tiny = self._tiny(X, negative, mode)
            raised["underflow"] = ~exact & tiny & ~over
            if ftz:
                flush = ~over & (R > 0) & (R < self.min_normal)
                R = np.where(flush, 0.0, R)
                raised["flushed"] = flush
                raised["underflow"] |= flush
                raised["inexact"] |= flush
        value = self._signed(R, negative)

        if self.limits.wrap and not saturate:
            wrapped = self._wrapped(X[over], negative, mode,
                                    None if draws is None else draws[over], rbits)
            value = value.copy()
            value[over] = wrapped
            return value, raised
        to_inf = mode in ("rne", "rna", "sr") or mode == ("rdn" if negative else "rup")
        if not to_inf:
            big = self._signed(max_mag, negative)
        elif clamps:
            big = self._signed(max_mag, negative)
            raised["saturated"] = over
        elif self.fmt.nan == "ieee":
            big = -np.inf if negative else np.inf
        else:
            big = np.nan
        return np.where(over, big, value), raised

    def _wrapped(self, X, negative, mode, draws, rbits):
        """Wrapping fixed-point overflow, element by element in exact integers: |x| rounded at
        the quantum in the mode (oracle.pick), signed, reduced modulo 2^nbits into the range."""
        lim, nbits = self.limits, self.fmt.nbits
        out = np.empty(X.shape)
        for i, magnitude in enumerate(X.tolist()):
            scaled = Fraction(magnitude) / lim.quantum
            lo = Fraction(scaled.numerator // scaled.denominator)
            draw = None if draws is None else int(draws[i])
            k = int(pick(scaled, lo, lo + 1, Fraction(1), negative, mode, draw, rbits))
            k = (-k if negative else k) % 2 ** nbits
            if self.fmt.signed and k >= 2 ** (nbits - 1):
                k -= 2 ** nbits
            out[i] = float(k * lim.quantum)
        return out

    def _tiny(self, X, negative, mode):
        """Tininess after rounding to p bits with an unbounded exponent (sr: X < min normal)."""
        tiny = X < self.min_normal
        if mode == "sr":
            return tiny
        mbits, emin = self.fmt.mbits, self.limits.emin
        top = X < self.min_normal
        top &= (np.frexp(X)[1] - 1) == emin - 1  # only this binade can round up to min normal
        S = np.ldexp(X[top], mbits - (emin - 1))  # significand scaled to [2^mbits, 2^p)
        lo = np.floor(S)
        up = _round_up(S, lo, np.ones_like(S), negative, mode, None, SR_BITS) & (S != lo)
        reaches_normal = (lo + up) >= 2.0 ** (mbits + 1)
        tiny[np.flatnonzero(top)[reaches_normal]] = False
        return tiny


def exhaustive_inputs(fmt, max_bits: int = 20, binades: bool = True) -> np.ndarray:
    """Every input class of a small format, both signs: each representable value and its float64
    neighbours, each midpoint between grid neighbours (including the one between max and the
    virtual neighbour, and the one between 0 and the smallest step) and its float64 neighbours,
    the virtual neighbour and beyond, every float64 binade (2^k, 1.5 * 2^k and the largest value
    below 2^(k+1), for every k; leave them out with binades=False), +-0, +-inf and NaNs of both
    signs with several payloads (quiet, signalling, all ones)."""
    oracle = TableOracle(fmt, max_bits)
    # one of each float64 binade, far outside the format's range too (shifts by the distance
    # between exponents must not overflow anywhere)
    parts = []
    if binades:
        powers = np.ldexp(1.0, np.arange(-1074, 1024))
        with np.errstate(over="ignore"):  # 2^1024 is inf; nextafter(inf, 0) the largest float64
            parts = [powers, powers * 1.5, np.nextafter(powers * 2, 0.0)]
    for grid in oracle.grids.values():
        mids = (grid[:-1] + grid[1:]) / 2
        anchors = np.concatenate([grid, mids, [2 * grid[-1], 5e-324, np.finfo(np.float64).max]])
        with np.errstate(over="ignore"):
            parts += [anchors, np.nextafter(anchors, np.inf), np.nextafter(anchors, 0.0)]
    magnitudes = np.concatenate(parts)
    magnitudes = np.unique(magnitudes[np.isfinite(magnitudes)])
    nans = np.array(_NAN_PATTERNS, dtype=np.uint64).view(np.float64)
    specials = np.concatenate([[0.0, -0.0, np.inf, -np.inf], nans])
    return np.concatenate([magnitudes, -magnitudes, specials])


__all__ = ["TableOracle", "exhaustive_inputs", "random62_array"]
