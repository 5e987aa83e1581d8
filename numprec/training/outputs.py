"""Run outputs written atomically (a temporary file in the same folder, then os.replace), so a
reader never sees a half-written summary, metrics table or checkpoint."""
from __future__ import annotations

import json

import numpy as np

from ..atomic import atomic_write as _atomic


def write_json(path: str, data: dict) -> str:
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
    return _atomic(path, write)


def write_metrics(path: str, rows: list) -> str:
    """A tidy table (step, name, value) as Parquet."""
    import pandas as pd
    frame = pd.DataFrame(rows, columns=["step", "name", "value"]).astype(
        {"step": "int64", "name": "string", "value": "float64"})
    return _atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def save_checkpoint(path: str, model, step: int) -> str:
    """Model parameters (and the step) as a compressed .npz."""
    arrays = {f"param/{name}": values for name, values in model.state_dict().items()}
    arrays["step"] = np.array(step)

    def write(tmp):
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return _atomic(path, write)


def load_checkpoint(path: str) -> tuple:
    """(state dict, step) from save_checkpoint's file."""
    with np.load(path) as archive:
        state = {key[len("param/"):]: archive[key] for key in archive.files
                 if key.startswith("param/")}
        return state, int(archive["step"])
