"""The branch-light fast paths of rounding, written once as plain functions (compiled with the
rest of numprec.kernels.scalar): integer arithmetic on the float64 bit pattern, no branch that
depends on the data, so that the CPU's loops over them vectorise. Each returns, beside its
result, whether it applies (ok); where it does not (NaN, inf, overflow, and whatever needs
flags) the caller runs the general kernel, numprec.kernels.scalar.rounding.round_scalar, which
the fast paths agree with bit for bit (tests/kernels/scalar/test_fast_path.py).

- round_fast: a result in the format's normal range (the quantum at a fixed bit of the pattern);
- round_fast_wide: also subnormal results, float64 subnormals and an unsigned format's
  negative inputs (a per-element shift of the integer significand);
- round_fast_fixed: fixed point (the quantum 2^-N for every element), in integers only;
- encode_normal: the bit pattern of a zero or normal value; round_value: round_fast, or the
  general kernel where it does not apply.
"""
import numpy as np

from ...codes import (INEXACT, KIND_FIXED, KIND_FNUZ, P_BIAS, P_EMIN, P_KIND, P_MAXM_NEG,
                     P_MAXM_POS, P_MBITS, P_NBITS, P_QMAX, P_SIGNED, P_SUBNORMALS, P_ZERO, RDN,
                     RNA, RNE, RTO, RTZ, RUP)
from .rounding import (_ABS_MASK, _INF_BITS, _NAN_BITS, bits_f64, f64_bits, pow2, round_scalar,
                       stochastic_threshold)


def fast_path_limits(P):
    """(shift, lowest, highest, zero sign mask, check mask, zero ok) for round_fast: the float64
    mantissa bits below the format's quantum, the bit-pattern range where the fast path applies
    (min normal .. max), the sign bit a zero keeps (none in fnuz and unsigned formats), the mask
    applied to x's pattern before the range check (|x| in signed formats; all of x in unsigned
    ones, whose negative inputs thus fall below the range) and whether zeros take the fast path
    (not without a zero). Fixed point never takes this fast path (lowest > highest)."""
    if P[P_KIND] == KIND_FIXED:
        return (np.int64(0), np.int64(1), np.int64(0), np.int64(0), np.int64(_ABS_MASK),
                np.int64(1))
    mbits = P[P_MBITS]
    s = 52 - mbits
    # (never below float64's own min normal: float64 subnormals need the general path)
    lowest = np.int64(max(P[P_EMIN] + 1023, 1)) << 52
    highest = (np.int64(P[P_QMAX] + mbits + 1023) << 52) | (
        (P[P_MAXM_POS] - (np.int64(1) << mbits)) << s)
    signed = P[P_SIGNED] != 0
    zero_sign = (np.int64(-0x7FFFFFFFFFFFFFFF - 1) if P[P_KIND] != KIND_FNUZ and signed
                 else np.int64(0))
    check_mask = np.int64(_ABS_MASK) if signed else np.int64(-1)
    return s, lowest, highest, zero_sign, check_mask, np.int64(P[P_ZERO])


def round_fast(x, mode, fast, rand, rbits):
    """Branch-light rounding of x whose magnitude is a normal number of the format (fast: the
    format's fast_path_limits).

    The quantum sits at bit s of the float64 pattern, so rounding is integer arithmetic on the
    pattern: one add below bit s (its carry is the round-up, and a carry out of the mantissa
    bumps the exponent, as it should), then the bits below s cleared. Returns
    (value, ok, inexact); when ok is False the caller must use round_scalar instead.
    """
    s = fast[0]
    lowest = fast[1]
    highest = fast[2]
    zero_sign = fast[3]
    b = f64_bits(x)
    babs = b & _ABS_MASK
    mask = (np.int64(1) << s) - 1
    rem = babs & mask
    inexact = rem != 0
    # The kept significand's last bit; with no stored mantissa bits (s = 52) it is the implicit
    # 1 (and none is kept when s = 0: fp64).
    odd = (((babs >> s) & 1) | np.int64(s == 52)) & mask
    if mode == RNE:  # half - 1, plus one when odd: a tie carries only from an odd neighbour
        rb = (babs + (mask >> 1) + odd) & ~mask
    elif mode == RNA:
        rb = (babs + ((mask + 1) >> 1)) & ~mask
    elif mode == RTZ:
        rb = babs & ~mask
    elif mode == RUP:  # the magnitude grows for positive x (b >> 63: all ones when negative)
        rb = (babs + (mask & ~(b >> 63))) & ~mask
    elif mode == RDN:
        rb = (babs + (mask & (b >> 63))) & ~mask
    elif mode == RTO:  # an inexact result's last bit is set (an odd one stays)
        rb = (babs & ~mask) | ((np.int64(inexact) << s) & ~(odd << s))
    else:
        up = (rand >> (62 - rbits)) < stochastic_threshold(rem, s, rbits)
        rb = ((babs >> s) + np.int64(up)) << s
    sign = b ^ babs
    if babs == 0:
        sign &= zero_sign
    # (inf/NaN are excluded first: their carry could reach the sign bit)
    bc = b & fast[4]
    ok = (bc >= lowest and bc < _INF_BITS and rb <= highest) or (babs == 0 and fast[5] != 0)
    return bits_f64(rb | sign), ok, inexact


