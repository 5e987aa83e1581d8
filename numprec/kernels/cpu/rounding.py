"""CPU array kernels for rounding, encoding and decoding: loops over preallocated outputs calling
the compiled scalar kernels (numprec.kernels.cpu.scalars).

Each kernel takes flat contiguous arrays; validation, allocation and reshaping happen in
numprec.ops. Rounding runs in two passes: a branch-light pass (round_fast, or round_fast_wide
where subnormal results or an unsigned format's negative inputs are common) over every element,
with the rounding mode compiled in as a constant (one specialisation per mode, which LLVM
vectorises), then the general scalar kernel for the few elements the fast pass left (NaN, inf,
overflow, and whatever needs flags). Flags are counted into `counts` (one slot per flag bit)
when asked. Inputs are float64 or float32 (each element widened exactly in a register: no
float64 copy of a float32 array), and rounded results go to float64 or, for a format whose
values all fit, float32 outputs (an exact store). The fast pass is also specialised on the kind
of format (fixed point or float) and on rounding or encoding, and the general pass on rounding
or encoding: a call compiles only the branch it runs (a first call on an empty kernel cache
compiles a third of the code).
"""
import numpy as np
from numba import prange

from ...codes import (COUNT_SLOT, KIND_FIXED, NCOUNTS, P_EMIN, P_KIND, P_NBITS, P_SIGNED,
                      P_SUBNORMALS, RNE, TALLY_UNENCODABLE)
from ..jit import SMALL_WORK, cpu_parallel_kernel, cpu_serial_kernel, specialize, threads_for
from .flags import add_tallies, check_counts, chunk_of, new_tallies
from .scalars import S

_INEXACT, _ZEROED = COUNT_SLOT["inexact"], COUNT_SLOT["zeroed"]
# Compile-time constants of each specialised copy (the values here are never run): the rounding
# mode of the fast pass, whether the format is fixed point, whether the kernel encodes, whether
# the fast pass is the WIDE one (round_fast_wide: subnormal results too), whether the format is
# UNSIGNED (a WIDE copy rounds its negative inputs to NaN), and whether the general pass runs in
# parallel (its copies are also compiled serial or parallel).
MODE = RNE
FIXED = False
ENCODE = False
WIDE = False
UNSIGNED = False
PARALLEL = False


def _fast_pass(x, out, slow, P, key, offset, rbits, want_flags, ftz, counts):
    """Fast pass over all elements in mode MODE; marks slow[i] where the general pass is needed.
    Returns (how many elements are left for the general pass, how many only a WIDE copy takes:
    in a narrow copy, the left ones stand for them); adds the inexact and zeroed counts among
    the others to counts when want_flags (fixed point rounds small values to zero here; a float
    format's fast results are then normal numbers or exact zeros). The counts are added here,
    not in Python: two numpy scalar updates per op cost more than the pass on small arrays.

    WIDE copies of float formats (round_fast_wide) also round (or encode) inputs below the
    format's min normal, without flags or ftz, and an unsigned format's negative inputs (to
    NaN) without flags; narrow ones (round_fast) take normal results only, for less work per
    element."""
    mode, fixed, encode, wide_copy, unsigned = MODE, FIXED, ENCODE, WIDE, UNSIGNED
    fast = S.fast_path_limits(P)
    wide = S.wide_fast_limits(P, want_flags, ftz)
    nan_code = S.encode_scalar(np.nan, P) if wide_copy and unsigned else np.int64(0)
    fixed_limits = (S.fixed_fast_limits(P) if fixed else  # (folds away)
                    (np.int64(0), np.int64(0), np.int64(0), np.int64(0), 0.0, np.int64(0)))
    n_slow = 0
    n_wide = 0
    n_inexact = 0
    n_zeroed = 0
    for i in prange(x.size):
        rand = S.element_draw(key, offset + i, mode)
        if fixed:
            value, ok, inexact, code = S.round_fast_fixed(np.float64(x[i]), mode, fixed_limits,
                                                          rand, rbits)
            n_zeroed += ok & inexact & (value == 0.0)
            if encode:
                out[i] = code
            else:
                out[i] = value
        elif wide_copy:
            value, ok, inexact, tiny, k, wide_only = S.round_fast_wide(
                np.float64(x[i]), mode, unsigned, wide, rand, rbits)
            if encode:  # a subnormal result's pattern is sign | k (k = 2^mbits: the min
                # normal's pattern)
                sign = np.int64(S.f64_bits(value) < 0) << (P[P_NBITS] - 1)
                code = S.encode_normal(value, P)
                code = (k | sign) if tiny else code
                if unsigned:  # NaN has its own pattern (none: the general pass counts it)
                    is_nan = value != value
                    code = nan_code if is_nan else code
                    ok = ok and not (is_nan and nan_code < 0)
                out[i] = code
            else:
                out[i] = value
            n_wide += wide_only
        else:
            value, ok, inexact = S.round_fast(np.float64(x[i]), mode, fast, rand, rbits)
            if encode:
                out[i] = S.encode_normal(value, P)
            else:
                out[i] = value
        slow[i] = not ok
        n_slow += not ok
        n_inexact += ok and inexact
    if want_flags:
        counts[_INEXACT] += n_inexact
        counts[_ZEROED] += n_zeroed
    return n_slow, (n_wide if wide_copy else n_slow)


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
    plan = _PLANS.get((P, mode, encode, want_flags, ftz))
    if plan is None:
        plan = _plan(P, mode, encode, want_flags, ftz)
    allowed, share_key, fixed, unsigned = plan
    wide = False
    if allowed:
        share = _WIDE_SHARE.get(share_key)
        if share is None:  # a format and mode's first call
            share = _WIDE_SHARE[share_key] = _sampled_wide_share(x, P)
        wide = share > WIDE_SHARE
    # Small arrays (most calls of an emulated training step) take serial copies of both passes
    # (so no threads_for is needed): entering a parallel region costs a few microseconds even on
    # one thread, more than the rounding of a few thousand elements.
    parallel = x.size >= SMALL_WORK
    kernel = _FAST_PASSES.get((mode, fixed, encode, wide, wide and unsigned, parallel))
    if kernel is None:
        kernel = _fast_pass_for(mode, fixed, encode, wide, unsigned, parallel)
    n_slow, n_wide = kernel(x, out, slow, P, key, offset, rbits, want_flags, ftz, counts)
    if allowed and x.size >= 1024:
        _WIDE_SHARE[share_key] = n_wide / x.size
    if n_slow:  # the general pass tallies its flags (into scratch unless they are wanted)
        index = _slow_index(slow, n_slow)
        bad = _general_pass_for(encode, index.size >= SMALL_WORK)(
            x, out, index, P, mode, saturate, ftz, key, offset, rbits,
            counts if want_flags else np.zeros(NCOUNTS, dtype=np.int64))
    return int(bad)


