"""IEEE exception flags, counted per element."""
from __future__ import annotations

import numpy as np

from ..codes import FLAG_NAMES, NFLAGS


class Flags:
    """Accumulates how many elements raised each exception; pass it as `flags=` to any op.

    Counts: inexact, underflow (tiny after rounding and inexact), overflow, invalid, divbyzero,
    saturated (clamped to +-max instead of inf/NaN) and flushed (subnormal result set to zero by ftz).
    """

    __slots__ = ("counts",)

    def __init__(self):
        self.counts = np.zeros(NFLAGS, dtype=np.int64)

    def __getattr__(self, name):
        if name in FLAG_NAMES:
            return int(self.counts[FLAG_NAMES.index(name)])
        raise AttributeError(f"Flags has no attribute {name!r}; flags are {', '.join(FLAG_NAMES)}")

    def add(self, counts) -> None:
        self.counts += np.asarray(counts, dtype=np.int64)

    def reset(self) -> None:
        self.counts[:] = 0

    def any(self, *names) -> bool:
        names = names or FLAG_NAMES
        return any(getattr(self, n) for n in names)

    def as_dict(self) -> dict:
        return {name: int(c) for name, c in zip(FLAG_NAMES, self.counts)}

    def __eq__(self, other):
        return isinstance(other, Flags) and bool(np.array_equal(self.counts, other.counts))

    def __repr__(self) -> str:
        raised = ", ".join(f"{k}={v}" for k, v in self.as_dict().items() if v)
        return f"Flags({raised or 'none'})"
