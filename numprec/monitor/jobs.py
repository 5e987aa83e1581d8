"""The monitor's value statistics on a background thread."""
from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor


class ValueJobs:
    """Value statistics computed on one background thread while training goes on.

    The compiled pass releases the GIL (nogil), so on a machine with a spare core it costs the
    training thread almost nothing. The arrays it reads are the engine's (never modified after
    an op made them). At most `depth` jobs wait: the oldest is then waited for, so a slow
    machine does not pile up steps (and their arrays) in memory. Results are collected in
    submission order, and they do not depend on timing: the same run gives the same tables.
    """

    def __init__(self, kernel, depth: int = 2):
        self._kernel, self.depth = kernel, depth
        self._pool = None
        self._pending = deque()

    def submit(self, step, keys, rows, with_values, arrays, sequence):
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="numprec-monitor")
        future = self._pool.submit(self._kernel.batch, arrays)
        self._pending.append((future, (step, keys, rows, with_values, sequence)))

    def drain(self, collect, keep: int = 0):
        """Hand jobs to collect(result), oldest first: every finished one, and the others (by
        waiting for them) until at most `keep` wait."""
        while self._pending and (len(self._pending) > keep or self._pending[0][0].done()):
            future, (step, keys, rows, with_values, sequence) = self._pending.popleft()
            collect((step, keys, rows, with_values, future.result(), sequence))

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


__all__ = ["ValueJobs"]
