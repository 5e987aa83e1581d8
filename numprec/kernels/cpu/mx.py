"""CPU kernel of MX (and generic block floating point) encoding: one pass over the data,
bit-identical to the exact multi-pass path of numprec.quant.mx (frexp, ldexp and
numprec.encode), which stays the reference.

MX: per block, amax from the largest |x| bit pattern (the integer view with its sign bit masked
off: an integer max reduction vectorises, a float one does not without fastmath; NaN and inf:
the NaN scale), the shared exponent by the scale rule from amax's exact significand and
exponent (as numprec.quant.mx.shared_exponents; floor straight from the exponent bits), then
each element's code of x / 2^E rounded once with saturation, by one of three exact routes:
- float32 input, deterministic mode, 2^-E a normal float32 (_mx_f32_element): float32 and
  int32 lanes (16 per AVX-512 vector), x * 2^-E exact unless below 2^-126, where 2^-126 with
  x's sign stands in (the reference's _TINY argument: both lie below half the element's
  smallest quantum, which _fast_element checks);
- other deterministic cases (_mx_bits_element): int64 arithmetic on x's pattern M 2^e, the
  element's quantum deciding the shift of M (exact; a subnormal x must stay below the
  element's normal range, which every block's E ensures but the tiniest ones);
- mode sr, and blocks whose E would bring a subnormal x into the element's normal range
  (_mx_element): x * 2^-E in float64 (exact unless below 2^-1022, where mx.py's _TINY stands in,
  as here), then round_fast's integer rule at the element's quantum above its min normal and
  round_fast_fixed's at the subnormal quantum below it, drawing the same random bits per element
  index as numprec.encode.

The rounding mode is a compile-time constant (jit.specialize per mode: the loops vectorise), as
are whether the element format is fixed point and the block size when it is OCP's 32. Codes are
written as unsigned containers (uint8 / uint16); the only 64-bit integer multiplies are the
stochastic draws of mode sr (SplitMix64).
"""
import numpy as np
from numba import prange

from ...codes import RDN, RNA, RNE, RTO, RTZ, RUP, SR
from ..jit import cpu_parallel_kernel, cpu_scalar, specialize, threads_for
from .scalars import S

MODE = RNE  # the rounding mode: a compile-time constant in each specialised copy
FIXED = False  # whether the element format is fixed point (a constant in each copy)
BLOCK = 0  # the block size when compiled in (32, OCP's: the block loops unroll), else 0

MX_GROUP = 2048  # elements per work item (whole blocks)
SCALE_FLOOR, SCALE_CEIL, SCALE_EVEN, SCALE_RCEIL = range(4)  # mx.SCALE_RULES' order

_ABS64 = 0x7FFFFFFFFFFFFFFF
_ABS32 = 0x7FFFFFFF
_INF64 = 0x7FF0000000000000
_INF32 = 0x7F800000
_TINY = 2.0 ** -1022
_TWO53 = 9007199254740992.0


def _shared_exponent(amax, rule, emax_elem, prec, maxval, emin_s, emax_s, overflow_nan):
    """(E, NaN scale) of a block whose finite amax >= 0 is given: shared_exponents' rules, on
    amax's exact significand and exponent."""
    if amax == 0.0:
        return emin_s, False
    M, e, ex = S.significand_exponent(amax)  # amax = M 2^e, ex = floor(log2 amax)
    f = ex - emax_elem
    if rule == SCALE_FLOOR:
        E = f
    elif rule == SCALE_CEIL:
        E = f + np.int64((M & (M - 1)) != 0)  # not a power of two
    elif rule == SCALE_EVEN:
        # the significand normalised to 53 bits, Mn / 2^52 = amax / 2^ex in [1, 2); it rounds
        # (halves up) to prec fraction bits into the next binade iff Mn >= 2^53 - 2^(51 - prec)
        Mn = M << (53 - S.bit_length(M))
        E = f + np.int64(Mn >= (np.int64(1) << 53) - (np.int64(1) << (51 - prec)))
    else:  # RCEIL: f or f + 1; outside [emin_s - 1, emax_s] both clip alike
        if f < emin_s - 1 or f > emax_s:
            E = f
        else:
            E = f + np.int64(amax > maxval * S.pow2(f))
    nan = overflow_nan and E > emax_s
    return min(max(E, emin_s), emax_s), nan


