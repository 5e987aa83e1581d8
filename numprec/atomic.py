"""Writing files atomically: into a temporary file in the same folder, then os.replace, so that
a reader never sees a half-written file (a summary, a metrics table, a checkpoint, a report)."""
from __future__ import annotations

import os
import tempfile


def atomic_write(path, write) -> str:
    """Call write(tmp_path) to fill a temporary file beside `path`, then move it into place."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    os.close(handle)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> str:
    """Write a text file atomically."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
    return atomic_write(path, write)
