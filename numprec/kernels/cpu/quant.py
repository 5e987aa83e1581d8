"""CPU kernels of integer quantization and its min / max observer: one pass over the data each,
bit-identical to the exact multi-pass path of numprec.quant (quantize through numprec.ops.div),
which stays the reference. (MX block encoding: numprec.kernels.cpu.mx.)

Integer quantization, r = R(x / s + zb) + za (zb = zero point before rounding, or 0; za = zero
point after rounding, or 0), then clamp to [qmin, qmax]; NaN gives the zero point.

Why R of the *exact* quotient t = x / s is right (s positive, 2^-1000 <= s <= 2^990, checked by
the caller; |zb| <= 2^16 an integer). Let z = zb and u = fl(fl(x * fl(1 / s)) + z), the only
approximation made. Each of the three roundings has relative error at most 2^-53, so while
|u| < 2^20: |u - (t + z)| < 2^-31 (|t| < 2^20.1; underflow adds at most 2^-1075).
- The rounding of t + z to an integer depends only on where t + z lies among the *critical
  points* of the mode: the integers (rdn, rup, rtz, rto) or the half-integers (rne, rna: the
  midpoints), and on its sign (rtz, rna), and for ties or exact integers on the parity of the
  neighbours. Let c be the critical point nearest to u (rint(u), or floor(u) + 1/2).
- Far (|u - c| > 2^-24): no critical point lies between u and t + z (the nearest is 2^-24 - 2^-31
  away from u, the others at least 1/2 - 2^-24), and neither is 0 unless it is a critical point
  (integers); so t + z and u round alike, and R is floor / ceil / trunc / rint of u, and for rto
  the odd one of floor(u) and floor(u) + 1 (t + z is no integer).
- Near (|u - c| <= 2^-24): t + z lies within 2^-23 of c, strictly between c - 1/2 and c + 1/2,
  and the rounding is decided by d = sign(t + z - c) = sign(x - w s) with w = c - z (a multiple
  of 1/2 below 2^21: 22 bits). That sign is computed exactly, without an FMA: s = sh + sl
  (Veltkamp's split, done once per scale: 26 bits each), so w*sh and w*sl are exact products
  (48 bits at most; no underflow: s >= 2^-1000), x - w*sh is exact by Sterbenz's lemma (w*sh lies
  within a factor 1 + 2^-22 of x when w != 0; when w = 0 it is 0), and x - w s =
  (x - w*sh) - w*sl, whose sign is the comparison of the two exact doubles.
  Then d = 0: t + z = c exactly (an integer, or a tie: rne takes the even neighbour, rint(c);
  rna the one away from 0); d != 0: t + z lies just above or below c, on a known side, and each
  mode picks its neighbour (rdn c - [d < 0], rup c + [d > 0], rtz toward 0, rto the odd one,
  rne / rna c + d/2).
- |u| >= 2^20 (inf included): |t + z| > 2^20 - 1, and every formula gives a value beyond
  2^20 - 2 of the same sign: after adding za (|za| < 2^16) both clamp to the same end and are
  counted as saturated, as the exact path's saturating intermediate formats are
  (numprec.quant.affine). NaN propagates, and is replaced by the zero point.
The fast loop computes u and rounds it by the far formulas; a block of elements in which one lies
near a critical point (or is NaN or inf) is done again by the exact loop, which computes the near
case's residual sign. For float32 x quantized to at most 256 integers (8 bits) with
2^-100 <= s <= 2^100, the fast loop runs in float32 (twice the lanes): u = fl32(fl32(x *
fl32(1 / s)) + zb) has three roundings of relative error 2^-24 (and an underflow of at most
2^-150), so |u - (t + zb)| <= |t| 2^-22.99 + |u| 2^-23.99 + 2^-150 <= (|u| + |zb|) 2^-22.4 +
2^-149, and "near" there means within (|u| + |zb|) 2^-21 + 2^-100 (the test's own float32 errors
are far inside that margin); and |u| >= 1024 (finite x) saturates on u's side whatever R does
(|t + zb| > 1023, |za| <= 255), as above. (The exact loop stays in float64.)
Stochastic rounding needs the exact bits of the quotient's fraction and is not done here.

The rounding mode is a compile-time constant (jit.specialize per mode: the loops vectorise).
Outputs are written as unsigned containers (uint8 / uint16: a two's complement int8 / int16 is
the same bytes; the caller views them). The kernels use no 64-bit integer multiply.
"""
import numpy as np
from numba import prange