def wide_fast_limits(P, want_flags, ftz):
    """The limits of round_fast_wide: (s0, emin_b, lowest, highest, zero sign mask, check mask,
    zero ok, magic bits, magic, nan ok, narrow lowest). s0: the float64 mantissa bits below a
    normal result's quantum; emin_b: the biased float64 exponent of the format's min normal;
    lowest..highest: the pattern range that takes the fast path, from the smallest nonzero
    where it also rounds subnormal results (a float format with subnormals, without flags or
    ftz: only the general kernel records underflow and the subnormal events), else from
    round_fast's lowest (narrow lowest); magic bits / magic: the pattern and value of 2^(52 + q)
    for the subnormal quantum 2^q; nan ok: without flags an unsigned format rounds a negative
    input to NaN here (the general kernel raises invalid)."""
    fast = fast_path_limits(P)
    lenient = not want_flags
    # (not for a format whose min normal lies below float64's: a float64 subnormal's quantum
    # there depends on its own leading bit, not on its exponent field alone)
    tiny_ok = (P[P_KIND] != KIND_FIXED and P[P_SUBNORMALS] != 0 and lenient and not ftz
               and P[P_EMIN] >= -1022)
    nan_ok = P[P_SIGNED] == 0 and P[P_KIND] != KIND_FIXED and lenient
    q = P[P_EMIN] - P[P_MBITS]
    return (np.int64(52 - P[P_MBITS]), np.int64(P[P_EMIN] + 1023),
            np.int64(1) if tiny_ok else fast[1], fast[2], fast[3], fast[4], fast[5],
            np.int64(max(1075 + q, 1)) << 52, pow2(max(52 + q, -1074)), np.int64(nan_ok),
            fast[1])


def round_fast_wide(x, mode, unsigned, wide, rand, rbits):
    """round_fast extended below the format's min normal and, in an unsigned format (unsigned:
    a constant of the caller), to negative inputs, in one branch-light computation per element
    (wide: wide_fast_limits).

    |x| = M * 2^(eb - 1075) with the integer significand M (the implicit bit included, none for
    a float64 subnormal, whose eb is 1). M is rounded at bit s: s0 for a normal result, s0 plus
    the exponent's distance below the min normal for a subnormal (a per-element shift, capped
    where it only drops bits: M < 2^53), by one add before the shift (a carry is the round-up).
    A normal result's pattern is (eb - 1) * 2^52 + k * 2^s (a carry bumps the exponent); a
    subnormal one is k * 2^q, made exactly from its integer k as (2^52 + k) * 2^q - 2^(52 + q).
    Returns (value, ok, inexact, tiny, k, wide only): ok False means the caller must use
    round_scalar; wide only marks a result that round_fast leaves to round_scalar."""
    s0 = wide[0]
    b = f64_bits(x)
    babs = b & _ABS_MASK
    eb = max(babs >> 52, np.int64(1))
    M = babs - ((eb - 1) << 52)
    below = wide[1] - eb
    tiny = below > 0
    s_exact = s0 + max(below, np.int64(0))
    s = min(s_exact, np.int64(54))
    mask = (np.int64(1) << s) - 1
    keep = M >> s
    rem = M & mask
    inexact = rem != 0
    if mode == RNE:  # half - 1, plus one when keep is odd (none when s = 0: fp64), so that a
        # tie carries only from an odd keep
        k = (M + (mask >> 1) + (keep & mask & 1)) >> s
    elif mode == RNA:
        k = (M + ((mask + 1) >> 1)) >> s
    elif mode == RTZ:
        k = keep
    elif mode == RUP:  # the magnitude grows for positive x (b >> 63: all ones when negative)
        k = (M + (mask & ~(b >> 63))) >> s
    elif mode == RDN:
        k = (M + (mask & (b >> 63))) >> s
    elif mode == RTO:  # an inexact result's last bit is set
        k = keep | np.int64(inexact)
    else:  # the exact shift: the draw compares with the distance's top rbits bits
        k = keep + np.int64((rand >> (62 - rbits)) < stochastic_threshold(rem, s_exact, rbits))
    normal_bits = ((eb - 1) << 52) + (k << s)
    tiny_bits = f64_bits(bits_f64(wide[7] | k) - wide[8])
    rb = tiny_bits if tiny else normal_bits
    sign = b ^ babs
    if rb == 0:
        sign &= wide[4]
    bc = b & wide[5]
    ok = (bc >= wide[2] and bc < _INF_BITS and rb <= wide[3]) or (babs == 0 and wide[6] != 0)
    wide_only = babs != 0 and bc < wide[10]
    value_bits = rb | sign
    if unsigned:  # a negative input (not NaN) is invalid: NaN
        to_nan = wide[9] != 0 and b < 0 and babs != 0 and babs <= _INF_BITS
        ok = ok or to_nan
        value_bits = np.int64(_NAN_BITS) if to_nan else value_bits
    return bits_f64(value_bits), ok, inexact, tiny, k, wide_only and ok


