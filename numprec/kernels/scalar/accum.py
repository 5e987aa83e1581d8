"""Accumulation models for sum, dot and matmul, written once as plain functions over flat arrays.

One reduction ("row") adds n terms t_i: x[xo + i*xs] for a sum, or the product
x[xo + i*xs] * y[yo + i*ys] for a dot product, exact unless a product format is given. Every
rounding goes to a format tuple (P*) in the mode of the configuration tuple C, and draws its
stochastic-rounding bits from its own stream (keys[K_*]) at index row * n + step, so a result
depends only on (seed, row, step): not on threads, tiling or device. Every code (orders, the
slots C_* of C, the stream roles K_*) is defined in numprec.codes.

Orders (codes in numprec.codes.ORDERS):
- sequential: s = round(t_1), s = round(s + t_i): each step is one exact fma rounded once;
- pairwise: leaves round(t_i), then adjacent pairs level by level (an odd one out moves up);
- blocked: sequential within blocks of b terms in the accumulator, each block's sum added into a
  running total in the (wider) promotion format;
- kahan: compensated summation with every operation rounded to the accumulator;
- fused: groups of k terms enter a multi-term adder together with the running sum: every addend
  is truncated toward zero to a multiple of 2^(E - w + 1), E the exponent of the largest addend
  (so the largest keeps w significant bits), the truncated addends are added exactly and the sum
  is rounded once to the accumulator.
The row's result is finally rounded to the output format. Flags are OR-ed over a row's steps.

The event SWAMPED marks a row in which a nonzero term was lost entirely: a step that left a
finite nonzero running sum unchanged (sequential steps, the steps inside a block and the adds of
block sums into the total), a pairwise merge whose result equals one of its two nonzero
operands, a Kahan step that left both the sum and the compensation unchanged, or a nonzero
addend that the fused adder's alignment truncated to zero.
"""
import numpy as np

from ...codes import (BLOCKED, C_BLOCK, C_EXACT, C_FTZ, C_MODE, C_ORDER, C_RBITS, C_SAT,
                     C_TERMS, C_USE_PROD, C_USE_Y, C_WIDTH, INEXACT, K_KAHAN_C, K_KAHAN_D,
                     K_KAHAN_Y, K_MERGE, K_OUT, K_PRODUCT, K_PROMOTE, K_STEP, KAHAN,
                     MAX_FUSED_TERMS, P_MBITS, P_WRAP, PAIRWISE, RDN, SEQUENTIAL, SR, SWAMPED,
                     ZEROED)
from .arith import (add_round, exact_exponent, exact_product, fma_round, invalid_result,
                    is_negative, mul_round, parts_at, round_parts, sub_round, zero_result)
from .rng import element_draw
from .fast import round_fast, round_value
from .rounding import bits_f64, f64_bits, round_scalar, zero_of

# Stack depth of the pairwise tree (terms < 2^62).
PAIRWISE_DEPTH = 64
# Scratch entries reduce_row needs (float64 and int64 alike): the pairwise stack, or a fused
# group's addends (hi and lo parts) and the running sum.
SCRATCH = max(PAIRWISE_DEPTH, 2 * (MAX_FUSED_TERMS + 1))


def draw(keys, role, index, mode):
    """The random bits of one rounding of role `role` (keys[role]) at `index`."""
    return element_draw(keys[role], index, mode)


def jam(t, err):
    """Round-to-odd of t + err at 53 bits (t = fl(t + err), err != 0): t itself if its last bit
    is odd, else its neighbour on err's side, which lies in the same open interval."""
    b = f64_bits(t)
    if b & 1:
        return t
    if (err > 0.0) == (t > 0.0):
        return bits_f64(b + 1)
    return bits_f64(b - 1)


