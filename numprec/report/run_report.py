"""`numprec report RUN... --out DIR`: the observation report of one or several runs.

DIR/report.html is self-contained (figures embedded as PNG data, no external file, script or
font: it opens offline in any browser); DIR/report.md links DIR/figures/*.png; every figure is
also there as SVG and PDF, and every plotted series is in DIR/data/*.csv. Every string taken from
a run (labels, layer names, configs, messages) is HTML-escaped. The folder is written beside DIR
and swapped into place whole.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pandas as pd

from .files import atomic_folder, cell, markdown_table
from .run_figures import FIGURES
from ..monitor.shadow import ranking
from .runs import load_runs
from .style import save_all

_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "color:#222;line-height:1.45}table{border-collapse:collapse;margin:0.8rem 0;"
        "font-size:0.9rem}td,th{border:1px solid #ccc;padding:0.25rem 0.5rem;text-align:left}"
        "th{background:#f3f3f3}figure{margin:1.2rem 0}img{max-width:100%}"
        "figcaption{font-size:0.9rem;color:#444}code{background:#f3f3f3;padding:0 0.2rem}")


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


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _clean(value):
    return None if isinstance(value, float) and value != value else value


def write_run_report(directories, out) -> Path:
    """Load the runs (ValueError naming a bad directory) and write the report folder."""
    runs = load_runs(directories)
    with atomic_folder(out) as work:
        (work / "figures").mkdir()
        (work / "data").mkdir()
        figures = []
        for stem, caption, draw in FIGURES:
            drawn = draw(runs)
            if drawn is None:
                continue
            fig, data = drawn
            save_all(fig, work / "figures" / stem)
            data.to_csv(work / "data" / f"{stem}.csv", index=False)
            figures.append((stem, caption))
        tables = {"runs": _run_table(runs), "failures": _failure_table(runs),
                  "events": _event_summary(runs), "shadow": _shadow_ranking(runs)}
        for name, frame in tables.items():
            frame.to_csv(work / "data" / f"{name}.csv", index=False)
        _write_markdown(work / "report.md", runs, figures, tables)
        _write_html(work / "report.html", runs, figures, tables)
    return Path(out) / "report.html"


def _intro(runs) -> str:
    names = ", ".join(f"{run.label} ({run.policy}, {run.status})" for run in runs)
    return f"Runs compared: {names}."


def _write_markdown(path, runs, figures, tables) -> None:
    lines = ["# numprec observation report", "", _intro(runs), "", "## Runs", "",
             markdown_table(tables["runs"]), "", "## What failed where", "",
             markdown_table(tables["failures"]), ""]
    if not tables["events"].empty:
        lines += ["## Events by kind", "", markdown_table(tables["events"]), ""]
    lines += ["## Figures", ""]
    for stem, caption in figures:
        lines += [f"![{caption}](figures/{stem}.png)", "",
                  f"*{caption}* (vector: [PDF](figures/{stem}.pdf), [SVG](figures/{stem}.svg); "
                  f"data: [CSV](data/{stem}.csv))", ""]
    lines += ["## Shadow error", ""]
    if tables["shadow"].empty:
        lines += ["No run of this report has a float64 shadow (`numprec train --shadow "
                  "re-anchored|free`).", ""]
    else:
        lines += ["Where the error enters (largest mean relative error first):", "",
                  markdown_table(tables["shadow"]), ""]
    lines += ["## Configurations", ""]
    for run in runs:
        lines += [f"- {run.label}: `{json.dumps(run.manifest.get('config', {}), sort_keys=True)}`"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_html(path, runs, figures, tables) -> None:
    e = html.escape
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<title>numprec observation report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>numprec observation report</h1>", f"<p>{e(_intro(runs))}</p>",
             "<h2>Runs</h2>", _html_table(tables["runs"]),
             "<h2>What failed where</h2>", _html_table(tables["failures"])]
    if not tables["events"].empty:
        parts += ["<h2>Events by kind</h2>", _html_table(tables["events"])]
    parts.append("<h2>Figures</h2>")
    for stem, caption in figures:
        png = (path.parent / "figures" / f"{stem}.png").read_bytes()
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure id=\"{e(stem)}\"><img alt=\"{e(caption)}\" "
                     f"src=\"data:image/png;base64,{data}\"><figcaption>{e(caption)} "
                     f"(figures/{e(stem)}.pdf, .svg; data/{e(stem)}.csv)</figcaption></figure>")
    parts.append("<h2>Shadow error</h2>")
    if tables["shadow"].empty:
        parts.append("<p>No run of this report has a float64 shadow (<code>numprec train "
                     "--shadow re-anchored|free</code>).</p>")
    else:
        parts += ["<p>Where the error enters (largest mean relative error first):</p>",
                  _html_table(tables["shadow"])]
    parts += ["<h2>Configurations</h2>", "<ul>"]
    for run in runs:
        config = json.dumps({k: _clean(v) for k, v in run.manifest.get("config", {}).items()},
                            sort_keys=True)
        parts.append(f"<li>{e(run.label)}: <code>{e(config)}</code></li>")
    parts += ["</ul>", "</body></html>"]
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


__all__ = ["write_run_report"]