from ...codes import RDN, RNA, RNE, RTZ, RUP
from ..jit import cpu_parallel_kernel, cpu_scalar, specialize, threads_for

MODE = RNE  # the rounding mode: a compile-time constant in each specialised copy

CHUNK = 1 << 14  # elements per parallel work item (and per tally row)
QBLOCK = 512  # elements per block of the quantize loops (one near a critical point is redone)
QBLOCK32 = 256  # the same in float32 lanes (about 1 element in 10^4 lies near on N(0,1) data)
NEAR = 2.0 ** -24  # |u - c| up to this: decided by the exact residual sign
NEAR32_REL = 2.0 ** -21  # the float32 loop's: near is within (|u| + |zb|) 2^-21 + 2^-100
VELTKAMP = 134217729.0  # 2^27 + 1
NTALLY = 4  # saturated, NaN, +inf, -inf

_ABS64 = 0x7FFFFFFFFFFFFFFF
_ABS32 = 0x7FFFFFFF
_INF64 = 0x7FF0000000000000
_INF32 = 0x7F800000
_NEG_INF64 = 0xFFF0000000000000
_NEG_INF32 = 0xFF800000


# ------------------------------------------------------------------------ integer quantization

def split_scale(s):
    """(1 / s, sh, sl) of float64 scales s (arrays): Veltkamp's split s = sh + sl exactly, each
    with at most 26 significant bits (numpy float64 operations: IEEE, no FMA)."""
    s = np.asarray(s, dtype=np.float64)
    c = VELTKAMP * s
    sh = c - (c - s)
    return 1.0 / s, sh, s - sh


def scales_supported(s) -> bool:
    """Whether every scale lies where the kernel's exactness argument holds (2^-1000..2^990)."""
    s = np.asarray(s, dtype=np.float64)
    return bool(np.all((s >= 2.0 ** -1000) & (s <= 2.0 ** 990)))


def _round_int(xi, inv, sh, sl, zb):
    """R(x / s + zb) in mode MODE as a float64 integer (module docstring): NaN for NaN x, a value
    beyond +-(2^20 - 2) when |x / s + zb| is that large."""
    mode = MODE
    u = xi * inv + zb
    if mode == RNE or mode == RNA:
        c = np.floor(u) + 0.5
    else:
        c = np.rint(u)
    w = c - zb
    r1 = xi - w * sh
    b = w * sl
    up = r1 > b  # t + zb > c
    down = r1 < b  # t + zb < c
    near = abs(u - c) <= NEAR
    if mode == RNE:
        at = np.rint(c) if not (up or down) else (c + 0.5 if up else c - 0.5)
        far = np.rint(u)
    elif mode == RNA:
        at = (c + 0.5 if c > 0.0 else c - 0.5) if not (up or down) else (
            c + 0.5 if up else c - 0.5)
        far = np.rint(u)
    elif mode == RDN:
        at = c - 1.0 if down else c
        far = np.floor(u)
    elif mode == RUP:
        at = c + 1.0 if up else c
        far = np.ceil(u)
    elif mode == RTZ:
        at = (c - 1.0 if down else c) if c > 0.0 else ((c + 1.0 if up else c) if c < 0.0 else
                                                       0.0)
        far = np.trunc(u)
    else:  # RTO
        odd_c = c - 2.0 * np.floor(0.5 * c) != 0.0
        at = c if (odd_c or not (up or down)) else (c + 1.0 if up else c - 1.0)
        f = np.floor(u)
        odd_f = f - 2.0 * np.floor(0.5 * f) != 0.0
        far = f if odd_f else f + 1.0
    return at if near else far


def _fast_int(xi, inv, zb, cst):
    """(R(u) of u = x * (1 / s) + zb, whether the exact path must decide instead), in the
    precision of inv and cst (float64, or float32 for float32 x). cst = (rel, floor, sat, top,
    1/2, 1, 2): u may round differently from t + zb only within (|u| + |zb|) rel + floor of a
    critical point of MODE, and sat <= |u| <= top (the largest finite float) saturates whatever
    R does (module docstring); NaN and inf are redone (they make both tests false)."""
    mode = MODE
    rel, floor, sat, top, half, one, two = cst
    u = xi * inv + zb
    if mode == RNE or mode == RNA:
        dist = abs(u - np.floor(u) - half)
        r = np.rint(u)
    else:
        dist = abs(u - np.rint(u))
        if mode == RDN:
            r = np.floor(u)
        elif mode == RUP:
            r = np.ceil(u)
        elif mode == RTZ:
            r = np.trunc(u)
        else:  # RTO: the odd one of floor(u), floor(u) + 1
            f = np.floor(u)
            r = f + one - (f - two * np.floor(half * f))
    au = abs(u)
    decided = (dist > au * rel + (abs(zb) * rel + floor)) | ((au >= sat) & (au <= top))
    return r, not decided


