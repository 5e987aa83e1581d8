"""CPU array kernels: loops over preallocated outputs calling the compiled scalar kernels.

Each kernel takes flat contiguous arrays; validation, allocation and reshaping happen in
numprec.ops. Flags are counted per element into `counts` (one slot per flag bit) when asked.
"""
import numpy as np
from numba import prange

from . import rng, scalar_round
from .codes import NFLAGS
from .jit import compile_scalars, cpu_parallel_kernel, cpu_scalar


@cpu_scalar
def _f64_bits(x):
    return np.float64(x).view(np.int64)


@cpu_scalar
def _bits_f64(b):
    return np.int64(b).view(np.float64)


S = compile_scalars(
    [scalar_round, rng],
    ["pow2", "bit_length", "significand_exponent", "signed_zero", "split_at",
     "stochastic_threshold", "round_up", "overflow_result", "round_scalar", "encode_scalar",
     "decode_scalar", "mix64", "random62"],
    cpu_scalar, {"f64_bits": _f64_bits, "bits_f64": _bits_f64})

round_scalar = S.round_scalar
encode_scalar = S.encode_scalar
decode_scalar = S.decode_scalar
random62 = S.random62


@cpu_parallel_kernel
def round_kernel(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = round(x[i]); counts[f] += elements raising flag f (when want_flags)."""
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = 0
    for i in prange(x.size):
        rand = random62(key, offset + i) if mode == 6 else np.int64(0)
        value, flags = round_scalar(x[i], P, mode, saturate, ftz, rand, rbits)
        out[i] = value
        if want_flags:
            c0 += flags & 1
            c1 += (flags >> 1) & 1
            c2 += (flags >> 2) & 1
            c3 += (flags >> 3) & 1
            c4 += (flags >> 4) & 1
            c5 += (flags >> 5) & 1
            c6 += (flags >> 6) & 1
    if want_flags:
        counts[0] += c0
        counts[1] += c1
        counts[2] += c2
        counts[3] += c3
        counts[4] += c4
        counts[5] += c5
        counts[6] += c6


@cpu_parallel_kernel
def encode_kernel(x, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = bit pattern of round(x[i]); -1 marks a value with no pattern (checked by caller)."""
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = 0
    bad = 0
    for i in prange(x.size):
        rand = random62(key, offset + i) if mode == 6 else np.int64(0)
        value, flags = round_scalar(x[i], P, mode, saturate, ftz, rand, rbits)
        code = encode_scalar(value, P)
        bad += code < 0
        out[i] = code
        if want_flags:
            c0 += flags & 1
            c1 += (flags >> 1) & 1
            c2 += (flags >> 2) & 1
            c3 += (flags >> 3) & 1
            c4 += (flags >> 4) & 1
            c5 += (flags >> 5) & 1
            c6 += (flags >> 6) & 1
    if want_flags:
        counts[0] += c0
        counts[1] += c1
        counts[2] += c2
        counts[3] += c3
        counts[4] += c4
        counts[5] += c5
        counts[6] += c6
    return bad


@cpu_parallel_kernel
def decode_kernel(bits, out, P):
    for i in prange(bits.size):
        out[i] = decode_scalar(np.int64(bits[i]), P)


assert NFLAGS == 7