def _mx_element(v, rand, rbits, s, lowest, rebias, sub_up, maxmag, sign_bit, fnuz_zero,
                frac_limits):
    """The code of v (finite, nonzero |v| >= 2^-1022, or a zero) rounded to the element format
    with saturation, in mode MODE (round_fast / round_fast_fixed's rules)."""
    mode = MODE
    if FIXED:
        scale_up, limit_pos, limit_neg, mask = frac_limits
        negative = v < 0.0
        y = abs(v) * scale_up
        t = np.floor(y)
        frac = y - t
        inexact = frac != 0.0
        odd = t - 2.0 * np.floor(t * 0.5) == 1.0
        if mode == RNE:
            up = frac > 0.5 or (frac == 0.5 and odd)
        elif mode == RNA:
            up = frac >= 0.5
        elif mode == RTZ:
            up = False
        elif mode == RUP:
            up = inexact and not negative
        elif mode == RDN:
            up = inexact and negative
        elif mode == RTO:
            up = inexact and not odd
        else:
            scaled = frac * S.pow2(rbits) if y < _TWO53 else 0.0
            up = (rand >> (62 - rbits)) < np.int64(scaled)
        k = t + np.float64(up)
        limit = limit_neg if negative else limit_pos
        k = limit if k > limit else k
        kk = np.int64(k)
        return (-kk if negative else kk) & mask
    b = S.f64_bits(v)
    babs = b & _ABS64
    negative = b < 0
    # the element's normal range: the float64 pattern rounded at bit s is the code (+ rebias)
    mask = (np.int64(1) << s) - 1
    keep = babs >> s
    rem = babs & mask
    half = (mask + 1) >> 1
    inexact = rem != 0
    odd = (keep & 1) == 1 or s == 52
    if mode == RNE:
        up = (rem > half) or (inexact and rem == half and odd)
    elif mode == RNA:
        up = inexact and rem >= half
    elif mode == RTZ:
        up = False
    elif mode == RUP:
        up = inexact and not negative
    elif mode == RDN:
        up = inexact and negative
    elif mode == RTO:
        up = inexact and not odd
    else:
        up = (rand >> (62 - rbits)) < S.stochastic_threshold(rem, s, rbits)
    normal_code = keep + np.int64(up) - rebias
    # below the element's min normal: k = |v| / 2^(emin - mbits) rounded (the code itself)
    y = abs(v) * sub_up
    t = np.floor(y)
    frac = y - t
    sub_inexact = frac != 0.0
    sub_odd = t - 2.0 * np.floor(t * 0.5) == 1.0
    if mode == RNE:
        sub_up_ = frac > 0.5 or (frac == 0.5 and sub_odd)
    elif mode == RNA:
        sub_up_ = frac >= 0.5
    elif mode == RTZ:
        sub_up_ = False
    elif mode == RUP:
        sub_up_ = sub_inexact and not negative
    elif mode == RDN:
        sub_up_ = sub_inexact and negative
    elif mode == RTO:
        sub_up_ = sub_inexact and not sub_odd
    else:
        sub_up_ = (rand >> (62 - rbits)) < np.int64(frac * S.pow2(rbits))
    sub_code = np.int64(t + np.float64(sub_up_))
    mag = sub_code if babs < lowest else normal_code
    mag = maxmag if mag > maxmag else mag
    signed = negative and (mag != 0 or not fnuz_zero)
    return (mag | sign_bit) if signed else mag


def _round_shift(M, s, negative):
    """M (>= 0) shifted right by s (1..62) and rounded in the deterministic mode MODE (by its
    sign for the directed modes), by integer adds: round_fast's rule on M's dropped bits."""
    mode = MODE
    one = np.int64(1) << s
    if mode == RNE:  # + half - 1, + 1 more when the kept part is odd: ties go to even
        return (M + ((one >> 1) - 1) + ((M >> s) & 1)) >> s
    if mode == RNA:
        return (M + (one >> 1)) >> s
    if mode == RTZ:
        return M >> s
    if mode == RUP:
        return (M + (0 if negative else one - 1)) >> s
    if mode == RDN:
        return (M + (one - 1 if negative else 0)) >> s
    return (M >> s) | np.int64((M & (one - 1)) != 0)  # RTO: sticky into the last bit


