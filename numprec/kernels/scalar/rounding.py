"""Scalar rounding, encoding and decoding, written once as plain functions.

Compiled for the CPU by numprec.kernels.cpu.scalars and for CUDA by numprec.kernels.gpu.scalars
(see numprec.kernels.jit.compile_scalars). Everything works on integers: a finite float64 |x| is
split into an integer significand M < 2^53 and an exponent e (|x| = M * 2^e), the low bits below
the target quantum 2^q are inspected exactly, and the result keep * 2^q is rebuilt exactly. No float
arithmetic touches a value before it is exact. `f64_bits` / `bits_f64` (bit casts) are the only
functions a target may replace (the CUDA target binds libdevice's).

Format parameters arrive as the tuple `P` (slots P_* in numprec.codes). The branch-light fast
paths that the array kernels try first are in numprec.kernels.scalar.fast.
"""
import numpy as np

from ...codes import (FLUSHED, INEXACT, INVALID, KIND_FIXED, KIND_FN, KIND_FNUZ, KIND_IEEE,
                     KIND_NONE, OVERFLOW, P_BIAS, P_EBITS, P_EMIN, P_KIND, P_MAXM_NEG, P_MAXM_POS,
                     P_MBITS, P_NBITS, P_QMAX, P_SIGNED, P_SUBNORMALS, P_WRAP, P_ZERO, RDN, RNA,
                     RNE, RTO, RTZ, RUP, SATURATED, SR, SUBNORMAL, TALLY_UNENCODABLE, UNDERFLOW,
                     ZEROED)

_ABS_MASK = 0x7FFFFFFFFFFFFFFF
_MANT_MASK = 0xFFFFFFFFFFFFF
_IMPLICIT = 1 << 52
_NAN_BITS = 0x7FF8000000000000
_INF_BITS = 0x7FF0000000000000


def f64_bits(x):
    """float64 -> int64 bit pattern (the CUDA target binds libdevice's cast instead)."""
    return np.float64(x).view(np.int64)


def bits_f64(b):
    """int64 bit pattern -> float64 (the CUDA target binds libdevice's cast instead)."""
    return np.int64(b).view(np.float64)


def pow2(k):
    """2.0**k exactly, for -1074 <= k <= 1023."""
    if k >= -1022:
        return bits_f64(np.int64(k + 1023) << 52)
    return bits_f64(np.int64(1) << (k + 1074))


def bit_length(m):
    """Number of bits of 0 < m < 2^53 (exact: the conversion to float64 is exact)."""
    return ((f64_bits(np.float64(m)) >> 52) - 1023) + 1


def significand_exponent(ax):
    """Split finite, nonzero |x| = M * 2^e with integer M (< 2^53); also returns the exponent of
    the leading bit, floor(log2 |x|)."""
    b = f64_bits(ax) & _ABS_MASK
    biased = b >> 52
    mant = b & _MANT_MASK
    if biased == 0:
        return mant, np.int64(-1074), bit_length(mant) - 1075
    return mant | _IMPLICIT, biased - 1075, biased - 1023


def signed_zero(negative, kind):
    if negative and kind != KIND_FNUZ and kind != KIND_FIXED:
        return -0.0
    return 0.0


def rejects_negative(P):
    """An unsigned float format (no sign bit): a negative value is invalid (NaN)."""
    return P[P_SIGNED] == 0 and P[P_KIND] != KIND_FIXED


def invalid_nan():
    """The NaN of an invalid result, with the invalid flag."""
    return bits_f64(np.int64(_NAN_BITS)), np.int64(INVALID)


def zero_of(negative, P):
    """(value, flags) of an exact zero result: the signed zero (+0 in fnuz, fixed point and
    unsigned formats), or NaN with the invalid flag in a format without zero (E8M0)."""
    if P[P_ZERO] == 0:
        return invalid_nan()
    return signed_zero(negative and P[P_SIGNED] != 0, P[P_KIND]), np.int64(0)


def wraps(P, saturate):
    """Overflow wraps (fixed point with overflow="wrap", unless the call asks to saturate)."""
    return P[P_WRAP] != 0 and not saturate


def wrap_result(keep, negative, P):
    """Value and flags of a wrapping fixed-point overflow: keep (the rounded magnitude in quanta,
    or any integer congruent to it modulo 2^nbits) with the sign, reduced modulo 2^nbits into the
    range (two's complement, or [0, 2^nbits) unsigned). Raises overflow and inexact."""
    nbits = P[P_NBITS]
    k = (-keep if negative else keep) & ((np.int64(1) << nbits) - 1)
    if P[P_MAXM_NEG] != 0 and k >= (np.int64(1) << (nbits - 1)):
        k -= np.int64(1) << nbits
    return np.float64(k) * pow2(P[P_QMAX]), np.int64(OVERFLOW | INEXACT)


