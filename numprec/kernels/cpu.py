"""CPU array kernels: loops over preallocated outputs calling the compiled scalar kernels.

Each kernel takes flat contiguous arrays; validation, allocation and reshaping happen in
numprec.ops. Rounding runs in two passes: a branch-light pass (round_fast) over every element,
with the rounding mode as a compile-time constant so that LLVM vectorises it, then the general
scalar kernel for the few elements outside the format's normal range. Flags are counted per element
into `counts` (one slot per flag bit) when asked.
"""
import numpy as np
from numba import prange

from .codes import INEXACT, KIND_FIXED, NFLAGS, P_KIND, RDN, RNA, RNE, RTO, RTZ, RUP, SR
from .cpu_scalars import S, f64_bits
from .jit import cpu_parallel_kernel, cpu_scalar, threads_for


_f64_bits = f64_bits
round_scalar = S.round_scalar
round_fast = S.round_fast
fast_path_limits = S.fast_path_limits
encode_normal = S.encode_normal
fixed_fast_limits = S.fixed_fast_limits
round_fast_fixed = S.round_fast_fixed
encode_fixed_fast = S.encode_fixed_fast
encode_scalar = S.encode_scalar
decode_scalar = S.decode_scalar
random62 = S.random62


@cpu_scalar
def _fast_one(x, out, slow, i, P, mode, s, lowest, highest, zero_sign, fixed_limits, fixed, key,
              offset, rbits, encode):
    """Fast path for element i; marks slow[i] when the general path is needed; returns
    (needs the general path, inexact). `fixed` selects the fixed-point variant."""
    rand = random62(key, offset + i) if mode == SR else np.int64(0)
    if fixed:
        value, ok, inexact = round_fast_fixed(x[i], mode, fixed_limits, rand, rbits)
        if encode:
            out[i] = encode_fixed_fast(value, fixed_limits, P)
        else:
            out[i] = value
    else:
        value, ok, inexact = round_fast(x[i], mode, s, lowest, highest, zero_sign, rand, rbits)
        if encode:
            out[i] = encode_normal(value, P)
        else:
            out[i] = value
    slow[i] = not ok
    return not ok, ok and inexact


@cpu_parallel_kernel
def _fast_pass(x, out, slow, P, mode, key, offset, rbits, encode):
    """Fast pass over all elements, one loop per mode so that the mode is a constant in each
    (LLVM then vectorises it). Returns (elements left for the general pass, inexact count among
    the others)."""
    s, lowest, highest, zero_sign = fast_path_limits(P)
    fixed_limits = fixed_fast_limits(P)
    fixed = P[P_KIND] == KIND_FIXED
    n = x.size
    n_slow = 0
    n_inexact = 0
    if mode == RNE:
        for i in prange(n):
            a, b = _fast_one(x, out, slow, i, P, RNE, s, lowest, highest, zero_sign, fixed_limits,
                             fixed, key, offset, rbits, encode)
            n_slow += a
            n_inexact += b
    elif mode == RNA:
        for i in prange(n):
            a, b = _fast_one(x, out, slow, i, P, RNA, s, lowest, highest, zero_sign, fixed_limits,
                             fixed, key, offset, rbits, encode)
            n_slow += a
            n_inexact += b
    elif mode == RTZ:
        for i in prange(n):
            a, b = _fast_one(x, out, slow, i, P, RTZ, s, lowest, highest, zero_sign, fixed_limits,
                             fixed, key, offset, rbits, encode)
            n_slow += a
            n_inexact += b
    elif mode == RUP:
        for i in prange(n):
            a, b = _fast_one(x, out, slow, i, P, RUP, s, lowest, highest, zero_sign, fixed_limits,
                             fixed, key, offset, rbits, encode)
            n_slow += a
            n_inexact += b
    elif mode == RDN:
        for i in prange(n):
            a, b = _fast_one(x, out, slow, i, P, RDN, s, lowest, highest, zero_sign, fixed_limits,
                             fixed, key, offset, rbits, encode)
            n_slow += a
            n_inexact += b
    elif mode == RTO:
        for i in prange(n):
            a, b = _fast_one(x, out, slow, i, P, RTO, s, lowest, highest, zero_sign, fixed_limits,
                             fixed, key, offset, rbits, encode)
            n_slow += a
            n_inexact += b
    else:
        for i in prange(n):
            a, b = _fast_one(x, out, slow, i, P, SR, s, lowest, highest, zero_sign, fixed_limits,
                             fixed, key, offset, rbits, encode)
            n_slow += a
            n_inexact += b
    return n_slow, n_inexact


@cpu_parallel_kernel
def _general_pass(x, out, index, P, mode, saturate, ftz, key, offset, rbits, encode, counts):
    """The general scalar kernel on the elements `index` that the fast pass left. Returns how
    many elements have no bit pattern (encode only)."""
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = 0
    bad = 0
    for j in prange(index.size):
        i = index[j]
        rand = random62(key, offset + i) if mode == SR else np.int64(0)
        value, flags = round_scalar(x[i], P, mode, saturate, ftz, rand, rbits)
        if encode:
            code = encode_scalar(value, P)
            bad += code == -1  # (fp64's negative patterns are negative int64s too)
            out[i] = code
        else:
            out[i] = value
        c0 += flags & 1
        c1 += (flags >> 1) & 1
        c2 += (flags >> 2) & 1
        c3 += (flags >> 3) & 1
        c4 += (flags >> 4) & 1
        c5 += (flags >> 5) & 1
        c6 += (flags >> 6) & 1
    counts[0] += c0
    counts[1] += c1
    counts[2] += c2
    counts[3] += c3
    counts[4] += c4
    counts[5] += c5
    counts[6] += c6
    return bad


# The entry points orchestrate from Python: a parallel kernel called from inside another jitted
# function that was loaded from numba's cache can run before numba's thread pool is started (a
# segfault), so parallel kernels are only ever called from Python.
def _round_or_encode(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts,
                     encode):
    slow = np.empty(x.size, dtype=np.bool_)
    bad = 0
    local = np.zeros(NFLAGS, dtype=np.int64)
    with threads_for(x.size):
        n_slow, n_inexact = _fast_pass(x, out, slow, P, mode, key, offset, rbits, encode)
        if n_slow:
            index = np.flatnonzero(slow)
            bad = _general_pass(x, out, index, P, mode, saturate, ftz, key, offset, rbits,
                                encode, local)
    if want_flags:
        local[0] += n_inexact
        counts += local
    return int(bad)


def round_kernel(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = round(x[i]) (float64); counts[f] += elements raising flag f (when want_flags)."""
    _round_or_encode(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts, False)


def encode_kernel(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = bit pattern of round(x[i]) (int64 or an unsigned container); returns how many
    elements have no pattern (NaN in a format without NaN)."""
    return _round_or_encode(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags,
                            counts, True)


def decode_kernel(bits, out, P):
    """out[i] = value of the bit pattern bits[i] (int64)."""
    with threads_for(bits.size):
        _decode_pass(bits, out, P)


@cpu_parallel_kernel
def _decode_pass(bits, out, P):
    for i in prange(bits.size):
        out[i] = decode_scalar(np.int64(bits[i]), P)


assert NFLAGS == 7 and INEXACT == 1 and (RNE, RNA, RTZ, RUP, RDN, RTO, SR) == tuple(range(7))
