"""Reading run directories for a report: the manifest, the summary, the metrics and, when the
run was monitored, its tensor and exponent tables. A bad directory (missing, not a run, corrupt
files) is a ValueError with one line that names it."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pandas as pd

from ..training.manifest import read_manifest


@dataclass
class Run:
    label: str
    path: str
    manifest: dict
    summary: dict
    metrics: pd.DataFrame
    tensors: pd.DataFrame | None
    exponents: pd.DataFrame | None
    shadow: pd.DataFrame | None = None
    switches: pd.DataFrame | None = None  # precision_switches.parquet (--adjust-precision)

    @property
    def policy(self) -> str:
        return str(self.manifest.get("config", {}).get("policy", "?"))

    @property
    def status(self) -> str:
        return str(self.summary.get("status", self.manifest.get("status", "?")))

    @property
    def first_nonfinite(self):
        return self.summary.get("first_nonfinite") or self.manifest.get("first_nonfinite")


def _parquet(path, columns) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise ValueError(f"{path!r} is corrupt ({type(error).__name__})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path!r} lacks the column(s) {', '.join(missing)}")
    return frame


def load_run(directory) -> Run:
    directory = os.fspath(directory)
    manifest = read_manifest(directory)
    summary_path = os.path.join(directory, "summary.json")
    summary = {}
    if os.path.isfile(summary_path):
        try:
            with open(summary_path, encoding="utf-8") as handle:
                summary = json.load(handle)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{summary_path!r} is corrupt ({type(error).__name__})") from None
    elif manifest.get("status") != "running":
        raise ValueError(f"{directory!r} is a run without summary.json")
    metrics_path = os.path.join(directory, "metrics.parquet")
    metrics = (_parquet(metrics_path, ("step", "name", "value")) if os.path.isfile(metrics_path)
               else pd.DataFrame({"step": [], "name": [], "value": []}))
    tensors = exponents = None
    tensors_path = os.path.join(directory, "tensors.parquet")
    if os.path.isfile(tensors_path):
        tensors = _parquet(tensors_path, ("step", "layer", "tensor", "kind", "stat", "value"))
    exponents_path = os.path.join(directory, "exponents.parquet")
    if os.path.isfile(exponents_path):
        exponents = _parquet(exponents_path, ("step", "layer", "tensor", "kind", "exponent",
                                              "count"))
    shadow = None
    shadow_path = os.path.join(directory, "shadow.parquet")
    if os.path.isfile(shadow_path):
        shadow = _parquet(shadow_path, ("step", "layer", "tensor", "kind", "op", "stat",
                                        "value"))
    switches = None
    switches_path = os.path.join(directory, "precision_switches.parquet")
    if os.path.isfile(switches_path):
        switches = _parquet(switches_path, ("step", "layer", "op_class", "pass", "from", "to",
                                            "reason"))
    label = os.path.basename(os.path.normpath(directory)) or directory
    return Run(label, directory, manifest, summary, metrics, tensors, exponents, shadow,
               switches)


def load_runs(directories) -> list:
    """Every run, in order; labels made unique (a/run and b/run become run and run (2))."""
    runs, seen = [], {}
    for directory in directories:
        run = load_run(directory)
        count = seen.get(run.label, 0) + 1
        seen[run.label] = count
        if count > 1:
            run.label = f"{run.label} ({count})"
        runs.append(run)
    if not runs:
        raise ValueError("report needs at least one run directory")
    return runs


__all__ = ["Run", "load_run", "load_runs"]