def wrap_scalar(M, e, negative, mode, rand, rbits, P):
    """A wrapping fixed-point overflow of |x| = M * 2^e: |x| rounded at the quantum 2^qmax in the
    mode, then wrap_result. Only the low nbits of the integer matter, so an exact multiple of
    the quantum is reduced before it is shifted (no int64 overflow)."""
    q = P[P_QMAX]
    nbits = P[P_NBITS]
    s = q - e
    if s <= 0:
        t = -s
        if t >= nbits:
            keep = np.int64(0)
        else:
            keep = (M & ((np.int64(1) << (nbits - t)) - 1)) << t
    else:
        keep, rem, cmp = split_at(M, s)
        if rem != 0 and round_up(keep, rem, cmp, s, negative, mode, rand, rbits):
            keep = keep + 1 if mode != RTO else keep | 1
    return wrap_result(keep, negative, P)


def split_at(M, s):
    """Split M at bit s: (kept high part, dropped low part, comparison of the dropped part with
    half a quantum: -1 below, 0 equal, +1 above)."""
    if s <= 0:
        return M << (-s), np.int64(0), np.int64(-1)
    if s >= 63:  # M < 2^53 lies below half a quantum
        return np.int64(0), M, np.int64(-1)
    keep = M >> s
    rem = M & ((np.int64(1) << s) - 1)
    half = np.int64(1) << (s - 1)
    cmp = np.int64(1) if rem > half else (np.int64(0) if rem == half else np.int64(-1))
    return keep, rem, cmp


def stochastic_threshold(rem, s, rbits):
    """floor(rem / 2^s * 2^rbits): round up iff an rbits-bit uniform draw is below it."""
    if s <= rbits:
        return rem << (rbits - s)
    if s - rbits >= 63:
        return np.int64(0)
    return rem >> (s - rbits)


def round_up(keep, rem, cmp, s, negative, mode, rand, rbits):
    """Whether an inexact truncation `keep` must be incremented (rto: set the last bit)."""
    if mode == RNE:
        return cmp > 0 or (cmp == 0 and (keep & 1) == 1)
    if mode == RNA:
        return cmp >= 0
    if mode == RTZ:
        return False
    if mode == RUP:
        return not negative
    if mode == RDN:
        return negative
    if mode == RTO:
        return (keep & 1) == 0
    # SR: the top rbits of the 62-bit draw against the distance scaled to rbits bits.
    draw = rand >> (62 - rbits)
    return draw < stochastic_threshold(rem, s, rbits)


def overflow_result(negative, mode, saturate, P):
    """Value and flags of an overflowing result, by mode and the format's conventions (a wrapping
    fixed-point format wraps before it gets here: wrap_scalar, arith.wrap_parts)."""
    kind = P[P_KIND]
    if mode == RNE or mode == RNA or mode == SR:
        to_inf = True
    elif mode == RUP:
        to_inf = not negative
    elif mode == RDN:
        to_inf = negative
    else:  # RTZ, RTO: the largest finite value
        to_inf = False
    flags = OVERFLOW | INEXACT
    if negative:
        big = -(np.float64(P[P_MAXM_NEG]) * pow2(P[P_QMAX]))
    else:
        big = np.float64(P[P_MAXM_POS]) * pow2(P[P_QMAX])
    if not to_inf:
        if big == 0.0:  # unsigned fixed point clamps negatives to +0
            big = 0.0
        return big, flags
    if saturate or kind == KIND_NONE or kind == KIND_FIXED:
        if big == 0.0:
            big = 0.0
        return big, flags | SATURATED
    if kind == KIND_IEEE:
        return (bits_f64(np.int64(_INF_BITS)) * (-1.0 if negative else 1.0)), flags
    return bits_f64(np.int64(_NAN_BITS)), flags


def finish_result(keep, q, negative, kind, flags, flush):
    """The rounded value keep * 2^q with x's sign (a zero is signed per the format), or the
    signed zero of a subnormal result flushed by ftz. A zero from a nonzero exact value (inexact)
    raises the event ZEROED."""
    if flush:
        return signed_zero(negative, kind), flags | FLUSHED | UNDERFLOW | INEXACT | ZEROED
    if keep == 0:
        if flags & INEXACT:
            flags |= ZEROED
        return signed_zero(negative, kind), flags
    value = np.float64(keep) * pow2(q)
    return (-value if negative else value), flags