def add_product(s, a, b, P, mode, saturate, ftz, rand, rbits, exact, fast):
    """round(s + a*b) with one rounding. `exact`: a*b is exact in float64, which allows the
    fast path: TwoSum, then the float64 sum itself (exact), or its round-to-odd (p + 2 <= 53
    bits, any mode but sr, and not into a wrapping fixed-point format: its wrapped value needs the
    bits below float64's 53), or the exact two-part rounding."""
    if exact:
        p = a * b
        t = s + p
        if t - t == 0.0:
            bb = t - s
            err = (s - (t - bb)) + (p - bb)
            if err == 0.0:
                if t == 0.0 and mode == RDN and (is_negative(s) or is_negative(p) or s != 0.0):
                    t = -0.0  # an exact zero sum is -0 under rdn unless both addends are +0
                return round_value(t, P, mode, saturate, ftz, rand, rbits, fast)
            if mode != SR and P[P_MBITS] <= 50 and P[P_WRAP] == 0:
                return round_value(jam(t, err), P, mode, saturate, ftz, rand, rbits, fast)
            return round_parts(t, err, 0.0, 0, P, mode, saturate, ftz, rand, rbits)
    return fma_round(a, b, s, P, mode, saturate, ftz, rand, rbits)


# A fast step's flag word when it did not round (the caller's general step does): a bit above
# every flag and event.
REFUSED = np.int64(1) << 62
_SIGN = np.int64(-0x7FFFFFFFFFFFFFFF - 1)


def fast_step(s, a, b, mode, fast, rand, rbits):
    """The common case of add_product, branch-light: a*b exact, s + a*b a normal number of the
    format (or an exact zero). Returns (value, word): word holds the step's INEXACT and SWAMPED
    bits, or is REFUSED (value then means nothing): use add_product."""
    p = a * b
    t = s + p
    bb = t - s
    err = (s - (t - bb)) + (p - bb)
    tb = f64_bits(t)
    odd_needed = (err != 0.0) & ((tb & 1) == 0)
    step = np.int64(1) if (err > 0.0) == (t > 0.0) else np.int64(-1)
    tb += np.int64(odd_needed) * step
    if mode == RDN:  # float64 adds in rne: an exact zero sum is -0 under rdn unless both
        # addends are +0 (round_fast then drops the sign where the format has no -0)
        negative = (s != 0.0) | (f64_bits(s) < 0) | (f64_bits(p) < 0)
        tb |= _SIGN & -np.int64((t == 0.0) & negative)
    value, ok, inexact = round_fast(bits_f64(tb), mode, fast, rand, rbits)
    ok &= (mode != SR) | (err == 0.0)
    # SWAMPED as swamped(s, value, a, b): a fast result is finite, so value == s makes s finite
    lost = (value == s) & (s != 0.0) & (a != 0.0) & (b != 0.0)
    word = (np.int64(inexact) * np.int64(INEXACT)) | (np.int64(lost) * np.int64(SWAMPED))
    return value, word if ok else REFUSED


def swamped(s, value, a, b):
    """SWAMPED when adding the nonzero term a*b to the finite nonzero s left it unchanged."""
    # bitwise & of the compares: no branches in the reductions' inner loops
    lost = (value == s) & (s != 0.0) & (abs(s) < np.inf) & (a != 0.0) & (b != 0.0)
    return np.int64(lost) * np.int64(SWAMPED)


def merge_swamped(left, right, value):
    """SWAMPED when a merge of two nonzero finite operands gave one of them back."""
    both = left != 0.0 and right != 0.0 and abs(left) < np.inf and abs(right) < np.inf
    lost = both and (value == left or value == right)
    return np.int64(SWAMPED) if lost else np.int64(0)


def first_product(a, b, P, mode, saturate, ftz, rand, rbits, exact, fast):
    """round(a*b) (the first term of a reduction)."""
    if exact:
        p = a * b
        if p - p == 0.0:
            return round_value(p, P, mode, saturate, ftz, rand, rbits, fast)
    return mul_round(a, b, P, mode, saturate, ftz, rand, rbits)


