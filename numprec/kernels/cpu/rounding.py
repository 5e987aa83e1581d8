"""CPU array kernels for rounding, encoding and decoding: loops over preallocated outputs calling
the compiled scalar kernels (numprec.kernels.cpu.scalars).

Each kernel takes flat contiguous arrays; validation, allocation and reshaping happen in
numprec.ops. Rounding runs in two passes: a branch-light pass (round_fast) over every element,
with the rounding mode compiled in as a constant (jit.by_mode: one specialisation per mode, which
LLVM vectorises), then the general scalar kernel for the few elements outside the format's normal
range. Flags are counted into `counts` (one slot per flag bit) when asked. Inputs are float64 or
float32 (each element widened exactly in a register: no float64 copy of a float32 array), and
rounded results go to float64 or, for a format whose values all fit, float32 outputs (an exact
store). The fast pass is
also specialised on the kind of format (fixed point or float) and on rounding or encoding, and the
general pass on rounding or encoding: a call compiles only the branch it runs (a first call on an
empty kernel cache compiles a third of the code).
"""
import numpy as np
from numba import prange

from ...codes import (COUNT_SLOT, KIND_FIXED, NCOUNTS, P_EMIN, P_KIND, P_MBITS, P_NBITS,
                      P_SIGNED, P_SUBNORMALS, RNE, TALLY_UNENCODABLE)
from ..jit import SMALL_WORK, cpu_parallel_kernel, cpu_serial_kernel, specialize, threads_for
from .flags import add_tallies, check_counts, chunk_of, new_tallies
from .scalars import S

_INEXACT, _ZEROED = COUNT_SLOT["inexact"], COUNT_SLOT["zeroed"]
# Compile-time constants of each specialised copy (the values here are never run): the rounding
# mode of the fast pass, whether the format is fixed point, whether the kernel encodes, whether
# the fast pass also rounds subnormal results (SUBNORMAL), whether the general pass runs in
# parallel (its copies are also compiled serial or parallel).
MODE = RNE
FIXED = False
ENCODE = False
SUBNORMAL = False
PARALLEL = False


def _fast_pass(x, out, slow, P, key, offset, rbits, want_flags, counts):
    """Fast pass over all elements in mode MODE; marks slow[i] where the general pass is needed.
    Returns (how many elements are left for the general pass, how many lie below the min
    normal: in a copy without SUBNORMAL, the left ones stand for them); adds the inexact and zeroed counts
    among the others to counts when want_flags (fixed point rounds small values to zero here; a
    float format's fast results are normal numbers or exact zeros). The counts are added here,
    not in Python: two numpy scalar updates per op cost more than the pass on small arrays.

    SUBNORMAL copies (float formats with subnormals, without flags or ftz: see _subnormal_fast)
    also round (or encode) the inputs below the format's min normal here: a subnormal
    result is k * 2^(emin - mbits), which is fixed-point rounding at that quantum
    (round_fast_fixed: the general kernel models fixed point the same way), with the input's
    sign on zero (none in fnuz)."""
    mode, fixed, encode, subnormal = MODE, FIXED, ENCODE, SUBNORMAL
    fast = S.fast_path_limits(P)
    zero_sign = fast[3]
    fixed_limits = S.fixed_fast_limits(P) if fixed else (1.0, 1.0, 0.0, 0.0)  # folds away
    # the subnormal quantum's scales, and the subnormal range's top (the min normal)
    quantum = P[P_EMIN] - P[P_MBITS]
    sub_limits = ((S.pow2(-quantum), S.pow2(quantum), S.pow2(P[P_MBITS]), S.pow2(P[P_MBITS]))
                  if subnormal else (1.0, 1.0, 0.0, 0.0))
    min_normal = S.pow2(P[P_EMIN]) if subnormal else 0.0
    n_slow = 0
    n_tiny = 0
    n_inexact = 0
    n_zeroed = 0
    for i in prange(x.size):
        rand = S.element_draw(key, offset + i, mode)
        if fixed:
            value, ok, inexact = S.round_fast_fixed(np.float64(x[i]), mode, fixed_limits, rand,
                                                    rbits)
            n_zeroed += ok & inexact & (value == 0.0)
            if encode:
                out[i] = S.encode_fixed_fast(value, fixed_limits, P)
            else:
                out[i] = value
        else:
            xi = np.float64(x[i])
            value, ok, inexact = S.round_fast(xi, mode, fast, rand, rbits)
            tiny = False
            code = np.int64(0)
            if subnormal:
                tiny = abs(xi) < min_normal and xi != 0.0  # (NaN compares false)
                small, _, small_inexact = S.round_fast_fixed(xi, mode, sub_limits, rand, rbits)
                # the result's sign is the input's, on zero too (+0 only in fnuz)
                negative = xi < 0.0 and (small != 0.0 or zero_sign != 0)
                if small == 0.0:  # round_fast_fixed's zero is +0
                    small = -0.0 if negative else 0.0
                if encode:  # k * 2^(emin - mbits) has the pattern sign | k (k = 2^mbits: the
                    # min normal's pattern)
                    code = np.int64(abs(small) * sub_limits[0]) | (
                        np.int64(negative) << (P[P_NBITS] - 1))
                value = small if tiny else value  # selects, not a branch: the loop vectorises
                inexact = small_inexact if tiny else inexact
                ok = ok or tiny
                n_tiny += tiny
            if encode:
                normal_code = S.encode_normal(value, P)
                out[i] = code if tiny else normal_code
            else:
                out[i] = value
        slow[i] = not ok
        n_slow += not ok
        n_inexact += ok and inexact
    if want_flags:
        counts[_INEXACT] += n_inexact
        counts[_ZEROED] += n_zeroed
    return n_slow, (n_tiny if subnormal else n_slow)