def quantum_exponent(ex, P):
    """The exponent q of the last place of a value whose leading bit is at 2^ex: ex - mbits in
    the normal range, the subnormal quantum below it, or 2^emin itself without subnormals (the
    neighbours of a tiny value are then 0 and 2^emin)."""
    if ex >= P[P_EMIN]:
        return ex - P[P_MBITS]
    if P[P_SUBNORMALS] != 0:
        return P[P_EMIN] - P[P_MBITS]
    return P[P_EMIN]


def tininess_test_applies(keep, q, ex, P, mode):
    """Whether underflow is judged by rounding again with an unbounded exponent: an exact value
    just below 2^emin (ex = emin - 1) that rounded to 2^emin, in a deterministic mode (IEEE's
    tininess after rounding)."""
    return (P[P_KIND] != KIND_FIXED and ex == P[P_EMIN] - 1 and mode != SR
            and keep >= (np.int64(1) << (P[P_EMIN] - q)))


def finish_rounding(keep, q, ex, negative, inexact, reaches_normal, P, ftz):
    """Value and flags of a rounding to keep * 2^q (ex: the exponent of the exact value's leading
    bit). Underflow: inexact and tiny, i.e. below 2^emin after rounding with an unbounded exponent
    (reaches_normal: it would round to 2^emin or above); ftz flushes results below the normal
    range to a signed zero. A nonzero result below 2^emin raises the event SUBNORMAL."""
    kind = P[P_KIND]
    emin = P[P_EMIN]
    flags = np.int64(INEXACT) if inexact else np.int64(0)
    flush = False
    if kind != KIND_FIXED and ex < emin:
        below_normal = keep < (np.int64(1) << (emin - q))
        if inexact and (below_normal or not reaches_normal):
            flags |= UNDERFLOW
        flush = ftz and below_normal and keep != 0
        if below_normal and keep != 0 and not flush:
            flags |= SUBNORMAL
    return finish_result(keep, q, negative, kind, flags, flush)


def encode_counted(value, P, tally):
    """encode_scalar(value, P), counting a value without a bit pattern (-1) in
    tally[TALLY_UNENCODABLE]: how every rounding kernel, CPU and GPU, encodes."""
    code = encode_scalar(value, P)
    tally[TALLY_UNENCODABLE] += code == -1  # not `< 0`: fp64's negative patterns are < 0 too
    return code


def round_scalar(x, P, mode, saturate, ftz, rand, rbits):
    """Round float64 x to the format P once, exactly. Returns (value, flags)."""
    kind = P[P_KIND]
    if x != x:
        return x, np.int64(0)
    negative = f64_bits(x) < 0
    ax = abs(x)
    if ax == 0.0:
        return zero_of(negative, P)
    if negative and rejects_negative(P):
        return invalid_nan()
    if ax == np.inf:
        if saturate or kind == KIND_NONE or kind == KIND_FIXED:
            if negative:
                big = -(np.float64(P[P_MAXM_NEG]) * pow2(P[P_QMAX]))
            else:
                big = np.float64(P[P_MAXM_POS]) * pow2(P[P_QMAX])
            if big == 0.0:
                big = 0.0
            return big, np.int64(SATURATED)
        if kind == KIND_IEEE:
            return x, np.int64(0)
        return invalid_nan()

    mbits = P[P_MBITS]
    M, e, ex = significand_exponent(ax)
    q = quantum_exponent(ex, P)
    s = q - e
    keep, rem, cmp = split_at(M, s)
    inexact = rem != 0
    if inexact and round_up(keep, rem, cmp, s, negative, mode, rand, rbits):
        keep = keep + 1 if mode != RTO else keep | 1
    if keep == 0 and P[P_ZERO] == 0:  # no zero: below the smallest value (2^emin) is 2^emin
        keep = np.int64(1)

    limit = P[P_MAXM_NEG] if negative else P[P_MAXM_POS]
    qmax = P[P_QMAX]
    # Overflow iff keep * 2^q > limit * 2^qmax (without subnormals, q = emin may exceed qmax in
    # formats with a tiny exponent range, while keep <= 1 there).
    # (keep * 2^d > limit  <=>  keep > floor(limit / 2^d), with no shift of keep to overflow)
    if q >= qmax and keep > (limit >> min(q - qmax, 62)):
        if kind == KIND_FIXED and wraps(P, saturate):
            return wrap_scalar(M, e, negative, mode, rand, rbits, P)
        return overflow_result(negative, mode, saturate, P)
    reaches_normal = False
    if tininess_test_applies(keep, q, ex, P, mode):
        # p bits at 2^(ex - mbits), as if the exponent range had no lower end
        sf = ex - mbits - e
        kf, rf, cf = split_at(M, sf)
        reaches_normal = (rf != 0 and kf == (np.int64(1) << (mbits + 1)) - 1
                          and round_up(kf, rf, cf, sf, negative, mode, rand, rbits))
    return finish_rounding(keep, q, ex, negative, inexact, reaches_normal, P, ftz)


