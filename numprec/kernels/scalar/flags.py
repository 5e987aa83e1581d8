"""Counting exception flags, written once for the CPU and the GPU kernels.

A scalar kernel returns one flag word per element (bits in numprec.codes). An array kernel that
counts flags adds each raised bit of each element to a small tally array (per chunk of elements
on the CPU, per thread on the GPU); the tallies are summed into the caller's counts at the end.
"""
from ...codes import NFLAGS


def tally_flags(tally, flags):
    """tally[k] += 1 for each flag bit k raised in `flags`."""
    for k in range(NFLAGS):
        tally[k] += (flags >> k) & 1
