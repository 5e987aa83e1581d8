"""CPU kernels of the sequential matmul order: round after every multiply-add.

A strip of STRIP output columns of one output row is accumulated together: each term a[i, l] is
added to every column of the strip by one loop over B's row l (fast_step, with the rounding mode
compiled in: jit.by_mode), which LLVM vectorises; the rare columns it refuses (results outside
the format's normal range, inf, NaN, and sr steps whose float64 sum is inexact) then take the
generic kernel's step (add_product) before the next term. The strip's sums live in two buffers
that trade places every term, so each step stores unconditionally.

Where the accumulator and the data allow it, the strip runs in float32 lanes (twice as many per
vector, and 32-bit integer arithmetic on the patterns, which AVX2 has in full): the accumulator
a float format whose every value is a float32 (at most 21 stored mantissa bits, so that a
round-to-odd float32 sum rounds correctly onto it; its normal range inside float32's), both
inputs finite with at most 12 significant bits, and the exponents such that every product of
nonzero elements is a normal float32 (so it is exact), in a deterministic mode. Every step then
computes the same exact sum, sticky bit and rounding as the float64 step (TwoSum, round to odd
at float32's 24 bits, then the format's rounding), and the refused columns take the float64
general step, so the results and flags are those of the float64 kernel bit for bit.

Same steps, draws and flags as the generic matmul kernel (numprec.kernels.cpu.accum).
"""
import numpy as np
from numba import prange

from ...codes import (C_EXACT, C_FTZ, C_RBITS, C_SAT, INEXACT, K_OUT, K_STEP, KIND_FIXED,
                      KIND_FNUZ, P_EMIN, P_KIND, P_MAXM_POS, P_MBITS, P_QMAX, P_SIGNED, P_ZERO,
                      RDN, RNA, RNE, RTZ, RUP, SR, SWAMPED)
from ..jit import by_mode, cpu_parallel_kernel, cpu_scalar, cpu_serial_kernel
from ..scalar.accum import REFUSED
from .scalars import S

STRIP = 256  # output columns accumulated together (their sums, flags and B's row segment stay
# in the first-level cache)
MODE = RNE  # the rounding mode: a constant in each copy (by_mode)

# float32-lane constants. numba widens int32 arithmetic to int64, so every intermediate is cut
# back to int32 (I32), which lets LLVM keep the lanes 32 bits wide.
I32 = np.int32
F32 = np.float32
_ABS32 = np.int32(0x7FFFFFFF)
_INF32 = np.int32(0x7F800000)
_SIGN32 = np.int32(-0x80000000)
_REFUSED32 = np.int32(1 << 30)  # REFUSED's mark in a float32 strip's int32 flag words
_INEXACT32 = np.int32(INEXACT)
_SWAMPED32 = np.int32(SWAMPED)
MAX_LANE_BITS = 12  # significant bits of each input: their products are exact in float32


# --- float64 lanes -------------------------------------------------------------------------

def _fast_steps(acc, new_acc, acc_flags, av, b, brow, r0, k, l, width, fast, keys, rbits):
    """One step (term l) of fast_step on each of a strip's columns: new_acc[jj] = acc[jj] +
    av * b[brow + jj], rounded; acc_flags[jj] gets the step's flags, or REFUSED where it left
    the column to the general step. Returns the OR of the words. One loop over independent
    columns with no early exit and unconditional stores, which LLVM vectorises."""
    mode = MODE
    seen = np.int64(0)
    row = b[brow:brow + width]  # indexed from 0: contiguous loads (b[brow + jj] gathers, as
    # numba wraps a negative index)
    for jj in range(width):
        rand = S.draw(keys, K_STEP, (r0 + jj) * k + l, mode)
        value, word = S.fast_step(acc[jj], av, row[jj], mode, fast, rand, rbits)
        new_acc[jj] = value
        acc_flags[jj] |= word
        seen |= word
    return seen