def load_term(x, xi, y, yi, C, PP, keys, index):
    """The term as factors (a, b) of an exact product (b = 1 for a sum or a rounded product)."""
    if C[C_USE_Y] == 0:
        return x[xi], 1.0, np.int64(0)
    if C[C_USE_PROD] != 0:
        mode = C[C_MODE]
        value, flags = mul_round(x[xi], y[yi], PP, mode, C[C_SAT] != 0, C[C_FTZ] != 0,
                                 draw(keys, K_PRODUCT, index, mode), C[C_RBITS])
        return value, 1.0, flags
    return x[xi], y[yi], np.int64(0)


def sequential_range(x, xo, xs, y, yo, ys, i0, i1, base, C, PA, PP, keys, fast):
    """Terms i0 .. i1-1 (i1 > i0) summed in PA, rounding after every add."""
    mode = C[C_MODE]
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    a, b, flags = load_term(x, xo + i0 * xs, y, yo + i0 * ys, C, PP, keys, base + i0)
    s, f = first_product(a, b, PA, mode, sat, ftz, draw(keys, K_STEP, base + i0, mode), rbits,
                         exact, fast)
    flags |= f
    for i in range(i0 + 1, i1):
        a, b, f = load_term(x, xo + i * xs, y, yo + i * ys, C, PP, keys, base + i)
        t, g = add_product(s, a, b, PA, mode, sat, ftz, draw(keys, K_STEP, base + i, mode),
                           rbits, exact, fast)
        flags |= f | g | swamped(s, t, a, b)
        s = t
    return s, flags


def pairwise_row(x, xo, xs, y, yo, ys, n, base, C, PA, PP, keys, fast, stack, sizes):
    """Pairwise tree over the n >= 1 terms, with a binary-counter stack (scratch arrays of
    PAIRWISE_DEPTH entries): the same tree as adding adjacent pairs level by level."""
    mode = C[C_MODE]
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    flags = np.int64(0)
    top = 0
    merges = 0
    for i in range(n):
        a, b, f = load_term(x, xo + i * xs, y, yo + i * ys, C, PP, keys, base + i)
        v, g = first_product(a, b, PA, mode, sat, ftz, draw(keys, K_STEP, base + i, mode), rbits,
                             exact, fast)
        flags |= f | g
        size = 1
        while top > 0 and sizes[top - 1] == size:
            w, g = add_round(stack[top - 1], v, PA, mode, sat, ftz,
                             draw(keys, K_MERGE, base + merges, mode), rbits)
            flags |= g | merge_swamped(stack[top - 1], v, w)
            v = w
            merges += 1
            top -= 1
            size *= 2
        stack[top] = v
        sizes[top] = size
        top += 1
    v = stack[top - 1]
    for j in range(top - 2, -1, -1):
        w, g = add_round(stack[j], v, PA, mode, sat, ftz, draw(keys, K_MERGE, base + merges, mode),
                         rbits)
        flags |= g | merge_swamped(stack[j], v, w)
        v = w
        merges += 1
    return v, flags