def fixed_fast_limits(P):
    """(1075 + q, largest k, largest -k, magic bits, magic, code mask) for round_fast_fixed: the
    quantum 2^q = 2^-N's place in a float64 significand, the integer limits, the pattern and
    value of 2^(52 + q), the nbits mask of a two's complement code."""
    q = P[P_QMAX]
    return (np.int64(1075 + q), np.int64(P[P_MAXM_POS]), np.int64(P[P_MAXM_NEG]),
            np.int64(max(1075 + q, 1)) << 52, pow2(max(52 + q, -1074)),
            (np.int64(1) << P[P_NBITS]) - 1)


def round_fast_fixed(x, mode, limits, rand, rbits):
    """Branch-light fixed-point rounding, k = round(|x| / 2^q), in integers only (no float to
    integer conversion, which AVX2 lacks): |x| = M * 2^(eb - 1075) as in round_fast_wide,
    rounded at bit s = (1075 + q) - eb of M by one add before the shift, and the value k * 2^q
    made exactly as (2^52 + k) * 2^q - 2^(52 + q). Returns (value, ok, inexact, code: the
    two's complement pattern); ok is False for NaN/inf, |x| >= 2^(52 + q) and saturation."""
    b = f64_bits(x)
    babs = b & _ABS_MASK
    negative = b < 0
    eb = max(babs >> 52, np.int64(1))
    M = babs - ((eb - 1) << 52)
    s_exact = limits[0] - eb
    s = min(max(s_exact, np.int64(0)), np.int64(54))
    mask = (np.int64(1) << s) - 1
    keep = M >> s
    rem = M & mask
    inexact = rem != 0
    if mode == RNE:  # (as round_fast_wide)
        k = (M + (mask >> 1) + (keep & mask & 1)) >> s
    elif mode == RNA:
        k = (M + ((mask + 1) >> 1)) >> s
    elif mode == RTZ:
        k = keep
    elif mode == RUP:
        k = (M + (mask & ~(b >> 63))) >> s
    elif mode == RDN:
        k = (M + (mask & (b >> 63))) >> s
    elif mode == RTO:
        k = keep | np.int64(inexact)
    else:
        k = keep + np.int64((rand >> (62 - rbits)) < stochastic_threshold(rem, s_exact, rbits))
    ok = s_exact > 0 and babs < _INF_BITS and k <= (limits[2] if negative else limits[1])
    magnitude = bits_f64(limits[3] | k) - limits[4]
    value = (0.0 - magnitude) if negative else magnitude  # (+0 for a zero result)
    code = (0 - k if negative else k) & limits[5]
    return value, ok, inexact, code


def encode_normal(v, P):
    """Bit pattern of a value known to be zero or a normal number of the float format P."""
    b = f64_bits(v)
    babs = b & _ABS_MASK
    mbits = P[P_MBITS]
    sign = np.int64(b < 0) << (P[P_NBITS] - 1)
    if babs == 0:
        return sign
    biased = (babs >> 52) - 1023 + P[P_BIAS]
    mant = (babs >> (52 - mbits)) & ((np.int64(1) << mbits) - 1)
    return sign | (biased << mbits) | mant


def round_value(v, P, mode, saturate, ftz, rand, rbits, fast):
    """round_scalar(v) through round_fast when v lies in the format's normal range (fast: the
    format's fast_path_limits)."""
    value, ok, inexact = round_fast(v, mode, fast, rand, rbits)
    if ok:
        return value, np.int64(INEXACT) if inexact else np.int64(0)
    return round_scalar(v, P, mode, saturate, ftz, rand, rbits)
