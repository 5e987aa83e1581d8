"""Flag counting in the CPU's parallel kernels.

The elements are split into chunks of CHUNK; each chunk counts its own flags (and elements
without a bit pattern) into its row of a tally array with scalar.flags.tally_flags, so parallel
iterations never write to a shared counter, and add_tallies sums the rows into the caller's counts.
The chunking changes no result: every element still draws its random bits by its own index.
"""
import numpy as np

from ...codes import NCOUNTS, TALLY_SLOTS
from ..jit import cpu_scalar

CHUNK = 1 << 12


@cpu_scalar
def new_tallies(n):
    """A zeroed tally array for n elements: one row of TALLY_SLOTS counts per chunk."""
    return np.zeros(((n + CHUNK - 1) // CHUNK, TALLY_SLOTS), dtype=np.int64)


@cpu_scalar
def chunk_of(tallies, c, n):
    """Chunk c of n elements: its tally row and its elements [start, stop)."""
    return tallies[c], c * CHUNK, min(n, (c + 1) * CHUNK)


def check_counts(counts) -> None:
    """The caller's counts must hold every count (flags, then events): the kernels write NCOUNTS
    slots and do not check bounds."""
    if not (isinstance(counts, np.ndarray) and counts.dtype == np.int64
            and counts.shape == (NCOUNTS,)):
        raise TypeError(f"counts must be an int64 array of shape ({NCOUNTS},) (numprec.codes."
                        f"COUNT_NAMES), got {getattr(counts, 'dtype', type(counts).__name__)} "
                        f"{getattr(counts, 'shape', '')}".rstrip())


@cpu_scalar
def add_tallies(tallies, counts):
    """counts[k] += the count k (flag or event) of every chunk."""
    for c in range(tallies.shape[0]):
        for k in range(NCOUNTS):
            counts[k] += tallies[c, k]
