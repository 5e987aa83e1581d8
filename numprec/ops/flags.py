"""IEEE exception flags and arithmetic events, counted per element."""
from __future__ import annotations

import numpy as np

from ..codes import EVENT_NAMES, FLAG_NAMES, NCOUNTS, NFLAGS


class Flags:
    """Accumulates how many elements raised each exception; pass it as `flags=` to any op.

    Flags: inexact, underflow (tiny after rounding and inexact), overflow, invalid, divbyzero,
    saturated (clamped to +-max instead of inf/NaN) and flushed (subnormal result set to zero by
    ftz). The kernels also count three events (`events()`, or as attributes): zeroed (a nonzero
    exact value that became zero: underflow to zero, ftz flushes included), subnormal (a
    nonzero result below the smallest normal number) and swamped (an accumulation lost a nonzero
    term entirely: docs/rounding.md). `counts` holds the flags, `event_counts`
    the events (both are views of `all`, the NCOUNTS counts in kernel order); as_dict() and the
    repr show the flags.
    """

    __slots__ = ("all",)

    def __init__(self):
        self.all = np.zeros(NCOUNTS, dtype=np.int64)  # the views below on demand: the engine
        # makes one Flags per rounding step while observed

    @property
    def counts(self) -> np.ndarray:
        return self.all[:NFLAGS]

    @property
    def event_counts(self) -> np.ndarray:
        return self.all[NFLAGS:]

    def __getattr__(self, name):
        if name in FLAG_NAMES:
            return int(self.counts[FLAG_NAMES.index(name)])
        if name in EVENT_NAMES:
            return int(self.event_counts[EVENT_NAMES.index(name)])
        raise AttributeError(f"Flags has no attribute {name!r}; flags are {', '.join(FLAG_NAMES)}"
                             f" and events {', '.join(EVENT_NAMES)}")

    def add(self, counts) -> None:
        """Add a kernel's counts: the flags and then the events (NCOUNTS values), or the flags
        alone."""
        kernel_counts = (type(counts) is np.ndarray and counts.shape == (NCOUNTS,)
                         and counts.dtype == np.int64)
        if kernel_counts:  # the common case, kept cheap: monitors add thousands per step
            self.all += counts
            return
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape not in ((NFLAGS,), (NCOUNTS,)):
            raise ValueError(f"Flags.add takes {NFLAGS} flag counts or {NCOUNTS} counts (flags, "
                             f"then events), got shape {counts.shape}")
        self.all[:NFLAGS] += counts[:NFLAGS]
        if counts.size == NCOUNTS:
            self.all[NFLAGS:] += counts[NFLAGS:]

    def reset(self) -> None:
        self.all[:] = 0

    def any(self, *names) -> bool:
        names = names or FLAG_NAMES
        return any(getattr(self, n) for n in names)

    def as_dict(self) -> dict:
        return {name: int(c) for name, c in zip(FLAG_NAMES, self.counts)}

    def events(self) -> dict:
        return {name: int(c) for name, c in zip(EVENT_NAMES, self.event_counts)}

    def __eq__(self, other):
        return (isinstance(other, Flags) and bool(np.array_equal(self.counts, other.counts))
                and bool(np.array_equal(self.event_counts, other.event_counts)))

    def __repr__(self) -> str:
        raised = ", ".join(f"{k}={v}" for k, v in self.as_dict().items() if v)
        return f"Flags({raised or 'none'})"