def _exact_element(xi, inv, sh, sl, zb, za, zp, qmin, qmax):
    """(clamped integer as float64, saturated): NaN gives the zero point zp, not saturated."""
    v = _round_int(xi, inv, sh, sl, zb) + za
    above = v > qmax
    below = v < qmin
    v = qmax if above else v
    v = qmin if below else v
    v = zp if xi != xi else v
    return v, above | below


# The loops run over x[start:stop] by unsigned indices: numba then needs no negative-index
# wraparound and the loops vectorise (a signed loop from a nonzero start does not; a view costs a
# reference count per block).

def _fast_loop(x, out, start, stop, inv, zb, za, qmin, qmax, cst):
    n_sat = 0
    n_redo = 0
    for j in range(np.uint64(start), np.uint64(stop)):
        r, redo = _fast_int(x[j], inv, zb, cst)
        v = r + za
        above = v > qmax
        below = v < qmin
        if above:
            v = qmax
        if below:
            v = qmin
        n_sat += above | below
        n_redo += redo
        out[j] = np.int32(v)
    return n_sat, n_redo


def _exact_loop(x, out, start, stop, inv, sh, sl, zb, za, qmin, qmax, counts):
    zp = zb + za
    n_sat = 0
    n_nan = 0
    n_pinf = 0
    n_ninf = 0
    for j in range(np.uint64(start), np.uint64(stop)):  # (counted in scalars: stores to
        xi = np.float64(x[j])  # counts would stop vectorising)
        v, sat = _exact_element(xi, inv, sh, sl, zb, za, zp, qmin, qmax)
        n_sat += sat
        n_nan += xi != xi
        n_pinf += xi == np.inf
        n_ninf += xi == -np.inf
        out[j] = np.int32(v)
    counts[0] += n_sat
    counts[1] += n_nan
    counts[2] += n_pinf
    counts[3] += n_ninf


def _fast_loop_cols(x, out, start, stop, base, inv, zb, za, qmin, qmax, cst):
    n_sat = 0
    n_redo = 0
    ubase = np.uint64(base)
    for j in range(np.uint64(start), np.uint64(stop)):
        c = j - ubase
        r, redo = _fast_int(x[j], inv[c], zb[c], cst)
        v = r + za[c]
        above = v > qmax
        below = v < qmin
        if above:
            v = qmax
        if below:
            v = qmin
        n_sat += above | below
        n_redo += redo
        out[j] = np.int32(v)
    return n_sat, n_redo


def _exact_loop_cols(x, out, start, stop, base, inv, sh, sl, zb, za, qmin, qmax, counts):
    n_sat = 0
    n_nan = 0
    n_pinf = 0
    n_ninf = 0
    ubase = np.uint64(base)
    for j in range(np.uint64(start), np.uint64(stop)):
        c = j - ubase
        xi = np.float64(x[j])
        v, sat = _exact_element(xi, inv[c], sh[c], sl[c], zb[c], za[c], zb[c] + za[c], qmin,
                                qmax)
        n_sat += sat
        n_nan += xi != xi
        n_pinf += xi == np.inf
        n_ninf += xi == -np.inf
        out[j] = np.int32(v)
    counts[0] += n_sat
    counts[1] += n_nan
    counts[2] += n_pinf
    counts[3] += n_ninf


