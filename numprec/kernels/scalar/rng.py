"""Counter-based random bits for stochastic rounding: a pure function of (key, element index).

SplitMix64's output function applied to key + (index + 1) * golden: every element's draw is
independent of thread count, chunking and device, and the GPU kernels run the very same code.
`random62` is compiled with the other scalars; the `*_py` twins are exact pure-Python
references, and `key_from_seed` (host only) turns a seed and a stream number
(numprec.codes.STREAM_*) into a key.
"""
import os

import numpy as np

from ...codes import SR, STREAM_ROUND

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1


def mix64(z):
    """SplitMix64 finaliser on a uint64."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def random62(key, index):
    """62 uniform random bits (as a non-negative int64) for element `index` under `key`."""
    z = mix64(key + np.uint64(index + 1) * _GOLDEN)
    return np.int64(z >> np.uint64(2))


def element_draw(key, index, mode):
    """random62(key, index) in mode sr; 0 (no draw) in the deterministic modes."""
    if mode == SR:
        return random62(key, index)
    return np.int64(0)


def mix64_py(z: int) -> int:
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def random62_py(key: int, index: int) -> int:
    """Pure-Python reference of random62."""
    return mix64_py(key + (index + 1) * 0x9E3779B97F4A7C15) >> 2


def key_from_seed(seed, stream: int = STREAM_ROUND) -> int:
    """The uint64 key of a seed (None draws a fresh one from the OS) and a stream number, so that
    independent roundings (e.g. successive steps of a sum) use independent draws."""
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little")
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not 0 <= seed <= _MASK64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return mix64_py(mix64_py(seed) + stream * 0x9E3779B97F4A7C15)
