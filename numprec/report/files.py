"""Writing a report folder: markdown tables, and an all-or-nothing swap into place."""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


def cell(value, digits: int = 4) -> str:
    """A table cell: integers as is, floats to `digits` significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def markdown_table(frame, columns=None, headers=None, digits: int = 4) -> str:
    """A GitHub-flavoured markdown table of some columns of a DataFrame."""
    columns = list(columns or frame.columns)
    headers = list(headers or columns)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in frame[columns].itertuples(index=False):
        # a | inside a cell would end it: escaped
        lines.append("| " + " | ".join(cell(v, digits).replace("|", "\\|") for v in row)
                     + " |")
    return "\n".join(lines)


@contextmanager
def atomic_folder(out):
    """Yield a fresh temporary folder beside `out`; on success it replaces `out` whole, so a
    reader never sees a half-written report (on failure `out` is left as it was)."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    os.chmod(work, 0o755)  # mkdtemp makes it private; a report is for reading
    _swap_into_place(work, out)


def _swap_into_place(new: Path, out: Path) -> None:
    if not out.exists():
        os.replace(new, out)
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    os.replace(out, holder / out.name)
    try:
        os.replace(new, out)
    except OSError:
        os.replace(holder / out.name, out)
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(holder, ignore_errors=True)
        raise
    shutil.rmtree(holder)