def _general_steps(acc, new_acc, acc_flags, refused, av, b, brow, r0, k, l, width, PA, sat, ftz,
                   rbits, exact, fast, keys):
    """The general step (add_product) on the strip's columns whose flag word carries `refused`
    (REFUSED in its lanes' width), from acc[jj] into new_acc[jj]."""
    mode = MODE
    for jj in range(width):
        if acc_flags[jj] & refused:
            old = np.float64(acc[jj])
            bv = b[brow + jj]
            value, flags = S.add_product(old, av, bv, PA, mode, sat, ftz,
                                         S.draw(keys, K_STEP, (r0 + jj) * k + l, mode), rbits,
                                         exact, fast)
            acc_flags[jj] = (acc_flags[jj] & ~refused) | flags | S.swamped(old, value, av, bv)
            new_acc[jj] = value


def _first_products(acc, acc_flags, av, b, bstart, r0, k, width, PA, sat, ftz, rbits, exact,
                    fast, keys):
    mode = MODE
    for jj in range(width):
        acc[jj], acc_flags[jj] = S.first_product(
            av, b[bstart + jj], PA, mode, sat, ftz, S.draw(keys, K_STEP, (r0 + jj) * k, mode),
            rbits, exact, fast)


def _round_out(acc, acc_flags, r0, width, out, row_flags, PO, sat, ftz, rbits, keys):
    mode = MODE
    for jj in range(width):
        value, flags = S.round_scalar(np.float64(acc[jj]), PO, mode, sat, ftz,
                                      S.draw(keys, K_OUT, r0 + jj, mode), rbits)
        out[r0 + jj] = value
        row_flags[r0 + jj] = acc_flags[jj] | flags


def _rows64(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast, oi, acc,
            new_acc, acc_flags):
    """Output row oi in float64 lanes, a strip at a time."""
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    jam_ok = exact and PA[P_MBITS] <= 50  # fast_step rounds a jammed float64 sum
    o = oi // m
    xo = (a_batch[o] * m + oi - o * m) * k
    bo = b_batch[o] * k * n
    for j0 in range(0, n, STRIP):
        width = min(STRIP, n - j0)
        r0 = oi * n + j0
        _first_products(acc, acc_flags, a[xo], b, bo + j0, r0, k, width, PA, sat, ftz, rbits,
                        exact, fast, keys)
        for l in range(1, k):
            av = a[xo + l]
            brow = bo + l * n + j0
            if jam_ok:
                seen = _fast_steps(acc, new_acc, acc_flags, av, b, brow, r0, k, l, width, fast,
                                   keys, rbits)
            else:  # (an inexact float64 product or sum: every column takes the general step)
                for jj in range(width):
                    acc_flags[jj] |= REFUSED
                seen = REFUSED
            if seen & REFUSED:
                _general_steps(acc, new_acc, acc_flags, REFUSED, av, b, brow, r0, k, l, width,
                               PA, sat, ftz, rbits, exact, fast, keys)
            acc, new_acc = new_acc, acc
        _round_out(acc, acc_flags, r0, width, out, row_flags, PO, sat, ftz, rbits, keys)


def _matmul64(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags):
    fast = S.fast_path_limits(PA)
    for oi in prange(a_batch.size * m):
        acc = np.empty(STRIP, dtype=np.float64)
        new_acc = np.empty(STRIP, dtype=np.float64)
        acc_flags = np.empty(STRIP, dtype=np.int64)
        _rows64(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast, oi, acc,
                new_acc, acc_flags)


# --- float32 lanes -------------------------------------------------------------------------