def _mx_bits_element(b, xm, mbits, s0, lim, C3, maxmag, sign_bit, fnuz_zero, fixed_params):
    """The code of x * 2^-E (x: the sign-extended pattern b of a float32 or float64 with xm
    mantissa bits) rounded to the element format with saturation, in a deterministic mode, on
    integers only. x = M 2^(be - 1 + x_emin - xm) exactly (be = max(biased exponent, 1), M with
    its implicit bit for normal x), so x * 2^-E = M 2^(be + C - xm) with C = x_emin - 1 - E (a
    constant of the block). For a float element, that value's quantum is
    2^(max(be + C, emin) - mbits): M shifted right by s0 + max(0, lim - be) (s0 = xm - mbits,
    lim = emin - C) and rounded is the significand k, and the code is k (a subnormal: its pattern
    is k, and k = 2^mbits is the min normal's pattern) or k + ((be + C + bias - 1) << mbits) =
    k + (be << mbits) + C3 (a carry into the next binade lands on its pattern); codes past the
    largest finite one saturate to it. For fixed point (N fraction bits) the shift is lim - be
    with lim = xm - N - C; a negative shift means |x| 2^-E >= 2^(xm + 1 - N): saturation. The
    caller keeps subnormal x out of the element's normal range and out of negative fixed-point
    shifts (those blocks take _mx_element)."""
    negative = b < 0
    a = b & (_ABS64 if xm == 52 else _ABS32)  # |x|'s pattern
    biased = a >> xm
    M = (a & ((np.int64(1) << xm) - 1)) | (np.int64(biased != 0) << xm)
    be = max(biased, np.int64(1))
    if FIXED:
        limit_pos, limit_neg, mask = fixed_params
        raw = lim - be
        k = _round_shift(M, min(max(raw, np.int64(1)), np.int64(62)), negative)
        k = M if raw == 0 else k  # a shift of 0: exact
        limit = limit_neg if negative else limit_pos
        k = limit if (raw < 0 or k > limit) else k
        return (-k if negative else k) & mask
    d = lim - be
    k = _round_shift(M, min(s0 + max(d, np.int64(0)), np.int64(62)), negative)
    mag = k + (((be << mbits) + C3) if d <= 0 else np.int64(0))
    mag = maxmag if mag > maxmag else mag
    signed = negative & ((mag != 0) | (not fnuz_zero))
    return (mag | sign_bit) if signed else mag


_I32 = np.int32
_F32 = np.float32


def _round_f32(y, negative):
    """y >= 0 (float32, exact) rounded to an integer in the deterministic mode MODE (by the sign
    for the directed modes): float32 floor / ceil / rint, exact operations."""
    mode = MODE
    f = np.floor(y)
    if mode == RNE:
        k = np.rint(y)
    elif mode == RNA:
        k = f
        if y - f >= _F32(0.5):  # (y - floor(y) is exact)
            k = f + _F32(1.0)
    elif mode == RTZ:
        k = f
    elif mode == RUP:
        k = f if negative else np.ceil(y)
    elif mode == RDN:
        k = np.ceil(y) if negative else f
    else:  # RTO: floor, plus one when inexact and floor is even
        k = f
        if y != f and f - _F32(2.0) * np.floor(f * _F32(0.5)) == _F32(0.0):
            k = f + _F32(1.0)
    return k


def _mx_f32_element(xf, xb, factor, p32):
    """The code of float32 x * 2^-E (factor = 2^-E, a normal float32) rounded to the element
    format with saturation in a deterministic mode, in float32 lanes (numba keeps float32
    arithmetic in float32; int32 results are truncated back at once, so LLVM keeps 16 lanes).

    v = x * factor is exact unless it falls below 2^-126; such a nonzero v is replaced by
    2^-126 (both lie below half the element's smallest quantum, which the caller checks, so
    they round alike, as mx.py's _TINY stands in below float64's range). For a float element,
    P = 2^max(floor(log2 |v|), emin) is |v|'s exponent bits (or 2^emin), 2^mbits / P is built
    from P's bits, y = |v| * 2^mbits / P is exact and below 2^(mbits + 1), k = R(y) is the
    significand, and the code is k + ((log2 P + bias - 1) << mbits): k alone for a subnormal
    (log2 P = emin = 1 - bias) and a carry into the next binade lands on its pattern; codes past
    the largest finite one saturate to it. For fixed point (N fraction bits): k = R(|v| 2^N),
    clamped to the range, in two's complement."""
    (tiny, pmin_bits, inv_base, sh, off_base, maxmag, sign_bit, fnuz_zero, scale_up, limit_pos,
     limit_neg, mask) = p32
    negative = xb < 0  # the sign bit of x's pattern xb (-0.0 too)
    a = abs(_F32(xf) * factor)
    if (a < tiny) & (xf != _F32(0.0)):
        a = tiny
    if FIXED:
        k = _round_f32(a * scale_up, negative)
        limit = limit_pos
        if negative:
            limit = limit_neg
        k = min(k, limit)
        code = _I32(k)
        if negative:
            code = _I32(-code)
        return _I32(code & mask)
    pb = max(_I32(_F32(a).view(np.int32) & _I32(0x7F800000)), pmin_bits)
    inv = _I32(inv_base - pb).view(np.float32)
    k = _round_f32(a * inv, negative)
    # (np.right_shift keeps int32, where >> widens to int64 and costs lanes)
    code = _I32(_I32(k) + _I32(np.right_shift(pb, sh) - off_base))
    code = min(code, maxmag)
    # the sign: x's sign bit spread over the lanes (an arithmetic shift), kept off fnuz's zero
    sign = _I32(np.right_shift(xb, _I32(31)) & sign_bit)
    if fnuz_zero & (code == _I32(0)):
        sign = _I32(0)
    return _I32(code | sign)