def _quantize_rows(x, out, inner, nchan, qblock, fast, exact, tallies):
    """out = quantize(x) where x is (outer, nchan, inner) flattened and channel c has scalar
    parameters: fast = (1/s, zb, za arrays, qmin, qmax, cst) in the fast loop's precision, exact =
    (1/s, sh, sl, zb, za arrays, qmin, qmax) in float64. Chunks of CHUNK elements, split at row
    ends and into blocks of qblock; a block the fast loop cannot decide is done by the exact
    loop. tallies[chunk] = saturated, NaN, +inf, -inf."""
    f_inv, f_zb, f_za, f_qmin, f_qmax, cst = fast
    inv, sh, sl, zb, za, qmin, qmax = exact
    n = x.size
    for chunk in prange(tallies.shape[0]):
        counts = tallies[chunk]
        start = chunk * CHUNK
        stop = min(n, start + CHUNK)
        i = start
        while i < stop:
            row = i // inner
            end = min(stop, (row + 1) * inner)
            ch = row % nchan
            c_finv, c_fzb, c_fza = f_inv[ch], f_zb[ch], f_za[ch]
            while i < end:
                k = min(end, i + qblock)
                n_sat, n_redo = _fast_loop(x, out, i, k, c_finv, c_fzb, c_fza, f_qmin, f_qmax,
                                           cst)
                if n_redo:
                    _exact_loop(x, out, i, k, inv[ch], sh[ch], sl[ch], zb[ch], za[ch], qmin,
                                qmax, counts)
                else:
                    counts[0] += n_sat
                i = k