def fast_step32(s, a, b, mode, lim):
    """fast_step in float32: s, a, b float32 with a*b exact (a normal float32 or zero) and lim
    the format's float32 limits (lane_limits). Returns (value, int32 word): the step's INEXACT
    and SWAMPED bits, or _REFUSED32 (value then means nothing)."""
    mask, half_less, half, unit, not_mask, lowest, highest, zero_sign, zero_ok = lim
    p = a * b
    t = s + p
    bb = t - s
    err = (s - (t - bb)) + (p - bb)  # TwoSum: t + err = s + p exactly
    tb = F32(t).view(np.int32)
    # Round to odd at 24 bits: an inexact t goes to its odd neighbour on err's side (t itself
    # when odd): toward zero when err's sign differs from t's, then the last bit set.
    sticky = err != F32(0.0)
    toward_zero = I32(F32(err).view(np.int32) ^ tb) < I32(0)
    tb = I32(I32(tb - I32(sticky & toward_zero)) | I32(sticky))
    if mode == RDN:  # float32 adds in rne: an exact zero sum is -0 under rdn unless both
        # addends are +0
        negative = (s != F32(0.0)) | (F32(s).view(np.int32) < I32(0)) | (
            F32(p).view(np.int32) < I32(0))
        tb = I32(tb | I32(_SIGN32 & I32(-I32((t == F32(0.0)) & negative))))
    babs = I32(tb & _ABS32)
    inexact = I32(babs & mask) != I32(0)
    if mode == RNE:  # half - 1, plus one when odd: a tie carries only from an odd neighbour
        rb = I32(I32(I32(babs + half_less) + I32(I32(babs & unit) != I32(0))) & not_mask)
    elif mode == RNA:
        rb = I32(I32(babs + half) & not_mask)
    elif mode == RTZ:
        rb = I32(babs & not_mask)
    elif mode == RUP:  # the magnitude grows for positive t (tb >> 31: all ones when negative)
        rb = I32(I32(babs + I32(mask & I32(~I32(tb >> I32(31))))) & not_mask)
    elif mode == RDN:
        rb = I32(I32(babs + I32(mask & I32(tb >> I32(31)))) & not_mask)
    else:  # RTO: an inexact result's last bit is set (an odd one stays)
        rb = I32(I32(babs & not_mask) | I32(unit & I32(-I32(inexact))))
    sign = I32(I32(tb ^ babs) & I32(zero_sign | I32(-I32(babs != I32(0)))))
    value = I32(rb | sign).view(np.float32)
    # (NaN and inf are excluded first: a NaN's carry could reach the sign bit)
    ok = ((babs >= lowest) & (babs < _INF32) & (rb <= highest)) | (
        (babs == I32(0)) & (zero_ok != I32(0)))
    lost = (value == s) & (s != F32(0.0)) & (a != F32(0.0)) & (b != F32(0.0))
    word = I32(I32(I32(inexact) * _INEXACT32) | I32(I32(lost) * _SWAMPED32))
    return value, word if ok else _REFUSED32


def _fast_steps32(acc, new_acc, acc_flags, av, row, width, lim):
    """_fast_steps in float32 lanes (row: B's row segment as float32)."""
    mode = MODE
    seen = I32(0)
    for jj in range(width):
        value, word = fast_step32(acc[jj], av, row[jj], mode, lim)
        new_acc[jj] = value
        acc_flags[jj] = I32(acc_flags[jj] | word)
        seen = I32(seen | word)
    return seen


def _rows32(a, b, b32, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast, lim,
            oi, acc, new_acc, acc_flags, acc64, flags64):
    """Output row oi in float32 lanes (b32: B as float32); the first products, the refused
    steps and the final rounding go through float64 (acc64, flags64: a strip's scratch)."""
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    o = oi // m
    xo = (a_batch[o] * m + oi - o * m) * k
    bo = b_batch[o] * k * n
    for j0 in range(0, n, STRIP):
        width = min(STRIP, n - j0)
        r0 = oi * n + j0
        _first_products(acc64, flags64, a[xo], b, bo + j0, r0, k, width, PA, sat, ftz, rbits,
                        exact, fast, keys)
        for jj in range(width):  # (exact: every value of the format is a float32)
            acc[jj] = F32(acc64[jj])
            acc_flags[jj] = I32(flags64[jj])
        for l in range(1, k):
            av = a[xo + l]
            brow = bo + l * n + j0
            seen = _fast_steps32(acc, new_acc, acc_flags, F32(av), b32[brow:brow + width], width,
                                 lim)
            if seen & _REFUSED32:
                _general_steps(acc, new_acc, acc_flags, _REFUSED32, av, b, brow, r0, k, l,
                               width, PA, sat, ftz, rbits, exact, fast, keys)
            acc, new_acc = new_acc, acc
        _round_out(acc, acc_flags, r0, width, out, row_flags, PO, sat, ftz, rbits, keys)


