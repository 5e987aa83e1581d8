"""Counting exception flags and events, written once for the CPU and the GPU kernels.

A scalar kernel returns one flag word per element (bits in numprec.codes: the flags, then the
events ZEROED, SUBNORMAL and SWAMPED). An array kernel that counts them adds each raised bit of each
element to a small tally array (per chunk of elements on the CPU, per thread on the GPU); the
tallies are summed into the caller's counts at the end.
"""
from ...codes import NCOUNTS


def tally_flags(tally, flags):
    """tally[k] += 1 for each bit k (flag or event) raised in `flags`."""
    for k in range(NCOUNTS):
        tally[k] += (flags >> k) & 1