def _slow_index(slow, n_slow):
    """The indices of the n_slow elements the fast pass left (np.flatnonzero(slow)). A large
    array's few slow elements (the tiny values of N(0,1) data in fp16 or e5m2) are found by
    reading slow eight bytes at a time, skipping 64 clear bytes with one test: flatnonzero's
    scan of every byte cost a sixth of the whole rounding."""
    if slow.size < SMALL_WORK:
        return np.flatnonzero(slow)
    whole = slow.size // 64 * 64
    return _find_slow(slow[:whole].view(np.uint64), slow, n_slow)


@cpu_serial_kernel
def _find_slow(words, slow, n_slow):
    """The indices of the n_slow set elements of slow, in order; words: its first 8 * words.size
    bytes as uint64 (words.size a multiple of 8), tested 64 bytes at a time (unsigned indices:
    no negative-index wraparound in the loop)."""
    index = np.empty(n_slow, dtype=np.int64)
    k = 0
    groups = words.size // 8
    eight = np.uint64(8)
    for group in range(groups):
        base = np.uint64(group) * eight
        seen = np.uint64(0)
        for j in range(8):
            seen |= words[base + np.uint64(j)]
        if seen:
            for i in range(base * eight, (base + eight) * eight):
                if slow[i]:
                    index[k] = i
                    k += 1
    for i in range(groups * 64, slow.size):
        if slow[i]:
            index[k] = i
            k += 1
    return index


_PLANS = {}  # (P, mode, encode, want_flags, ftz) -> what _round_or_encode needs of them


def _plan(P, mode, encode, want_flags, ftz):
    """(whether the WIDE copy may help, the key of the format and mode's share, fixed point,
    unsigned), worked out once per kind of call: every op of an emulated training step calls
    round with the same few of them."""
    plan = (_wide_helps(P, want_flags, ftz), (P, int(mode)), bool(P[P_KIND] == KIND_FIXED),
            bool(not P[P_SIGNED]))
    _PLANS[(P, mode, encode, want_flags, ftz)] = plan
    return plan


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
# the WIDE copy does more work per element, which pays where many elements need it (one left to
# the general pass costs it a gather, up to ~80 ns), and costs up to a third of the pass where
# none do. So a call takes it when the previous call in that format and mode found more than
# WIDE_SHARE of its elements below the min normal (or negative, in an unsigned format).
WIDE_SHARE = 1 / 400
_WIDE_SHARE = {}  # (kernel params, mode) -> the share of the last call's elements that only the
# WIDE copy rounds


def _sampled_wide_share(x, P) -> float:
    """The share of tiny (and, in an unsigned format, negative) elements among up to 256 spread
    over x: a format and mode's first call then compiles (on an empty cache) and runs the copy
    its data need, not the other one too on its second call."""
    sample = np.asarray(x[::max(1, x.size // 256)], dtype=np.float64)
    if sample.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        need = (np.abs(sample) < 2.0 ** int(P[P_EMIN])) & (sample != 0.0)
        if not P[P_SIGNED]:
            need |= sample < 0.0
    return float(need.mean())


def _wide_helps(P, want_flags, ftz) -> bool:
    """Whether the WIDE copy of the fast pass takes more elements than the narrow one: a float
    format without flags (the general pass counts underflow, invalid and the subnormal events)
    that has subnormals (without ftz) or no sign (its negative inputs round to NaN)."""
    return bool(P[P_KIND] != KIND_FIXED and not want_flags
                and ((P[P_SUBNORMALS] and not ftz) or not P[P_SIGNED]))


_FAST_PASSES = {}  # (mode, fixed, encode, wide, unsigned, parallel) -> its copy of _fast_pass,
# made when first asked for


def _fast_pass_for(mode, fixed, encode, wide=False, unsigned=False, parallel=True):
    key = (int(mode), bool(fixed), bool(encode), bool(wide) and not fixed,
           bool(wide) and bool(unsigned) and not fixed, bool(parallel))
    kernel = _FAST_PASSES.get(key)
    if kernel is None:
        jit = cpu_parallel_kernel if parallel else cpu_serial_kernel
        kernel = _FAST_PASSES[key] = specialize(
            {_fast_pass: jit}, MODE=key[0], FIXED=key[1], ENCODE=key[2], WIDE=key[3],
            UNSIGNED=key[4], PARALLEL=key[5])._fast_pass
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