def _quantize_cols(x, out, width, qblock, fast, exact, tallies):
    """As _quantize_rows for x of shape (outer, width) flattened where column j has the
    parameters [j] of the arrays (a channel axis with few elements after it: parameters
    repeated)."""
    f_inv, f_zb, f_za, f_qmin, f_qmax, cst = fast
    inv, sh, sl, zb, za, qmin, qmax = exact
    n = x.size
    for chunk in prange(tallies.shape[0]):
        counts = tallies[chunk]
        start = chunk * CHUNK
        stop = min(n, start + CHUNK)
        i = start
        while i < stop:
            base = (i // width) * width
            end = min(stop, base + width)
            while i < end:
                k = min(end, i + qblock)
                n_sat, n_redo = _fast_loop_cols(x, out, i, k, base, f_inv, f_zb, f_za, f_qmin,
                                                f_qmax, cst)
                if n_redo:
                    _exact_loop_cols(x, out, i, k, base, inv, sh, sl, zb, za, qmin, qmax,
                                     counts)
                else:
                    counts[0] += n_sat
                i = k


_QUANTIZE = {}  # mode -> its specialised copies, made when first asked for


def _quantize_kernels(mode):
    kernels = _QUANTIZE.get(mode)
    if kernels is None:
        scalars = (_round_int, _fast_int, _exact_element, _fast_loop, _exact_loop,
                   _fast_loop_cols, _exact_loop_cols)
        functions = {f: cpu_scalar for f in scalars}
        functions.update({_quantize_rows: cpu_parallel_kernel,
                          _quantize_cols: cpu_parallel_kernel})
        kernels = _QUANTIZE[mode] = specialize(functions, MODE=int(mode))
    return kernels


def _cols_layout(outer, nchan, inner) -> bool:
    """Few elements after the channel axis (per channel on the last axis): one parameter per
    column of (outer, nchan * inner) instead of one per row."""
    return inner < 64 and outer > 1 and nchan * inner > 1


def _float32_lanes(x, inv, qmin, qmax) -> bool:
    """Whether the fast loop may run in float32 (module docstring): float32 x, a range of at most
    256 integers (so |zb|, |za| <= 255) and 1 / s a normal float32 (2^-100 <= s <= 2^100)."""
    s = 1.0 / inv
    return bool(x.dtype == np.float32 and qmax - qmin <= 255
                and np.all((s >= 2.0 ** -100) & (s <= 2.0 ** 100)))


def quantize_into(x, out, outer, nchan, inner, inv, sh, sl, zb, za, qmin, qmax, mode):
    """out (uint8 / uint16, x's size) = clamp(R(x / s + zb) + za, qmin, qmax) for flat
    C-ordered x of shape (outer, nchan, inner), channel c with 1/s, Veltkamp halves sh, sl and
    zero points zb, za (float64 arrays of nchan; split_scale). NaN gives zb + za. Returns
    (saturated, NaN, +inf, -inf) counts."""
    kernels = _quantize_kernels(mode)
    tallies = np.zeros(((x.size + CHUNK - 1) // CHUNK, NTALLY), dtype=np.int64)
    cols = _cols_layout(outer, nchan, inner)
    rep = (lambda a: np.ascontiguousarray(np.repeat(a, inner))) if cols else (lambda a: a)
    inv, sh, sl, zb, za = (rep(a) for a in (inv, sh, sl, zb, za))
    exact = (inv, sh, sl, zb, za, float(qmin), float(qmax))
    if _float32_lanes(x, inv, qmin, qmax):
        f = np.float32
        fast = (inv.astype(f), zb.astype(f), za.astype(f), f(qmin), f(qmax),
                (f(NEAR32_REL), f(2.0 ** -100), f(1024.0), np.finfo(f).max, f(0.5), f(1.0),
                 f(2.0)))
        qblock = QBLOCK32
    else:
        fast = (inv, zb, za, float(qmin), float(qmax),
                (0.0, NEAR, np.inf, np.finfo(np.float64).max, 0.5, 1.0, 2.0))
        qblock = QBLOCK
    with threads_for(x.size):
        if cols:
            kernels._quantize_cols(x, out, nchan * inner, qblock, fast, exact, tallies)
        else:
            kernels._quantize_rows(x, out, inner, nchan, qblock, fast, exact, tallies)
    return tuple(int(v) for v in tallies.sum(axis=0))


# ------------------------------------------------------------------------ min / max observer

# The observer pass gives each channel's min(lo, 0) and max(hi, 0) over its finite elements: what
# range_qparams takes first (PyTorch's observers widen the range to include 0), so zero can join
# the reductions, which then need no float comparisons (integer max reductions vectorise, float
# ones do not without fastmath): with 0 in, max(hi, 0) is the largest pattern read as a signed
# integer (a negative x's pattern is negative), and min(lo, 0) is the largest pattern read as
# unsigned if that has the sign bit (the negative x of largest magnitude), else 0. A piece
# holding NaN or inf is done again by a float loop over its finite elements.

@cpu_scalar
def _minmax_loop(xs, xu, x, zero_s, zero_u):
    """(largest signed pattern, largest unsigned pattern, with 0 in both; whether x holds NaN or
    inf) of a piece: xs, xu its signed and unsigned integer views."""
    ms = zero_s
    mu = zero_u
    for j in range(xs.size):
        ms = max(ms, xs[j])
        mu = max(mu, xu[j])
    return ms, mu, _nonfinite_patterns(ms, mu, xs.itemsize == 8)


@cpu_scalar
def _nonfinite_patterns(ms, mu, wide):
    """Whether the largest signed pattern ms (+inf, +NaN: at or above +inf's) or the largest
    unsigned one mu (-inf, -NaN: at or above -inf's) shows a NaN or inf (no third reduction
    over the data)."""
    if wide:  # (float64 patterns)
        return np.int64(ms) >= _INF64 or np.uint64(mu) >= np.uint64(_NEG_INF64)
    return np.int64(ms) >= _INF32 or np.int64(mu) >= _NEG_INF32


@cpu_scalar
def _minmax_slow(x, counts):
    """(min, max) of the finite elements of x (+inf, -inf: none), counting the NaN, +inf and
    -inf (counts[1:4])."""
    a = np.inf
    b = -np.inf
    for j in range(x.size):
        xi = np.float64(x[j])
        if abs(xi) < np.inf:
            a = min(a, xi)
            b = max(b, xi)
        counts[1] += xi != xi
        counts[2] += xi == np.inf
        counts[3] += xi == -np.inf
    return a, b


@cpu_parallel_kernel
def _minmax_rows(x, xs, xu, zero_s, zero_u, inner, nsub, ms, mu, lo, hi, tallies):
    """Per (row, piece) of x (rows of `inner` elements, each cut into nsub pieces of CHUNK):
    _minmax_loop's patterns into ms, mu (tallies[item, 0] = 1: a fast piece), or for a piece with
    NaN or inf _minmax_slow's result into lo, hi and its counts into tallies[item, 1:4]."""
    for item in prange(ms.size):
        row = item // nsub
        start = row * inner + (item - row * nsub) * CHUNK
        stop = min(row * inner + inner, start + CHUNK)
        ms[item], mu[item], bad = _minmax_loop(xs[start:stop], xu[start:stop], x[start:stop],
                                               zero_s, zero_u)
        if bad:
            lo[item], hi[item] = _minmax_slow(x[start:stop], tallies[item])
        else:
            tallies[item, 0] = 1


@cpu_parallel_kernel
def _minmax_cols(x, xs, xu, width, per, ms, mu, lo, hi, tallies):
    """Per column of x (outer, width) flattened, over slices of `per` rows: the patterns into
    ms, mu (nslices, width: zeros to start with; tallies[part, 0] = 1: a fast slice), or for a
    slice with NaN or inf the finite min and max into lo, hi (+inf / -inf to start with) and its
    counts into tallies[part, 1:4]."""
    outer = x.size // width
    for part in prange(ms.shape[0]):
        bad = False
        r0 = part * per
        r1 = min(outer, r0 + per)
        srow = ms[part]
        urow = mu[part]
        for r in range(r0, r1):
            xsr = xs[r * width:(r + 1) * width]
            xur = xu[r * width:(r + 1) * width]
            for k in range(width):
                srow[k] = max(srow[k], xsr[k])
                urow[k] = max(urow[k], xur[k])
        for k in range(width):
            bad |= _nonfinite_patterns(srow[k], urow[k], xs.itemsize == 8)
        if not bad:
            tallies[part, 0] = 1
            continue
        lrow = lo[part]
        hrow = hi[part]
        counts = tallies[part]
        for r in range(r0, r1):
            xr = x[r * width:(r + 1) * width]
            for k in range(width):
                xi = np.float64(xr[k])
                if abs(xi) < np.inf:
                    lrow[k] = min(lrow[k], xi)
                    hrow[k] = max(hrow[k], xi)
                counts[1] += xi != xi
                counts[2] += xi == np.inf
                counts[3] += xi == -np.inf


def _patterns_to_values(ms, mu, dtype):
    """max(hi, 0) and min(lo, 0) as float64 from the largest signed and unsigned patterns."""
    signed = np.dtype(np.int64 if dtype == np.float64 else np.int32)
    sign = np.uint64(1 << 63) if dtype == np.float64 else np.uint32(1 << 31)
    hi = ms.astype(signed).view(dtype).astype(np.float64)
    mu = mu.astype(sign.dtype)
    lo = np.where(mu >= sign, mu.view(dtype).astype(np.float64), 0.0)
    return lo, hi


def finite_minmax(x, outer, nchan, inner):
    """(lo, hi, (NaN, +inf, -inf) counts): for each channel of flat C-ordered float32 or float64
    x of shape (outer, nchan, inner), min(0, its finite elements) and max(0, them), or +inf and
    -inf where it has no finite element (MinMaxObserver's range as range_qparams widens it
    first), as float64 arrays of nchan."""
    wide = x.dtype == np.float64
    xs = x.view(np.int64 if wide else np.int32)
    xu = x.view(np.uint64 if wide else np.uint32)
    cols = _cols_layout(outer, nchan, inner)
    with threads_for(x.size):
        if cols:
            width = nchan * inner
            per = -(-outer // 64)
            nparts = -(-outer // per)  # (every slice holds rows)
            shape = (nparts, width)
        else:
            nsub = max(1, -(-inner // CHUNK))
            shape = (outer * nchan * nsub,)
        ms = np.zeros(shape, dtype=xs.dtype)
        mu = np.zeros(shape, dtype=xu.dtype)
        lo = np.full(shape, np.inf)
        hi = np.full(shape, -np.inf)
        tallies = np.zeros((shape[0], NTALLY), dtype=np.int64)
        if cols:
            _minmax_cols(x, xs, xu, width, per, ms, mu, lo, hi, tallies)
        else:
            _minmax_rows(x, xs, xu, xs.dtype.type(0), xu.dtype.type(0), inner, nsub, ms, mu, lo,
                         hi, tallies)
    fast = tallies[:, 0] == 1
    fast_lo, fast_hi = _patterns_to_values(ms, mu, x.dtype)
    lo = np.where(fast[:, None] if cols else fast, fast_lo, lo)
    hi = np.where(fast[:, None] if cols else fast, fast_hi, hi)
    if cols:
        lo = lo.min(axis=0).reshape(nchan, inner).min(axis=1)
        hi = hi.max(axis=0).reshape(nchan, inner).max(axis=1)
    else:
        lo = lo.reshape(outer, nchan, -1).min(axis=(0, 2))
        hi = hi.reshape(outer, nchan, -1).max(axis=(0, 2))
    observed = lo != np.inf
    lo = np.where(observed, np.minimum(lo, 0.0), np.inf)
    hi = np.where(observed, np.maximum(hi, 0.0), -np.inf)
    counts = tallies[:, 1:].sum(axis=0)
    return lo, hi, (int(counts[0]), int(counts[1]), int(counts[2]))