def _mx_pass(x, xs, xu, codes, scales, block, rule, emax_elem, prec, maxval, emin_s, emax_s,
             bias_s, nan_code, overflow_nan, filler, key, rbits, s, lowest, rebias, sub_up,
             maxmag, sign_bit, fnuz_zero, frac_limits, bits_params, p32, f32_ok, bad, group):
    """One pass over contiguous blocks of `block` elements of x (xs: its signed integer view,
    which the amax reads; xu unused, kept for the signature): scales[k] and codes of block k;
    bad[k] = 1 where the block holds NaN or inf. Work items are groups of `group` blocks. For
    float32 x in a deterministic mode each block's elements are encoded in float32 lanes right
    after its scale, while they are in the L1 cache; the blocks that need another route (NaN
    scale, E beyond float32's normal powers) are done after the group by it, as are all blocks
    of the other cases. (Indices are unsigned: numba then needs no negative-index wraparound,
    and the loops vectorise.)"""
    wide = xs.itemsize == 8
    xm = 52 if wide else 23
    x_emin = -1022 if wide else -126
    mbits, emin, bias, nfrac, limit_pos, limit_neg, mask = bits_params
    fixed_params = (np.int64(limit_pos), np.int64(limit_neg), np.int64(mask))
    s0 = np.int64(xm - mbits)
    # blocks whose E lets a subnormal x reach the element's normal range (or a negative
    # fixed-point shift) take the float path (_mx_element), as mode sr does
    float_below = x_emin - xm + nfrac if FIXED else x_emin - emin + 1
    # the scale rules on a normal amax = 1.mf 2^ex (mf: its xm mantissa bits): ceil rounds up
    # unless mf = 0; even iff 1.mf >= 2 - 2^-(prec + 1); rceil iff 1.mf > max / 2^emax_elem, whose
    # fraction has at most 11 bits (exact in xm bits)
    mant_mask = (np.int64(1) << xm) - 1
    even_mf = (np.int64(1) << xm) - (np.int64(1) << (xm - prec - 1))
    rceil_mf = (S.f64_bits(maxval) & ((np.int64(1) << 52) - 1)) >> (52 - xm)
    ublock = np.uint64(BLOCK) if BLOCK else np.uint64(block)
    flat = not wide and f32_ok and MODE != SR
    ngroups = (scales.size + group - 1) // group
    for g in prange(ngroups):
        k0 = g * group
        k1 = min(scales.size, k0 + group)
        redo = False
        for k in range(k0, k1):
            base = np.uint64(k) * ublock
            stop = base + ublock
            # the largest |x| pattern (the sign bit masked off: one integer max reduction in
            # x's own width, which vectorises; NaN and inf patterns lie at and above inf's)
            # (from 0, which every |x| pattern reaches: a trip count of the whole block)
            if wide:
                m = np.int64(0)
                for j in range(base, stop):
                    m = max(m, xs[j] & _ABS64)
            else:
                m32 = _I32(0)
                for j in range(base, stop):
                    m32 = max(m32, _I32(xs[j] & _I32(_ABS32)))
                m = np.int64(m32)
            E = 0
            nan = m >= (_INF64 if wide else _INF32)
            if nan:
                bad[k] = 1
            elif (m >> xm) != 0:  # a normal amax: E from its exponent and mantissa fields
                mf = m & mant_mask
                if rule == SCALE_FLOOR:
                    up = False
                elif rule == SCALE_CEIL:  # not a power of two
                    up = mf != 0
                elif rule == SCALE_EVEN:  # 1.mf rounds (halves up) to 2 at prec fraction bits
                    up = mf >= even_mf
                else:  # RCEIL: amax > max 2^f, i.e. 1.mf > max / 2^emax_elem (exact fields)
                    up = mf > rceil_mf
                E = (m >> xm) - (1 - x_emin) - emax_elem + np.int64(up)
                nan = overflow_nan and E > emax_s
                E = min(max(E, emin_s), emax_s)
            else:  # the largest magnitude's pattern is the pattern of the largest magnitude
                amax = S.bits_f64(m) if wide else np.float64(np.int32(m).view(np.float32))
                E, nan = _shared_exponent(amax, rule, emax_elem, prec, maxval, emin_s, emax_s,
                                          overflow_nan)
            scales[k] = nan_code if nan else E + bias_s
            if flat:  # the block's elements at once, while they are in the L1 cache
                if (not nan) and -127 <= E <= 126:
                    factor = _I32((127 - E) << 23).view(np.float32)
                    for j in range(base, stop):
                        codes[j] = _mx_f32_element(x[j], xs[j], factor, p32)
                else:
                    redo = True
        if flat and not redo:
            continue
        for k in range(k0, k1):
            base = np.uint64(k) * ublock
            stop = base + ublock
            if scales[k] == nan_code:
                for j in range(base, stop):
                    codes[j] = filler
                continue
            E = np.int64(scales[k]) - bias_s
            if flat and -127 <= E <= 126:
                continue  # (done by the flat loop)
            if MODE == SR or E < float_below:
                factor = S.pow2(-E)
                for j in range(base, stop):
                    xi = np.float64(x[j])
                    v = xi * factor
                    v = (_TINY if xi > 0.0 else -_TINY) if (abs(v) < _TINY and xi != 0.0) else v
                    rand = S.element_draw(key, np.int64(j), MODE)
                    codes[j] = _mx_element(v, rand, rbits, s, lowest, rebias, sub_up, maxmag,
                                           sign_bit, fnuz_zero, frac_limits)
            else:
                C = np.int64(x_emin - 1) - E
                lim = np.int64(xm - nfrac) - C if FIXED else emin - C
                C3 = (C + bias - 1) << mbits
                for j in range(base, stop):
                    codes[j] = _mx_bits_element(np.int64(xs[j]), xm, mbits, s0, lim, C3, maxmag,
                                                sign_bit, fnuz_zero, fixed_params)


