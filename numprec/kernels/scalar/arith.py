"""Correctly rounded arithmetic as plain scalar functions, compiled like scalar.rounding.

Every op first represents its exact real result as X = (hi + lo + tail) * 2^scale with float64
parts, then rounds X once (`round_parts`). The parts come from error-free transformations:
TwoSum for add, TwoProd (Dekker, with a bit-mask split so that FMA contraction cannot break it) on
the integer significands for mul, the exact remainder a - q*b for div, the exact residual
a - s*s plus an exactly signed correction for sqrt, and an exact three-term sum for fma.

Invariants of the parts (checked by the tests, relied on by `parts_at`): hi != 0 has the sign of
X; |lo| <= ulp(hi)/2 (<= ulp(hi)/4 when |hi| is a power of two and lo < 0); lo = 0 implies
tail = 0; the true tail lies strictly between lo and its float64 neighbour in the tail's
direction. add, mul and fma give an exact tail (0 for add and mul); div and sqrt give the tail's
exact sign and its magnitude to about 53 bits. That decides every mode exactly except one case:
stochastic rounding of div and sqrt into formats with more than 42 mantissa bits (fp64), whose
threshold floor(frac * 2^62) can then be off by up to 2^9 (a probability error below 2^-53).
"""
import math

import numpy as np

from ...codes import (DIVBYZERO, INVALID, KIND_FIXED, OP_ADD, OP_DIV, OP_MUL, OP_SQRT, OP_SUB,
                     OVERFLOW, P_KIND, P_MAXM_NEG, P_MAXM_POS, P_MBITS, P_NBITS, P_QMAX, P_ZERO,
                     RDN, RTO)
from .rounding import (bits_f64, f64_bits, finish_rounding, invalid_nan, overflow_result, pow2,
                       quantum_exponent, rejects_negative, round_scalar, round_up,
                       significand_exponent, tininess_test_applies, wrap_result, wraps, zero_of)

_QNAN = 0x7FF8000000000000
_FRAC_BITS = 62          # the fraction below the target quantum is kept as floor(frac * 2^62)
_ONE = np.int64(1) << 62
_HALF = np.int64(1) << 61
_SPLIT_ROUND = np.int64(1) << 26
_SPLIT_MASK = ~((np.int64(1) << 27) - 1)
_HUGE = 2.0 ** 1020      # above this TwoSum may overflow: operands are scaled down first
_TINY = 2.0 ** -900