def encode_scalar(v, P):
    """Bit pattern (int64, right-aligned) of a value already representable in P; -1 where the
    format has no pattern for it (NaN in a format without NaN)."""
    kind = P[P_KIND]
    nbits = P[P_NBITS]
    mbits = P[P_MBITS]
    sign_bit = np.int64(1) << (nbits - 1)
    negative = f64_bits(v) < 0
    if kind == KIND_FIXED:
        if v != v or abs(v) == np.inf:
            return np.int64(-1)
        k = np.int64(v * pow2(-P[P_QMAX]))  # exact: v = k * 2^-N
        return k & ((np.int64(1) << nbits) - 1)
    signed = P[P_SIGNED] != 0
    if not signed:  # no sign bit: every pattern is a magnitude
        sign_bit = np.int64(1) << nbits
    sign = sign_bit if negative and signed else np.int64(0)
    ebits = P[P_EBITS]
    all_ones_exp = (np.int64(1) << ebits) - 1
    if v != v:
        if kind == KIND_IEEE:
            return sign | (all_ones_exp << mbits) | (np.int64(1) << (mbits - 1))
        if kind == KIND_FNUZ:
            return sign_bit
        if kind == KIND_NONE:
            return np.int64(-1)
        return sign | (sign_bit - 1)  # fn: all ones
    ax = abs(v)
    if negative and not signed and ax != 0.0:
        return np.int64(-1)  # (rounding never gives one: negative values round to NaN)
    if ax == np.inf:
        if kind == KIND_IEEE:
            return sign | (all_ones_exp << mbits)
        return np.int64(-1)
    if ax == 0.0:
        if P[P_ZERO] == 0:
            return np.int64(-1)
        return sign if kind != KIND_FNUZ else np.int64(0)
    emin = P[P_EMIN]
    M, e, ex = significand_exponent(ax)
    if ex >= emin:
        k = M >> (ex - mbits - e) if ex - mbits - e >= 0 else M << (e - ex + mbits)
        return sign | ((ex + P[P_BIAS]) << mbits) | (k - (np.int64(1) << mbits))
    q = emin - mbits
    k = M >> (q - e) if q - e >= 0 else M << (e - q)
    return sign | k


def decode_scalar(b, P):
    """float64 value of the bit pattern b (int64, right-aligned) in format P."""
    kind = P[P_KIND]
    nbits = P[P_NBITS]
    mbits = P[P_MBITS]
    if kind == KIND_FIXED:
        if P[P_MAXM_NEG] != 0 and (b >> (nbits - 1)) & 1 == 1:
            b = b - (np.int64(1) << nbits)
        return np.float64(b) * pow2(P[P_QMAX])
    sign_bit = np.int64(1) << (nbits - 1)
    if P[P_SIGNED] == 0:  # no sign bit
        sign_bit = np.int64(1) << nbits
    ebits = P[P_EBITS]
    negative = (b & sign_bit) != 0
    biased = (b >> mbits) & ((np.int64(1) << ebits) - 1)
    mant = b & ((np.int64(1) << mbits) - 1)
    all_ones_exp = (np.int64(1) << ebits) - 1
    if kind == KIND_IEEE and biased == all_ones_exp:
        if mant != 0:
            return bits_f64(np.int64(_NAN_BITS))
        return -np.inf if negative else np.inf
    if kind == KIND_FN and biased == all_ones_exp and mant == (np.int64(1) << mbits) - 1:  # fn NaN
        return bits_f64(np.int64(_NAN_BITS))
    if kind == KIND_FNUZ and b == sign_bit:
        return bits_f64(np.int64(_NAN_BITS))
    emin = P[P_EMIN]
    if biased == 0 and P[P_ZERO] != 0:
        if P[P_SUBNORMALS] == 0 or mant == 0:
            return signed_zero(negative, kind)
        else:
            value = np.float64(mant) * pow2(emin - mbits)
    else:
        value = np.float64(mant + (np.int64(1) << mbits)) * pow2(biased - P[P_BIAS] - mbits)
    return -value if negative else value
