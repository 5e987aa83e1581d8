"""Running a study as independent cells: a progress bar, and finished cells kept on disk so that
an interrupted study resumes where it stopped.

A cell is one unit of work (one configuration of a sweep) that returns a DataFrame. `run_cells`
saves each finished cell atomically under a cache folder beside the study's output
(`.NAME.cells/`); a rerun with the same settings loads the finished ones instead of computing
them again, and the cache goes away once the report is written (`clear_cells`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd


class Progress:
    """A one-line progress bar on stderr: redrawn in place on a terminal, otherwise a line when
    the work starts and at every tenth of it (so that logs stay short)."""

    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label = max(int(total), 1), label
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_tenth = -1

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        tenth = 10 * self.done // self.total
        if self._tty:
            self._draw("\r")
        elif tenth != self._last_tenth:
            self._last_tenth = tenth
            self._draw("")
            self.stream.write("\n")
        self.stream.flush()

    def _draw(self, prefix: str) -> None:
        width = 30
        filled = width * self.done // self.total
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        eta = f", {left:.0f} s left" if self.done and self.done < self.total else ""
        self.stream.write(f"{prefix}{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{self.done}/{self.total} ({elapsed:.0f} s{eta})")

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()


def cache_folder(out) -> Path:
    out = Path(out).resolve()
    return out.parent / f".{out.name}.cells"


def _cell_path(folder: Path, signature: str, cell) -> Path:
    key = json.dumps([signature, cell], sort_keys=True, default=str)
    return folder / f"{hashlib.sha1(key.encode()).hexdigest()}.pkl"


def run_cells(cells, compute, out, signature: str, label: str, stream=None) -> list:
    """compute(cell) for every cell (JSON-able keys), in order, with a progress bar; each result
    (a DataFrame) is saved under cache_folder(out) as it finishes, and a cell already saved
    under the same signature (the study's settings) is loaded instead of computed."""
    folder = cache_folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(cells), label, stream)
    results = []
    for cell in cells:
        path = _cell_path(folder, signature, cell)
        if path.exists():
            frame = pd.read_pickle(path)
        else:
            frame = compute(cell)
            partial = path.with_suffix(".tmp")
            frame.to_pickle(partial)
            os.replace(partial, path)  # a cell is on disk whole or not at all
        results.append(frame)
        progress.advance()
    progress.close()
    return results


def clear_cells(out) -> None:
    """Remove the finished cells of a study whose report was written."""
    shutil.rmtree(cache_folder(out), ignore_errors=True)


__all__ = ["Progress", "run_cells", "clear_cells", "cache_folder"]