# --- error-free transformations ---------------------------------------------------------------
def two_sum(a, b):
    """s = fl(a + b) and the exact error: a + b = s + err (no overflow)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def split_half(x):
    """x = hi + lo with hi and lo of at most 26 significant bits each (hi: x rounded half-up to
    26 bits on its bit pattern, so no multiply-add can be contracted into an FMA)."""
    hi = bits_f64((f64_bits(x) + _SPLIT_ROUND) & _SPLIT_MASK)
    return hi, x - hi


def two_prod(a, b):
    """p = fl(a * b) and the exact error (Dekker; operands far from under/overflow)."""
    p = a * b
    ah, al = split_half(a)
    bh, bl = split_half(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def exact_product(aa, ab):
    """|a| * |b| (finite, nonzero) exactly as (hi + lo) * 2^scale: TwoProd of the integer
    significands, which cannot over- or underflow."""
    Ma, ea, _ = significand_exponent(aa)
    Mb, eb, _ = significand_exponent(ab)
    hi, lo = two_prod(np.float64(Ma), np.float64(Mb))
    return hi, lo, ea + eb


def next_toward(x, up):
    """The float64 neighbour of finite nonzero x, toward +inf if up else toward -inf."""
    b = f64_bits(x)
    if (b >= 0) == up:
        return bits_f64(b + 1)
    return bits_f64(b - 1)


def sign_of_sum4(a, b, c, d):
    """Exact sign of a + b + c + d: Shewchuk's grow-expansion makes a nonoverlapping expansion,
    whose largest nonzero component carries the sign."""
    q1, h1 = two_sum(b, a)
    q2, g1 = two_sum(c, h1)
    q3, g2 = two_sum(q2, q1)
    r1, f1 = two_sum(d, g1)
    r2, f2 = two_sum(r1, g2)
    r3, f3 = two_sum(r2, q3)
    top = r3 if r3 != 0.0 else (f3 if f3 != 0.0 else (f2 if f2 != 0.0 else f1))
    return np.int64(1) if top > 0.0 else (np.int64(-1) if top < 0.0 else np.int64(0))


def normalize3(hi, lo, tail):
    """Renormalise an exact three-float sum until hi = fl(hi + lo) and lo = fl(lo + tail)."""
    for _ in range(8):
        h2, l2 = two_sum(hi, lo)
        l3, t3 = two_sum(l2, tail)
        if h2 == hi and l3 == lo and t3 == tail:
            break
        hi, lo, tail = h2, l3, t3
    return hi, lo, tail


# --- rounding an exact value given as parts ---------------------------------------------------
def floor_scaled(v, shift):
    """floor(v * 2^shift) for finite v (|v * 2^shift| < 2^62) and whether it dropped bits."""
    if v == 0.0:
        return np.int64(0), False
    M, e, _ = significand_exponent(abs(v))
    k = e + shift
    if k >= 0:
        whole = M << k
        frac = False
    elif k <= -63:
        whole = np.int64(0)
        frac = True
    else:
        whole = M >> (-k)
        frac = (M & ((np.int64(1) << (-k)) - 1)) != 0
    if v > 0.0:
        return whole, frac
    return (-whole - 1, True) if frac else (-whole, False)


def floor_tail(lo, tail, shift):
    """floor((lo + tail) * 2^shift) and whether it is inexact, under the parts invariants."""
    whole, frac = floor_scaled(lo, shift)
    if tail == 0.0:
        return whole, frac
    if frac:  # the tail cannot carry lo across a float64, hence across an integer
        return whole, True
    extra, extra_frac = floor_scaled(tail, shift)
    return whole + extra, extra_frac


def exact_exponent(hi, lo, scale):
    """floor(log2 |X|) for X = (hi + lo + tail) * 2^scale, hi > 0."""
    M, _, ex = significand_exponent(hi)
    if (M & (M - 1)) == 0 and lo < 0.0:  # just below a power of two
        ex -= 1
    return ex + scale


def parts_at(hi, lo, tail, scale, q):
    """For X = (hi + lo + tail) * 2^scale > 0: keep = floor(X / 2^q), the fraction below the
    quantum as floor(frac * 2^62), and whether frac * 2^62 is not an integer."""
    M, e, _ = significand_exponent(hi)
    s = q - e - scale
    afrac = False
    A = np.int64(0)
    if s <= 0:
        keep = M << (-s)
    elif s >= 63:
        keep = np.int64(0)
        if s - _FRAC_BITS >= 63:
            afrac = True
        else:
            A = M >> (s - _FRAC_BITS)
            afrac = (M & ((np.int64(1) << (s - _FRAC_BITS)) - 1)) != 0
    else:
        keep = M >> s
        rem = M & ((np.int64(1) << s) - 1)
        if s <= _FRAC_BITS:
            A = rem << (_FRAC_BITS - s)
        else:
            A = rem >> (s - _FRAC_BITS)
            afrac = (rem & ((np.int64(1) << (s - _FRAC_BITS)) - 1)) != 0
    if afrac:  # hi has bits below 2^(q-62); lo + tail is below hi's last bit
        return keep, A, True
    low, sticky = floor_tail(lo, tail, scale + _FRAC_BITS - q)
    Y = A + low
    if Y < 0:
        keep -= 1
        Y += _ONE
    elif Y >= _ONE:
        keep += 1
        Y -= _ONE
    return keep, Y, sticky


def half_cmp(Y, sticky):
    """Comparison of the dropped fraction with one half: -1, 0, +1."""
    if Y > _HALF or (Y == _HALF and sticky):
        return np.int64(1)
    return np.int64(0) if Y == _HALF else np.int64(-1)


def whole_quanta(v, scale, q, nbits):
    """For a float64 part v (of a value v * 2^scale): (whether v * 2^scale is a whole multiple of
    2^q, that multiple modulo 2^nbits as an int64 with v's sign)."""
    M, e, _ = significand_exponent(abs(v))
    t = e + scale - q
    if t < 0:
        if t <= -63 or (M & ((np.int64(1) << (-t)) - 1)) != 0:
            return False, np.int64(0)
        k = M >> (-t)
    elif t >= nbits:
        k = np.int64(0)
    else:
        k = (M & ((np.int64(1) << (nbits - t)) - 1)) << t
    k &= (np.int64(1) << nbits) - 1
    return True, (-k if v < 0.0 else k)


def wrap_parts(hi, lo, tail, scale, negative, mode, rand, rbits, P, total):
    """A wrapping fixed-point overflow of |X| = (hi + lo + tail) * 2^scale (hi > 0): |X| rounded
    at the quantum 2^qmax in the mode, then wrap_result. Leading parts that are whole multiples
    of the quantum contribute their quanta modulo 2^nbits (they can be far beyond int64); the
    first part with bits below the quantum is rounded with the parts after it (parts_at), the
    fraction of a negative rest taken from the quantum below. Exact when the parts are (add, mul,
    fma); for div and sqrt while the quantum lies above the tail (the exact result below about
    2^(104 - frac_bits), always so for operands of the format). `total`: quanta counted already
    (a whole multiple of the quantum above these parts: fma_wrap)."""
    q = P[P_QMAX]
    nbits = P[P_NBITS]
    a, b, c = hi, lo, tail
    for _ in range(3):
        if a == 0.0:
            break
        whole, k = whole_quanta(a, scale, q, nbits)
        if not whole:
            break
        total = (total + k) & ((np.int64(1) << nbits) - 1)
        a, b, c = b, c, 0.0
    Y = np.int64(0)
    sticky = False
    if a != 0.0:
        below = a < 0.0  # the rest is negative: its floor is one quantum below -keep
        if below:
            a, b, c = -a, -b, -c
        kf, Y, sticky = parts_at(a, b, c, scale, q)
        if below:
            if Y != 0 or sticky:
                kf += 1
                Y = _ONE - Y - (np.int64(1) if sticky else np.int64(0))
            kf = -kf
        total += kf
    if (Y != 0 or sticky) and round_up(total, Y, half_cmp(Y, sticky), _FRAC_BITS, negative,
                                       mode, rand, rbits):
        total = total + 1 if mode != RTO else total | 1
    return wrap_result(total, negative, P)


def round_parts(hi, lo, tail, scale, P, mode, saturate, ftz, rand, rbits):
    """Round X = (hi + lo + tail) * 2^scale (hi != 0, parts invariants above) to the format P
    once, exactly as round_scalar rounds a float64. Returns (value, flags)."""
    negative = hi < 0.0
    if negative:
        if rejects_negative(P):
            return invalid_nan()
        hi, lo, tail = -hi, -lo, -tail
    mbits = P[P_MBITS]
    qmax = P[P_QMAX]
    wrap = P[P_KIND] == KIND_FIXED and wraps(P, saturate)
    ex = exact_exponent(hi, lo, scale)
    q = quantum_exponent(ex, P)
    if q > qmax:
        if wrap:
            return wrap_parts(hi, lo, tail, scale, negative, mode, rand, rbits, P, np.int64(0))
        return overflow_result(negative, mode, saturate, P)
    keep, Y, sticky = parts_at(hi, lo, tail, scale, q)
    inexact = Y != 0 or sticky
    if inexact and round_up(keep, Y, half_cmp(Y, sticky), _FRAC_BITS, negative, mode, rand,
                            rbits):
        keep = keep + 1 if mode != RTO else keep | 1
    if keep == 0 and P[P_ZERO] == 0:  # no zero: below the smallest value (2^emin) is 2^emin
        keep = np.int64(1)
    limit = P[P_MAXM_NEG] if negative else P[P_MAXM_POS]
    if q == qmax and keep > limit:
        if wrap:
            return wrap_result(keep, negative, P)
        return overflow_result(negative, mode, saturate, P)
    reaches_normal = False
    if tininess_test_applies(keep, q, ex, P, mode):
        # p bits at 2^(ex - mbits), as if the exponent range had no lower end
        kf, Yf, sf = parts_at(hi, lo, tail, scale, ex - mbits)
        reaches_normal = ((Yf != 0 or sf) and kf == (np.int64(1) << (mbits + 1)) - 1
                          and round_up(kf, Yf, half_cmp(Yf, sf), _FRAC_BITS, negative, mode,
                                       rand, rbits))
    return finish_rounding(keep, q, ex, negative, inexact, reaches_normal, P, ftz)


# --- the operations ---------------------------------------------------------------------------
def invalid_result():
    return bits_f64(np.int64(_QNAN)), np.int64(INVALID)


def zero_result(negative, mode, P):
    """An exact zero: -0 when both addends were -0, or for a cancellation under rdn (zero_of:
    +0 where the format has no -0, NaN where it has no zero)."""
    return zero_of(negative or mode == RDN, P)


def is_negative(x):
    return f64_bits(x) < 0


def first_nan(a, b):
    """The NaN a binary op with a NaN operand returns as it is, payload and sign: a's if a is
    NaN, else b's."""
    return a if a != a else b


def add_round(a, b, P, mode, saturate, ftz, rand, rbits):
    """a + b, correctly rounded to P."""
    if a != a or b != b:
        return first_nan(a, b), np.int64(0)
    aa, ab = abs(a), abs(b)
    if aa == np.inf or ab == np.inf:
        if aa == ab and is_negative(a) != is_negative(b):
            return invalid_result()
        return round_scalar(a if aa == np.inf else b, P, mode, saturate, ftz, rand, rbits)
    if aa == 0.0 or ab == 0.0:
        if aa == 0.0 and ab == 0.0:
            both_neg = is_negative(a) and is_negative(b)
            if is_negative(a) == is_negative(b):
                return zero_of(both_neg, P)
            return zero_result(False, mode, P)
        return round_scalar(b if aa == 0.0 else a, P, mode, saturate, ftz, rand, rbits)
    scale = np.int64(0)
    if max(aa, ab) >= _HUGE:
        if min(aa, ab) < _TINY:  # the small one lies far below the big one's last bit
            hi, lo = (a, b) if aa > ab else (b, a)
        else:
            hi, lo = two_sum(a * 2.0 ** -8, b * 2.0 ** -8)
            scale = np.int64(8)
    else:
        hi, lo = two_sum(a, b)
    if hi == 0.0:
        return zero_result(False, mode, P)
    return round_parts(hi, lo, 0.0, scale, P, mode, saturate, ftz, rand, rbits)


def sub_round(a, b, P, mode, saturate, ftz, rand, rbits):
    """a - b, correctly rounded to P (a NaN operand is returned as it is, sign included)."""
    if b != b and a == a:
        return b, np.int64(0)
    return add_round(a, -b, P, mode, saturate, ftz, rand, rbits)


def mul_round(a, b, P, mode, saturate, ftz, rand, rbits):
    """a * b, correctly rounded to P."""
    if a != a or b != b:
        return first_nan(a, b), np.int64(0)
    negative = is_negative(a) != is_negative(b)
    aa, ab = abs(a), abs(b)
    if aa == np.inf or ab == np.inf:
        if aa == 0.0 or ab == 0.0:
            return invalid_result()
        return round_scalar(-np.inf if negative else np.inf, P, mode, saturate, ftz, rand, rbits)
    if aa == 0.0 or ab == 0.0:
        return zero_of(negative, P)
    hi, lo, scale = exact_product(aa, ab)
    if negative:
        hi, lo = -hi, -lo
    return round_parts(hi, lo, 0.0, scale, P, mode, saturate, ftz, rand, rbits)


def div_round(a, b, P, mode, saturate, ftz, rand, rbits):
    """a / b, correctly rounded to P."""
    if a != a or b != b:
        return first_nan(a, b), np.int64(0)
    negative = is_negative(a) != is_negative(b)
    aa, ab = abs(a), abs(b)
    inf = -np.inf if negative else np.inf
    if aa == np.inf:
        if ab == np.inf:
            return invalid_result()
        return round_scalar(inf, P, mode, saturate, ftz, rand, rbits)
    if ab == 0.0:
        if aa == 0.0:
            return invalid_result()
        value, flags = round_scalar(inf, P, mode, saturate, ftz, rand, rbits)
        return value, flags | DIVBYZERO
    if aa == 0.0 or ab == np.inf:
        return zero_of(negative, P)
    Ma, ea, _ = significand_exponent(aa)
    Mb, eb, _ = significand_exponent(ab)
    ma = np.float64(Ma)
    mb = np.float64(Mb)
    quo = ma / mb
    p1, p2 = two_prod(quo, mb)
    rem = (ma - p1) - p2  # exact: the remainder of a correctly rounded quotient is a float
    lo = 0.0
    tail = 0.0
    if rem != 0.0:
        lo = rem / mb
        r1, r2 = two_prod(lo, mb)
        tail = ((rem - r1) - r2) / mb  # rem - r1 is exact (Sterbenz): the tail's sign is exact
    if negative:
        quo, lo, tail = -quo, -lo, -tail
    return round_parts(quo, lo, tail, ea - eb, P, mode, saturate, ftz, rand, rbits)


def sqrt_residual_sign(ma, root, rem, c):
    """Exact sign of ma - (root + c)^2 = rem - 2*root*c - c^2, with rem = ma - root^2."""
    p1, p2 = two_prod(root, c)
    c1, c2 = two_prod(c, c)
    return sign_of_sum4(rem - 2.0 * p1, -2.0 * p2, -c1, -c2)  # rem - 2*p1 is exact (Sterbenz)


def sqrt_round(a, P, mode, saturate, ftz, rand, rbits):
    """sqrt(a), correctly rounded to P."""
    if a != a:
        return a, np.int64(0)
    if a == 0.0:
        return zero_of(is_negative(a), P)
    if a < 0.0:
        return invalid_result()
    if a == np.inf:
        return round_scalar(a, P, mode, saturate, ftz, rand, rbits)
    M, e, _ = significand_exponent(a)
    ma = np.float64(M)
    if e & 1:
        ma *= 2.0
        e -= 1
    root = math.sqrt(ma)  # (np.sqrt has no CUDA lowering; both are correctly rounded)
    p1, p2 = two_prod(root, root)
    rem = (ma - p1) - p2  # exact: the residual of a correctly rounded square root is a float
    lo = 0.0
    tail = 0.0
    if rem != 0.0:
        # lo = the float64 just below the (irrational) correction sqrt(ma) - root.
        lo = rem / (2.0 * root)
        for _ in range(8):
            if sqrt_residual_sign(ma, root, rem, lo) < 0:
                lo = next_toward(lo, False)
                continue
            up = next_toward(lo, True)
            if sqrt_residual_sign(ma, root, rem, up) > 0:
                lo = up
                continue
            break
        tail = abs(lo) * 2.0 ** -60
    return round_parts(root, lo, tail, e >> 1, P, mode, saturate, ftz, rand, rbits)


def fma_round(a, b, c, P, mode, saturate, ftz, rand, rbits):
    """a * b + c with a single rounding to P."""
    if a != a or b != b or c != c:
        return first_nan(first_nan(a, b), c), np.int64(0)
    pneg = is_negative(a) != is_negative(b)
    aa, ab, ac = abs(a), abs(b), abs(c)
    if aa == np.inf or ab == np.inf:
        if aa == 0.0 or ab == 0.0 or (ac == np.inf and is_negative(c) != pneg):
            return invalid_result()
        return round_scalar(-np.inf if pneg else np.inf, P, mode, saturate, ftz, rand, rbits)
    if ac == np.inf:
        return round_scalar(c, P, mode, saturate, ftz, rand, rbits)
    if aa == 0.0 or ab == 0.0:
        if ac != 0.0:
            return round_scalar(c, P, mode, saturate, ftz, rand, rbits)
        if pneg == is_negative(c):
            return zero_of(pneg, P)
        return zero_result(False, mode, P)
    if ac == 0.0:
        return mul_round(a, b, P, mode, saturate, ftz, rand, rbits)
    ph, pl, scale = exact_product(aa, ab)
    if pneg:
        ph, pl = -ph, -pl
    Mc, ec, exc = significand_exponent(ac)
    mc = -np.float64(Mc) if is_negative(c) else np.float64(Mc)
    _, _, exph = significand_exponent(abs(ph))
    gap = exc - (exph + scale)
    if gap > 120 or gap < -120:
        wrap = P[P_KIND] == KIND_FIXED and wraps(P, saturate)
        # (a wrapping format saturates here first: the sticky bit of the far smaller term is
        # enough to decide overflow, not the wrapped value)
        value, flags = fma_far_apart(mc, ec, ph, pl, scale, exph, gap, P, mode,
                                     saturate or wrap, ftz, rand, rbits)
        if not wrap or (flags & OVERFLOW) == 0:
            return value, flags
        return fma_wrap(mc, ec, ph, pl, scale, exph, gap, P, mode, rand, rbits)
    cs = mc * pow2(ec - scale)  # exact: |ec - scale| stays within float64's range here
    q1, f1 = two_sum(cs, pl)
    hi, f2 = two_sum(q1, ph)
    hi, lo, tail = normalize3(hi, f2, f1)
    if hi == 0.0:
        return zero_result(False, mode, P)
    return round_parts(hi, lo, tail, scale, P, mode, saturate, ftz, rand, rbits)


def fma_far_apart(mc, ec, ph, pl, scale, exph, gap, P, mode, saturate, ftz, rand, rbits):
    """fma whose addends lie more than 2^120 apart: the smaller one (c = mc * 2^ec, or the
    product (ph + pl) * 2^scale, both signed) is only a sticky bit below the larger one."""
    if gap > 120:  # the product is only a sticky bit below c
        _, _, exm = significand_exponent(abs(mc))
        tiny = pow2(exm - 200)
        return round_parts(mc, -tiny if ph < 0.0 else tiny, 0.0, ec, P, mode, saturate, ftz,
                           rand, rbits)
    # c is only a sticky bit below the product
    tiny = pow2(exph - 200)
    ctiny = -tiny if mc < 0.0 else tiny
    if pl == 0.0:
        return round_parts(ph, ctiny, 0.0, scale, P, mode, saturate, ftz, rand, rbits)
    return round_parts(ph, pl, ctiny, scale, P, mode, saturate, ftz, rand, rbits)


def fma_wrap(mc, ec, ph, pl, scale, exph, gap, P, mode, rand, rbits):
    """The wrapping overflow of an fma whose addends lie more than 2^120 apart (fma_far_apart's
    arguments). The smaller addend is only a sticky bit below the larger one's last bit, unless
    the larger one is a whole number of quanta: then it adds its quanta modulo 2^nbits and the
    smaller one is rounded exactly (wrap_parts). The product's parts are integers in units of
    2^scale, so c (below 2^-14 of them) is always a sticky bit below pl's last bit."""
    q = P[P_QMAX]
    nbits = P[P_NBITS]
    if gap > 120:  # c is the larger addend
        negative = mc < 0.0
        flip = -1.0 if negative else 1.0
        whole, k = whole_quanta(abs(mc), ec, q, nbits)
        if whole:
            return wrap_parts(ph * flip, pl * flip, 0.0, scale, negative, mode, rand, rbits, P, k)
        _, _, exm = significand_exponent(abs(mc))
        tiny = pow2(exm - 200)
        return wrap_parts(abs(mc), tiny if (ph < 0.0) == negative else -tiny, 0.0, ec,
                          negative, mode, rand, rbits, P, np.int64(0))
    negative = ph < 0.0  # the product is the larger addend
    flip = -1.0 if negative else 1.0
    aph = ph * flip
    apl = pl * flip
    cr = mc * flip
    ctiny = pow2(exph - 200)
    if cr < 0.0:
        ctiny = -ctiny
    whole, k = whole_quanta(aph, scale, q, nbits)
    if not whole:
        if apl == 0.0:
            return wrap_parts(aph, ctiny, 0.0, scale, negative, mode, rand, rbits, P,
                              np.int64(0))
        return wrap_parts(aph, apl, ctiny, scale, negative, mode, rand, rbits, P, np.int64(0))
    if apl != 0.0:
        whole_lo, k_lo = whole_quanta(apl, scale, q, nbits)
        if not whole_lo:
            return wrap_parts(apl, ctiny, 0.0, scale, negative, mode, rand, rbits, P, k)
        k += k_lo
    return wrap_parts(cr, 0.0, 0.0, ec, negative, mode, rand, rbits, P, k)


def arith_round(op, a, b, c, P, mode, saturate, ftz, rand, rbits):
    """op(a, b, c) rounded once, by op code (numprec.codes.OP_*; sqrt reads a, the binary ops a
    and b): the per-element work of the CPU and GPU arithmetic kernels."""
    if op == OP_ADD:
        return add_round(a, b, P, mode, saturate, ftz, rand, rbits)
    if op == OP_SUB:
        return sub_round(a, b, P, mode, saturate, ftz, rand, rbits)
    if op == OP_MUL:
        return mul_round(a, b, P, mode, saturate, ftz, rand, rbits)
    if op == OP_DIV:
        return div_round(a, b, P, mode, saturate, ftz, rand, rbits)
    if op == OP_SQRT:
        return sqrt_round(a, P, mode, saturate, ftz, rand, rbits)
    return fma_round(a, b, c, P, mode, saturate, ftz, rand, rbits)