def _matmul32(a, b, b32, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, lim):
    fast = S.fast_path_limits(PA)
    for oi in prange(a_batch.size * m):
        acc = np.empty(STRIP, dtype=np.float32)
        new_acc = np.empty(STRIP, dtype=np.float32)
        acc_flags = np.empty(STRIP, dtype=np.int32)
        acc64 = np.empty(STRIP, dtype=np.float64)
        flags64 = np.empty(STRIP, dtype=np.int64)
        _rows32(a, b, b32, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags, fast, lim,
                oi, acc, new_acc, acc_flags, acc64, flags64)


SEQUENTIAL_MATMUL = by_mode({
    _fast_steps: cpu_scalar, _general_steps: cpu_scalar, _first_products: cpu_scalar,
    _round_out: cpu_scalar, _rows64: cpu_scalar, _matmul64: cpu_parallel_kernel,
    fast_step32: cpu_scalar, _fast_steps32: cpu_scalar, _rows32: cpu_scalar,
    _matmul32: cpu_parallel_kernel})


@cpu_serial_kernel
def lane_exponents(x):
    """(whether every element is finite with at most MAX_LANE_BITS significant bits, the
    smallest and the largest unbiased exponent of its nonzero elements; 2000 and -2000 when
    there are none). A float64 subnormal reports exponent -1023."""
    low_bits = (np.int64(1) << (53 - MAX_LANE_BITS)) - 1
    lo, hi = 2000, -2000
    for i in range(x.size):
        bits = np.float64(x[i]).view(np.int64) & 0x7FFFFFFFFFFFFFFF
        if bits == 0:
            continue
        e = (bits >> 52) - 1023
        if e == 1024 or bits & low_bits:
            return False, lo, hi
        lo = min(lo, e)
        hi = max(hi, e)
    return True, lo, hi


def lane_limits(PA):
    """The float32 limits of fast_step32 for the accumulator format PA (mask, half - 1, half,
    unit: the bits below, at and around the quantum of a float32 pattern; not_mask; the patterns
    of the min normal and the max; the sign a zero keeps; whether zeros take the fast step), or
    None where the format's values are not all float32 or a float32 sum has too few bits."""
    mbits, emin = int(PA[P_MBITS]), int(PA[P_EMIN])
    top = int(PA[P_QMAX]) + mbits + 127  # biased float32 exponent of the max
    if (PA[P_KIND] == KIND_FIXED or not PA[P_SIGNED] or not 1 <= mbits <= 21 or emin < -126
            or top > 254):
        return None
    s = 23 - mbits
    mask = (1 << s) - 1
    highest = (top << 23) | ((int(PA[P_MAXM_POS]) - (1 << mbits)) << s)
    zero_sign = -0x80000000 if PA[P_KIND] != KIND_FNUZ else 0
    return tuple(np.int32(v) for v in (mask, mask >> 1, (mask + 1) >> 1, 1 << s, ~mask,
                                       (emin + 127) << 23, highest, zero_sign, PA[P_ZERO]))


def _lanes_fit(a, b) -> bool:
    """Whether every product of a nonzero element of a and one of b is an exact normal
    float32 (at most 24 significant bits, exponent in [-126, 126])."""
    a_ok, a_lo, a_hi = lane_exponents(a)
    if not a_ok:
        return False
    b_ok, b_lo, b_hi = lane_exponents(b)
    return bool(b_ok and a_lo + b_lo >= -126 and a_hi + b_hi <= 126)


def matmul_sequential_kernel(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags,
                             mode):
    """The sequential order (b is B itself, C-order (batch, k, n)); same steps and draws as
    numprec.kernels.cpu.accum.matmul_kernel. `mode` (= C's) is compiled in as a constant
    (by_mode): a runtime mode costs the fast path 4x. Float32 lanes where they give the same
    bits (see the module's docstring)."""
    copy = SEQUENTIAL_MATMUL[mode]
    lim = lane_limits(PA) if mode != SR and C[C_EXACT] != 0 else None
    if lim is not None and _lanes_fit(a, b):
        copy._matmul32(a, b, b.astype(np.float32), a_batch, b_batch, m, n, k, out, C, PA, PO,
                       keys, row_flags, lim)
    else:
        copy._matmul64(a, b, a_batch, b_batch, m, n, k, out, C, PA, PO, keys, row_flags)