_MX = {}  # (mode, fixed) -> its specialised copies


def _mx_kernels(mode, fixed, block):
    key = (int(mode), bool(fixed), 32 if block == 32 else 0)
    kernels = _MX.get(key)
    if kernels is None:
        kernels = _MX[key] = specialize(
            {_shared_exponent: cpu_scalar, _mx_element: cpu_scalar, _round_shift: cpu_scalar,
             _round_f32: cpu_scalar, _mx_f32_element: cpu_scalar,
             _mx_bits_element: cpu_scalar, _mx_pass: cpu_parallel_kernel},
            MODE=key[0], FIXED=key[1], BLOCK=key[2])
    return kernels


def mx_encode_into(x, codes, scales, block, params, mode, key, rbits):
    """Element codes (codes: x's size) and scale codes (scales: one per block) of flat C-ordered
    x in contiguous blocks; params: mx_params' tuple. Returns how many blocks hold NaN or inf
    (they get the NaN scale)."""
    (fixed, rule, emax_elem, prec, maxval, emin_s, emax_s, bias_s, nan_code, overflow_nan,
     filler, element) = params
    kernels = _mx_kernels(mode, fixed, block)
    bad = np.zeros(scales.size, dtype=np.uint8)
    wide = x.dtype == np.float64
    xs = x.view(np.int64 if wide else np.int32)
    xu = x.view(np.uint64 if wide else np.uint32)
    group = max(1, MX_GROUP // block)
    with threads_for(x.size):
        kernels._mx_pass(x, xs, xu, codes, scales, block, rule, emax_elem, prec, maxval, emin_s,
                         emax_s, bias_s, nan_code, overflow_nan, filler, np.uint64(key), rbits,
                         *element, bad, group)
    return int(np.count_nonzero(bad))
