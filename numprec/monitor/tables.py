"""The monitor's tidy frames, built once from the rows it kept per recorded step."""
from __future__ import annotations

import numpy as np
import pandas as pd

TABLE_COLUMNS = ["step", "layer", "tensor", "kind", "stat", "value"]
HISTOGRAM_COLUMNS = ["step", "layer", "tensor", "kind", "exponent", "count"]


def _empty(columns, dtypes) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, dtypes)})


def _key_columns(keys):
    """layer, tensor and kind of each key index, as object arrays to index with."""
    return tuple(np.array([key[i] for key in keys], dtype=object) for i in range(3))


def tidy_table(keys, stat_names, blocks, run_rows) -> pd.DataFrame:
    """step, layer, tensor, kind, stat, value from blocks (step, key indices, rows of
    stat_names values; NaN: undefined, left out) and run_rows (tuples of TABLE_COLUMNS)."""
    frames = []
    if blocks:
        values = np.vstack([rows for _, _, rows in blocks])
        index = np.concatenate([k for _, k, _ in blocks])
        steps = np.concatenate([np.full(k.size, step, dtype=np.int64) for step, k, _ in blocks])
        layers, tensors, kinds = _key_columns(keys)
        n_rows, width = values.shape
        flat = values.reshape(-1)
        keep = ~np.isnan(flat)
        row_of = np.repeat(np.arange(n_rows), width)[keep]
        stat_of = np.tile(np.arange(width), n_rows)[keep]
        frames.append(pd.DataFrame({
            "step": steps[row_of], "layer": layers[index[row_of]],
            "tensor": tensors[index[row_of]], "kind": kinds[index[row_of]],
            "stat": np.array(stat_names, dtype=object)[stat_of], "value": flat[keep]}))
    if run_rows:
        frames.append(pd.DataFrame(run_rows, columns=TABLE_COLUMNS))
    if not frames:
        return _empty(TABLE_COLUMNS, ("int64", object, object, object, object, "float64"))
    table = pd.concat(frames, ignore_index=True)
    table["step"] = table["step"].astype("int64")
    for column in ("layer", "tensor", "kind", "stat"):
        table[column] = table[column].astype(str)
    return table.sort_values(["step", "kind", "layer", "tensor"], kind="stable",
                             ignore_index=True)


def exponent_table(keys, hist_parts) -> pd.DataFrame:
    """step, layer, tensor, kind, exponent, count from hist_parts (step, key index per bin,
    exponents, counts)."""
    if not hist_parts:
        return _empty(HISTOGRAM_COLUMNS, ("int64", object, object, object, "int64", "int64"))
    index = np.concatenate([k for _, k, _, _ in hist_parts])
    layers, tensors, kinds = _key_columns(keys)
    frame = pd.DataFrame({
        "step": np.concatenate([np.full(k.size, s, dtype=np.int64) for s, k, _, _ in hist_parts]),
        "layer": layers[index], "tensor": tensors[index], "kind": kinds[index],
        "exponent": np.concatenate([e for _, _, e, _ in hist_parts]),
        "count": np.concatenate([c for _, _, _, c in hist_parts])})
    for column in ("layer", "tensor", "kind"):
        frame[column] = frame[column].astype(str)
    for column in ("step", "exponent", "count"):
        frame[column] = frame[column].astype("int64")
    return frame


__all__ = ["TABLE_COLUMNS", "HISTOGRAM_COLUMNS", "tidy_table", "exponent_table"]
