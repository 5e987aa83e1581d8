"""`numprec report RUN... --out DIR`: the observation report of one or several runs.

DIR/report.html is self-contained (figures embedded as PNG data, no external file, script or
font: it opens offline in any browser); DIR/report.md links DIR/figures/*.png; every figure is
also there as SVG and PDF, and every plotted series is in DIR/data/*.csv. Every string taken from
a run (labels, layer names, configs, messages) is HTML-escaped. The folder is written beside DIR
and swapped into place whole.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..monitor.shadow import ranking
from .document import Report
from .files import atomic_folder
from .run_figures import FIGURES
from .runs import load_runs

def _run_table(runs) -> pd.DataFrame:
    rows = []
    for run in runs:
        s = run.summary
        rows.append({"run": run.label, "policy": run.policy, "status": run.status,
                     "steps": s.get("steps"), "final loss": s.get("final_loss"),
                     "test accuracy": s.get("test_accuracy"),
                     "skipped steps": s.get("skipped_steps"),
                     "loss scaler": s.get("loss_scaler") or "none",
                     "final loss scale": s.get("final_loss_scale"),
                     "precision switches": s.get("precision_switches"),
                     "bits per stored value": s.get("mean_bits"),
                     "under the start policy": s.get("mean_bits_start"),
                     "under fp32": s.get("mean_bits_fp32")})
    frame = pd.DataFrame(rows)
    adjusted = ["precision switches", "bits per stored value", "under the start policy",
                "under fp32"]
    if frame[adjusted].isna().all().all():  # no run adjusted its precision: no such columns
        frame = frame.drop(columns=adjusted)
    return frame


def _failure_table(runs) -> pd.DataFrame:
    rows = []
    for run in runs:
        first = run.first_nonfinite
        if first is None:
            rows.append({"run": run.label, "step": "", "pass": "", "layer": "", "op": "",
                         "tensor": "", "why": "no NaN or inf on a recorded step"
                         if run.tensors is not None else "not monitored"})
        else:
            rows.append({"run": run.label, "step": first["step"], "pass": first["pass"],
                         "layer": first["layer"] or "(outside the model)", "op": first["op"],
                         "tensor": first["tensor"], "why": first["reason"]})
    return pd.DataFrame(rows)


def _event_summary(runs) -> pd.DataFrame:
    """Per run and kind: the mean over recorded steps of the largest underflow, overflow and
    subnormal fraction of a tensor (the numbers behind the per-layer figure)."""
    rows = []
    for run in runs:
        t = run.tensors
        if t is None or t.empty:
            continue
        for kind, group in t[t.kind.isin(("activation", "weight", "grad", "grad_scaled",
                                          "state", "master"))].groupby("kind"):
            row = {"run": run.label, "kind": kind}
            for stat in ("underflow_frac", "overflow_frac", "subnormal_frac", "zero_frac"):
                chosen = group[group.stat == stat]
                row[f"mean worst {stat}"] = (float(chosen.groupby("step").value.max().mean())
                                             if len(chosen) else float("nan"))
            rows.append(row)
    return pd.DataFrame(rows)


def _shadow_ranking(runs) -> pd.DataFrame:
    """Per shadowed run, where the error enters: the ten (layer, tensor, kind, op) with the
    largest mean relative error against the float64 shadow."""
    frames = []
    for run in runs:
        if run.shadow is None or run.shadow.empty:
            continue
        top = ranking(run.shadow).head(10)
        frames.append(top.assign(run=run.label, mode=run.manifest.get("config", {}).get(
            "shadow", "?")))
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    return frame[["run", "mode", "layer", "tensor", "kind", "op", "mean_rel_error",
                  "max_rel_error", "steps"]]


def write_run_report(directories, out) -> Path:
    """Load the runs (ValueError naming a bad directory) and write the report folder."""
    runs = load_runs(directories)
    with atomic_folder(out) as work:
        report = Report(work, "numprec observation report")
        names = ", ".join(f"{run.label} ({run.policy}, {run.status})" for run in runs)
        report.text(f"Runs compared: {names}.")
        tables = {"runs": _run_table(runs), "failures": _failure_table(runs),
                  "events": _event_summary(runs), "shadow": _shadow_ranking(runs)}
        report.heading("Runs")
        report.table(tables["runs"], "runs")
        report.heading("What failed where")
        report.table(tables["failures"], "failures")
        if tables["events"].empty:
            report.data(tables["events"], "events")
        else:
            report.heading("Events by kind")
            report.table(tables["events"], "events")
        report.heading("Figures")
        for stem, caption, draw in FIGURES:
            drawn = draw(runs)
            if drawn is not None:
                fig, data = drawn
                report.figure(fig, stem, caption, data)
        report.heading("Shadow error")
        if tables["shadow"].empty:
            report.data(tables["shadow"], "shadow")
            report.text("No run of this report has a float64 shadow (`numprec train --shadow "
                        "re-anchored|free`).")
        else:
            report.text("Where the error enters (largest mean relative error first):")
            report.table(tables["shadow"], "shadow")
        report.heading("Configurations")
        report.text("\n".join(
            f"- {run.label}: `{json.dumps(_clean_config(run), sort_keys=True)}`"
            for run in runs))
        report.write()
    return Path(out) / "report.html"


def _clean_config(run) -> dict:
    """The run's config with NaN as null (JSON has no NaN)."""
    return {k: None if isinstance(v, float) and v != v else v
            for k, v in run.manifest.get("config", {}).items()}


__all__ = ["write_run_report"]