def _general_pass(x, out, index, P, mode, saturate, ftz, key, offset, rbits, counts):
    """The general scalar kernel on the elements `index` that the fast pass left; adds their
    flags to counts. Returns how many elements have no bit pattern (encode only)."""
    encode = ENCODE
    tallies = new_tallies(index.size)
    for chunk in prange(tallies.shape[0]):
        tally, start, stop = chunk_of(tallies, chunk, index.size)
        for j in range(start, stop):
            i = index[j]
            value, flags = S.round_scalar(np.float64(x[i]), P, mode, saturate, ftz,
                                          S.element_draw(key, offset + i, mode), rbits)
            if encode:
                out[i] = S.encode_counted(value, P, tally)
            else:
                out[i] = value
            S.tally_flags(tally, flags)
    add_tallies(tallies, counts)
    return tallies[:, TALLY_UNENCODABLE].sum()


# The entry points orchestrate from Python: a parallel kernel called from inside another jitted
# function that was loaded from numba's cache can run before numba's thread pool is started (a
# segfault), so parallel kernels are only ever called from Python.
def _round_or_encode(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts,
                     encode):
    check_counts(counts)
    slow = np.empty(x.size, dtype=np.bool_)
    bad = 0
    with threads_for(x.size):
        allowed = _subnormal_fast(P, encode, want_flags, ftz)
        share_key = (P, int(mode))
        subnormal = allowed and _TINY_SHARE.get(share_key, 0.0) > SUBNORMAL_SHARE
        n_slow, n_tiny = _fast_pass_for(mode, P[P_KIND] == KIND_FIXED, encode, subnormal)(
            x, out, slow, P, key, offset, rbits, want_flags, counts)
        if allowed and x.size >= 1024:
            _TINY_SHARE[share_key] = n_tiny / x.size
        if n_slow:  # the general pass tallies its flags (into scratch unless they are wanted)
            index = np.flatnonzero(slow)
            bad = _general_pass_for(encode, index.size >= SMALL_WORK)(
                x, out, index, P, mode, saturate, ftz, key, offset, rbits,
                counts if want_flags else np.zeros(NCOUNTS, dtype=np.int64))
    return int(bad)


def round_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = round(x[i]) (float64); counts[f] += elements raising flag f (when want_flags)."""
    _round_or_encode(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts, False)


def encode_into(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = bit pattern of round(x[i]) (int64 or an unsigned container); returns how many
    elements have no pattern (NaN in a format without NaN)."""
    return _round_or_encode(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags,
                            counts, True)


def decode_into(bits, out, P):
    """out[i] = value of the bit pattern bits[i] (int64)."""
    with threads_for(bits.size):
        _decode_pass(bits, out, P)


@cpu_parallel_kernel
def _decode_pass(bits, out, P):
    for i in prange(bits.size):
        out[i] = S.decode_scalar(np.int64(bits[i]), P)


# Which copy of the fast pass a call takes is a matter of speed only (both give the same bits):
# the SUBNORMAL copy does more work per element, which pays where many elements are tiny (a
# subnormal left to the general pass costs it a gather, up to ~80 ns), and costs up to a third of
# the pass where none are. So a call takes it when the previous call in that format and mode
# found more than SUBNORMAL_SHARE of its elements below the min normal.
SUBNORMAL_SHARE = 1 / 400
_TINY_SHARE = {}  # (kernel params, mode) -> the share of tiny elements of the last call


def _subnormal_fast(P, encode, want_flags, ftz) -> bool:
    """Whether the fast pass rounds (or encodes) subnormal results too: a signed float format
    with subnormals (an unsigned one leaves its negative inputs to the general pass), whose
    quantum 2^(emin - mbits) is a normal float64 (not fp64), without flags (the general pass
    counts underflow and the subnormal events) and without ftz."""
    return bool(P[P_KIND] != KIND_FIXED and P[P_SUBNORMALS] and P[P_SIGNED] and not want_flags
                and not ftz and P[P_EMIN] - P[P_MBITS] >= -1022)


_FAST_PASSES = {}  # (mode, fixed, encode, subnormal) -> its copy of _fast_pass, made when first
# asked for


def _fast_pass_for(mode, fixed, encode, subnormal=False):
    key = (int(mode), bool(fixed), bool(encode), bool(subnormal))
    kernel = _FAST_PASSES.get(key)
    if kernel is None:
        kernel = _FAST_PASSES[key] = specialize(
            {_fast_pass: cpu_parallel_kernel}, MODE=key[0], FIXED=key[1], ENCODE=key[2],
            SUBNORMAL=key[3])._fast_pass
    return kernel


_GENERAL_PASSES = {}  # (encode, parallel) -> its copy of _general_pass


def _general_pass_for(encode, parallel):
    """The general pass, serial for a few elements (most calls: it compiles in a second less than
    the parallel one) and parallel for many (subnormal-heavy data), each compiled when first
    used."""
    key = (bool(encode), bool(parallel))
    kernel = _GENERAL_PASSES.get(key)
    if kernel is None:
        jit = cpu_parallel_kernel if parallel else cpu_serial_kernel
        kernel = _GENERAL_PASSES[key] = specialize({_general_pass: jit}, ENCODE=key[0],
                                                   PARALLEL=key[1])._general_pass
    return kernel