def blocked_row(x, xo, xs, y, yo, ys, n, base, C, PA, PP, PB, keys, fast):
    """Blocks of C[C_BLOCK] terms summed sequentially in PA, block sums added in PB."""
    mode = C[C_MODE]
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    block = C[C_BLOCK]
    total = 0.0
    flags = np.int64(0)
    for i0 in range(0, n, block):
        partial, f = sequential_range(x, xo, xs, y, yo, ys, i0, min(i0 + block, n), base, C, PA,
                                      PP, keys, fast)
        rand = draw(keys, K_PROMOTE, base + i0 // block, mode)
        if i0 == 0:
            total, g = round_scalar(partial, PB, mode, sat, ftz, rand, rbits)
        else:
            grown, g = add_round(total, partial, PB, mode, sat, ftz, rand, rbits)
            g |= swamped(total, grown, partial, 1.0)
            total = grown
        flags |= f | g
    return total, flags


def kahan_row(x, xo, xs, y, yo, ys, n, base, C, PA, PP, keys, fast):
    """Kahan's compensated summation, every operation rounded to PA:
    y = t_i - c; t = s + y; c = (t - s) - y; s = t."""
    mode = C[C_MODE]
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    exact = C[C_EXACT] != 0
    a, b, flags = load_term(x, xo, y, yo, C, PP, keys, base)
    s, f = first_product(a, b, PA, mode, sat, ftz, draw(keys, K_STEP, base, mode), rbits, exact,
                         fast)
    flags |= f
    c = 0.0
    for i in range(1, n):
        a, b, f = load_term(x, xo + i * xs, y, yo + i * ys, C, PP, keys, base + i)
        yv, g1 = add_product(-c, a, b, PA, mode, sat, ftz, draw(keys, K_KAHAN_Y, base + i, mode),
                             rbits, exact, fast)
        t, g2 = add_round(s, yv, PA, mode, sat, ftz, draw(keys, K_STEP, base + i, mode), rbits)
        d, g3 = sub_round(t, s, PA, mode, sat, ftz, draw(keys, K_KAHAN_D, base + i, mode), rbits)
        c_new, g4 = sub_round(d, yv, PA, mode, sat, ftz, draw(keys, K_KAHAN_C, base + i, mode),
                              rbits)
        lost = t == s and c_new == c and a != 0.0 and b != 0.0 and abs(s) < np.inf
        s = t
        c = c_new
        flags |= f | g1 | g2 | g3 | g4 | (np.int64(SWAMPED) if lost else np.int64(0))
    return s, flags


def fused_group(x, xo, xs, y, yo, ys, i0, i1, s, have_s, base, group, C, PA, keys, hs, ls, ss):
    """One step of the multi-term adder: terms i0..i1-1 and (when have_s) the running sum s.
    hs, ls, ss: scratch of C[C_TERMS] + 1 entries for the exact addends (hi + lo) * 2^scale."""
    mode = C[C_MODE]
    sat = C[C_SAT] != 0
    ftz = C[C_FTZ] != 0
    rbits = C[C_RBITS]
    m = 0
    top = np.int64(-1 << 40)
    nan = False
    pos_inf = False
    neg_inf = False
    invalid = False
    neg_zeros = 0
    zeros = 0
    sum_slot = -1  # the entry holding the running sum (not a term: it cannot be swamped)
    for j in range(i0 - (1 if have_s else 0), i1):
        if j < i0:
            a = s
            b = 1.0
        else:
            a = x[xo + j * xs]
            b = y[yo + j * ys] if C[C_USE_Y] != 0 else 1.0
        if a != a or b != b:
            nan = True
            continue
        negative = is_negative(a) != is_negative(b)
        if abs(a) == np.inf or abs(b) == np.inf:
            if a == 0.0 or b == 0.0:
                invalid = True
            elif negative:
                neg_inf = True
            else:
                pos_inf = True
            continue
        if a == 0.0 or b == 0.0:
            zeros += 1
            neg_zeros += negative
            continue
        hi, lo, scale = exact_product(abs(a), abs(b))
        if j < i0:
            sum_slot = m
        hs[m] = -hi if negative else hi
        ls[m] = -lo if negative else lo
        ss[m] = scale
        top = max(top, exact_exponent(hi, lo, scale))
        m += 1
    rand = draw(keys, K_STEP, base + group, mode)
    if nan:
        return np.nan, np.int64(0)
    if invalid or (pos_inf and neg_inf):
        return invalid_result()
    if pos_inf or neg_inf:
        return round_scalar(-np.inf if neg_inf else np.inf, PA, mode, sat, ftz, rand, rbits)
    if m == 0:  # only zeros: IEEE's sign rules for sums of zeros
        if neg_zeros == zeros:
            return zero_of(True, PA)
        if neg_zeros > 0:
            return zero_result(False, mode, PA)
        return zero_of(False, PA)
    q = top - C[C_WIDTH] + 1
    total = np.int64(0)
    truncated = False
    lost = False
    for j in range(m):
        hi = hs[j]
        lo = ls[j]
        keep, rest, sticky = parts_at(abs(hi), lo if hi > 0.0 else -lo, 0.0, ss[j], q)
        total += -keep if hi < 0.0 else keep
        truncated = truncated or rest != 0 or sticky
        lost = lost or (keep == 0 and j != sum_slot)  # a nonzero term aligned away entirely
    extra = np.int64(INEXACT) if truncated else np.int64(0)
    if lost:
        extra |= np.int64(SWAMPED)
    if total == 0:  # a zero from truncated nonzero addends is the event ZEROED
        value, flags = zero_result(False, mode, PA)
        return value, flags | (extra | np.int64(ZEROED) if truncated else extra)
    hi = np.float64(total)
    lo = np.float64(total - np.int64(hi))
    value, flags = round_parts(hi, lo, 0.0, q, PA, mode, sat, ftz, rand, rbits)
    return value, flags | extra


def fused_row(x, xo, xs, y, yo, ys, n, base, C, PA, keys, hs, ls, ss):
    """The multi-term adder over groups of C[C_TERMS] terms."""
    k = C[C_TERMS]
    s = 0.0
    flags = np.int64(0)
    for i0 in range(0, n, k):
        s, f = fused_group(x, xo, xs, y, yo, ys, i0, min(i0 + k, n), s, i0 > 0, base, i0 // k, C,
                           PA, keys, hs, ls, ss)
        flags |= f
    return s, flags


def reduce_row(x, xo, xs, y, yo, ys, n, row, C, PA, PP, PB, PO, keys, fast, fscratch, iscratch):
    """One reduction by the order of C, then rounded to the output format PO.
    fscratch: float64 scratch (>= max(PAIRWISE_DEPTH, 2 * (C_TERMS + 1)) entries); iscratch:
    int64 scratch of the same length."""
    mode = C[C_MODE]
    if n == 0:  # the empty sum: +0 (NaN in a format without zero)
        return zero_of(False, PO)
    base = row * n
    order = C[C_ORDER]
    if order == SEQUENTIAL:
        s, flags = sequential_range(x, xo, xs, y, yo, ys, 0, n, base, C, PA, PP, keys, fast)
    elif order == PAIRWISE:
        s, flags = pairwise_row(x, xo, xs, y, yo, ys, n, base, C, PA, PP, keys, fast, fscratch,
                                iscratch)
    elif order == BLOCKED:
        s, flags = blocked_row(x, xo, xs, y, yo, ys, n, base, C, PA, PP, PB, keys, fast)
    elif order == KAHAN:
        s, flags = kahan_row(x, xo, xs, y, yo, ys, n, base, C, PA, PP, keys, fast)
    else:
        k = C[C_TERMS] + 1
        s, flags = fused_row(x, xo, xs, y, yo, ys, n, base, C, PA, keys, fscratch[:k],
                             fscratch[k:2 * k], iscratch)
    value, f = round_scalar(s, PO, mode, C[C_SAT] != 0, C[C_FTZ] != 0,
                            draw(keys, K_OUT, row, mode), C[C_RBITS])
    return value, flags | f


def reduce_entry(x, y, n, r, C, PA, PP, PB, PO, keys, fast, fscratch, iscratch, out, row_flags):
    """Row r of a batch of reductions (its n terms at x[r*n:], times y's when C uses y): the
    result into out[r], its flags into row_flags[r]."""
    value, flags = reduce_row(x, r * n, 1, y, r * n, 1, n, r, C, PA, PP, PB, PO, keys, fast,
                              fscratch, iscratch)
    out[r] = value
    row_flags[r] = flags


def matmul_entry(a, bt, a_batch, b_batch, m, n, k, oi, j, C, PA, PP, PB, PO, keys, fast,
                 fscratch, iscratch, out, row_flags):
    """Output (o, i, j) of a batched matmul, oi = o * m + i: the reduction over l of
    a[a_batch[o], i, l] * bt[b_batch[o], j, l] (flat C-order arrays, bt is B transposed), into
    out and row_flags at r = oi * n + j."""
    o = oi // m
    i = oi - o * m
    r = oi * n + j
    value, flags = reduce_row(a, (a_batch[o] * m + i) * k, 1, bt, (b_batch[o] * n + j) * k, 1, k,
                              r, C, PA, PP, PB, PO, keys, fast, fscratch, iscratch)
    out[r] = value
    row_flags[r] = flags
