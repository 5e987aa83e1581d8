"""CPU array kernels for the element-wise arithmetic ops (add, sub, mul, div, sqrt, fma).

One parallel kernel runs every op (op codes in numprec.codes): the scalar kernels of
numprec.kernels.scalar.arith, compiled in numprec.kernels.cpu.scalars. Flags are counted per
chunk (numprec.kernels.cpu.flags) into `counts` when asked.
"""
from numba import prange

from ...codes import ARITH_OPS, OP_ADD, OP_FMA, OP_SQRT
from ..jit import cpu_parallel_kernel, specialize, threads_for
from .flags import add_tallies, check_counts, chunk_of, new_tallies
from .scalars import S


OP = OP_ADD  # the op of arith_kernel: a compile-time constant in each ARITH copy (specialize)


def _arith_kernel(a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = OP(a[i], b[i], c[i]) rounded once (sqrt reads a, the binary ops a and b)."""
    tallies = new_tallies(out.size)
    for chunk in prange(tallies.shape[0]):
        tally, start, stop = chunk_of(tallies, chunk, out.size)
        for i in range(start, stop):
            value, flags = S.arith_round(OP, a[i], b[i], c[i], P, mode, saturate, ftz,
                                         S.element_draw(key, offset + i, mode), rbits)
            out[i] = value
            if want_flags:
                S.tally_flags(tally, flags)
    if want_flags:
        add_tallies(tallies, counts)


ARITH = [specialize({_arith_kernel: cpu_parallel_kernel}, OP=op)._arith_kernel
         for op in range(len(ARITH_OPS))]


def _run(op, a, b, c, out, *rest):
    check_counts(rest[-1])
    with threads_for(out.size):
        ARITH[op](a, b, c, out, *rest)


def binary_into(op, a, b, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] op b[i] rounded once (op: OP_ADD, OP_SUB, OP_MUL or OP_DIV)."""
    _run(op, a, b, a, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts)


def sqrt_into(a, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = sqrt(a[i]) rounded once."""
    _run(OP_SQRT, a, a, a, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts)


def fma_into(a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts):
    """out[i] = a[i] * b[i] + c[i] rounded once."""
    _run(OP_FMA, a, b, c, out, P, mode, saturate, ftz, key, offset, rbits, want_flags, counts)


@cpu_parallel_kernel
def round_parts_kernel(hi, lo, tail, scale, out, P, mode, saturate, ftz, key, offset, rbits):
    """out[i] = (hi[i] + lo[i] + tail[i]) * 2^scale[i] rounded once (exact references); hi[i]
    must be finite and nonzero and the parts must satisfy scalar.arith's invariants."""
    for i in prange(out.size):
        rand = S.element_draw(key, offset + i, mode)
        value, _ = S.round_parts(hi[i], lo[i], tail[i], scale[i], P, mode, saturate, ftz, rand,
                                 rbits)
        out[i] = value
