"""The figures of a run report. Each function draws one figure from loaded runs and returns
(figure, the plotted series as a tidy DataFrame) or None when no run has the data; the report
writes the figure as PNG, SVG and PDF and the series as CSV."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ..formats import get_format
from .style import COLUMN_WIDTH, LINESTYLES, PALETTE, STYLE, marker_for, plt

EVENTS = (("underflow_frac", "underflowed to zero"), ("overflow_frac", "overflowed"),
          ("subnormal_frac", "became subnormal"))
GRAD_KINDS = ("grad_scaled", "grad")
FRACTION_FLOOR = 1e-5  # event fractions below it (and zeros) are off the log axis
RANGE_FORMATS = ("fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2")


def _run_series(run, name):
    m = run.metrics
    return m[m["name"] == name].sort_values("step")


def loss_curves(runs):
    rows = []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
        for i, run in enumerate(runs):
            series = _run_series(run, "loss")
            if run.tensors is not None:  # the monitor also holds the loss of the failed step
                t = run.tensors
                extra = t[(t.kind == "run") & (t.stat == "loss") & ~t.step.isin(series.step)]
                series = pd.concat([series, extra.rename(columns={"stat": "name"})[
                    ["step", "name", "value"]]]).sort_values("step")
            color = PALETTE[i % len(PALETTE)]
            finite = series[np.isfinite(series.value)]
            ax.plot(finite.step, finite.value, color=color, label=run.label,
                    linestyle=LINESTYLES[i % len(LINESTYLES)], marker=marker_for(len(finite)),
                    markersize=3)
            bad = series[~np.isfinite(series.value)]
            if len(bad):
                top = finite.value.max() if len(finite) else 1.0
                ax.scatter(bad.step, np.full(len(bad), top), marker="x", color=color, s=30,
                           zorder=3, label=f"{run.label}: loss NaN/inf")
            for row in series.itertuples():
                rows.append((run.label, int(row.step), float(row.value)))
        ax.set_yscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("training loss (cross-entropy, nats)")
        ax.set_title("Training loss")
        ax.legend(frameon=False)
    return fig, pd.DataFrame(rows, columns=["run", "step", "loss"])


def loss_scale(runs):
    scaled = [run for run in runs if run.summary.get("loss_scaler")]
    if not scaled:
        return None
    rows = []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
        for i, run in enumerate(scaled):
            color = PALETTE[runs.index(run) % len(PALETTE)]
            scale = _run_series(run, "loss_scale")
            skipped = _run_series(run, "skipped")
            ax.step(scale.step, scale.value, where="post", color=color, label=run.label)
            hits = skipped[skipped.value > 0]
            if len(hits):
                at = scale.set_index("step").value.reindex(hits.step)
                ax.scatter(hits.step, at, marker="v", color=color, s=18, zorder=3,
                           label=f"{run.label}: skipped step ({len(hits)})")
            merged = scale.merge(skipped, on="step", suffixes=("_scale", "_skipped"))
            for row in merged.itertuples():
                rows.append((run.label, int(row.step), float(row.value_scale),
                             int(row.value_skipped)))
        ax.set_yscale("log", base=2)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss scale")
        ax.set_title("Dynamic loss scale and skipped steps")
        ax.legend(frameon=False)
    return fig, pd.DataFrame(rows, columns=["run", "step", "loss_scale", "skipped"])


def _layer_events(run):
    """Per step, layer and kind group: the largest event fraction among the layer's tensors."""
    t = run.tensors
    t = t[t.stat.isin([name for name, _ in EVENTS]) & t.kind.isin(
        ("activation", "weight", "grad", "grad_scaled", "state"))]
    if t.empty:
        return t
    group = t.kind.replace({"grad_scaled": "grad"})
    t = t.assign(group=group, where=np.where(t.layer == "", "(loss)", t.layer))
    return t.groupby(["step", "where", "group", "stat"], as_index=False)["value"].max()


def layer_events(runs):
    monitored = [run for run in runs if run.tensors is not None]
    if not monitored:
        return None
    frames = []
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(EVENTS), len(monitored), squeeze=False, sharex="col",
                                 figsize=(COLUMN_WIDTH * len(monitored), 1.6 * len(EVENTS) + 0.6))
        for col, run in enumerate(monitored):
            events = _layer_events(run)
            series = sorted(set(zip(events["where"], events["group"])))
            for row_i, (stat, meaning) in enumerate(EVENTS):
                ax = axes[row_i, col]
                chosen = events[events.stat == stat]
                for k, (where, group) in enumerate(series):
                    line = chosen[(chosen["where"] == where) & (chosen.group == group)]
                    if line.empty or not (line.value > 0).any():
                        continue
                    shown = line.value.where(line.value > 0)  # zeros have no place on log axes
                    cycle = k // len(PALETTE)  # past the palette: another line and marker
                    marker = marker_for(int((line.value > 0).sum())) and "os^D"[cycle % 4]
                    ax.plot(line.step, shown, color=PALETTE[k % len(PALETTE)],
                            linestyle=LINESTYLES[cycle % len(LINESTYLES)], marker=marker,
                            markersize=3, label=f"{where} {group}")
                ax.set_yscale("log")
                ax.set_ylim(FRACTION_FLOOR, 1.5)
                ax.set_ylabel(f"fraction {meaning}")
                if row_i == 0:
                    ax.set_title(f"{run.label}: events per element")
                if row_i == len(EVENTS) - 1:
                    ax.set_xlabel("optimizer step")
                    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                if not ax.get_legend_handles_labels()[0]:
                    ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center",
                            va="center", color="0.4")
            # one legend per run, under its panels (a series keeps its colour in every panel),
            # so that no legend covers the curves
            handles = {}
            for ax in axes[:, col]:
                for handle, label in zip(*ax.get_legend_handles_labels()):
                    handles.setdefault(label, handle)
            if handles:
                axes[-1, col].legend(list(handles.values()), list(handles), frameon=False,
                                     fontsize=6, ncol=2, loc="upper center",
                                     bbox_to_anchor=(0.5, -0.32))
            frames.append(events.assign(run=run.label))
        fig.tight_layout()
    data = pd.concat(frames, ignore_index=True)[["run", "step", "where", "group", "stat",
                                                 "value"]]
    return fig, data.rename(columns={"where": "layer", "group": "kind"})


def gradient_exponents(runs):
    """Exponent histograms of the parameters' gradients (the backward pass's, scaled when a
    loss scaler scales them), summed over the run's recorded steps, above a strip with each
    format's range (min subnormal to max; the tick is the min normal)."""
    monitored = [run for run in runs if run.exponents is not None
                 and run.exponents.kind.isin(GRAD_KINDS).any()]
    if not monitored:
        return None
    rows, hists = [], []
    for run in monitored:
        e = run.exponents
        kind = next(k for k in GRAD_KINDS if (e.kind == k).any())
        chosen = e[(e.kind == kind) & e.tensor.isin(("weight", "bias"))]
        hist = chosen.groupby("exponent")["count"].sum()
        hists.append((run, kind, hist, len(set(chosen.step))))
        rows += [(run.label, kind, int(x), int(c)) for x, c in hist.items()]
    spans = {name: (int(np.floor(np.log2(get_format(name).min_subnormal))),
                    int(np.floor(np.log2(get_format(name).max))),
                    int(np.log2(get_format(name).min_normal))) for name in RANGE_FORMATS}
    lows = [h.index.min() for _, _, h, _ in hists if len(h)]
    highs = [h.index.max() for _, _, h, _ in hists if len(h)]
    left = min(lows + [spans["fp16"][0]]) - 4
    right = max(highs + [spans["fp16"][1]]) + 4
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(COLUMN_WIDTH * 1.6, 2.2 * len(hists) + 0.4))
        grid = fig.add_gridspec(2 * len(hists), 1, height_ratios=[3, 1.3] * len(hists),
                                hspace=0.45)
        for i, (run, kind, hist, steps) in enumerate(hists):
            ax = fig.add_subplot(grid[2 * i])
            strip = fig.add_subplot(grid[2 * i + 1], sharex=ax)
            total = hist.sum()
            ax.bar(hist.index, hist.values / total, width=1.0, color=PALETTE[runs.index(run)
                                                                               % len(PALETTE)])
            ax.set_yscale("log")
            ax.set_ylabel("fraction of values")
            ax.set_title(f"{run.label}: parameter gradients ({kind}, {steps} recorded steps)")
            ax.tick_params(labelbottom=False)
            for k, name in enumerate(RANGE_FORMATS):
                low, high, normal = spans[name]
                strip.plot([max(low, left), min(high, right)], [k, k], color="0.3",
                           linewidth=2.5, solid_capstyle="butt")
                if left <= normal <= right:
                    strip.plot([normal, normal], [k - 0.35, k + 0.35], color="0.3",
                               linewidth=1)
            strip.set_yticks(range(len(RANGE_FORMATS)), RANGE_FORMATS)
            strip.set_ylim(-0.7, len(RANGE_FORMATS) - 0.3)
            strip.grid(False, axis="y")
            strip.set_xlim(left, right)
            strip.tick_params(labelbottom=i == len(hists) - 1)
        strip.set_xlabel("binary exponent floor(log2 |g|)")
    return fig, pd.DataFrame(rows, columns=["run", "kind", "exponent", "count"])


def shadow_error(runs):
    """Mean relative error against the float64 shadow per layer tensor (activations,
    gradients, weights, updates), the largest first."""
    shadowed = [run for run in runs if run.shadow is not None and len(run.shadow)]
    if not shadowed:
        return None
    frames = []
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(shadowed), squeeze=False,
                                 figsize=(COLUMN_WIDTH * 1.3 * len(shadowed), 3.2))
        for i, run in enumerate(shadowed):
            ax = axes[0, i]
            table = run.shadow
            finite = table[np.isfinite(table.value)]
            infinite = table[~np.isfinite(table.value)].groupby(
                ["layer", "tensor", "kind"]).step.nunique()
            mean = (finite.groupby(["layer", "tensor", "kind"], as_index=False)["value"].mean()
                    .sort_values("value", ascending=False).head(14))
            mean = mean[mean.value > 0]
            labels = []
            for r in mean.itertuples():
                bad = infinite.get((r.layer, r.tensor, r.kind), 0)
                labels.append(f"{(r.layer or '(root)')} {r.tensor} ({r.kind})"
                              + (f" [inf in {bad} step{'s' if bad > 1 else ''}]" if bad else ""))
            colors = [PALETTE[KIND_ORDER.index(k) % len(PALETTE)] for k in mean.kind]
            ax.barh(range(len(mean)), mean.value, color=colors)
            ax.set_yticks(range(len(mean)), labels)
            ax.invert_yaxis()
            ax.set_xscale("log")
            mode = run.manifest.get("config", {}).get("shadow", "?")
            ax.set_title(f"{run.label}: float64 shadow ({mode})")
            ax.set_xlabel("mean relative error ||x - x64|| / ||x64|| (finite steps)")
            if mean.empty:
                ax.text(0.5, 0.5, "every error is 0", transform=ax.transAxes, ha="center")
            frames.append(mean.assign(run=run.label, mode=mode))
        fig.tight_layout()
    data = pd.concat(frames, ignore_index=True).rename(columns={"value": "mean_rel_error"})
    return fig, data[["run", "mode", "layer", "tensor", "kind", "mean_rel_error"]]


KIND_ORDER = ("activation", "grad", "weight", "update")

def precision_switches(runs):
    """Timeline of dynamic precision adjustment: for every run that adjusted, one row per
    (layer, pass) that switched, its format drawn as a coloured band over the steps."""
    adjusted = [run for run in runs if run.switches is not None and len(run.switches)]
    if not adjusted:
        return None
    rows = []
    for run in adjusted:
        last = int(run.summary.get("steps") or run.switches["step"].max())
        for (layer, phase), group in run.switches.groupby(["layer", "pass"], sort=True):
            group = group.sort_values("step")
            start, fmt = 1, group["from"].iloc[0]
            for step, to in zip(group["step"], group["to"]):
                rows.append(dict(run=run.label, layer=layer, phase=phase, start=start,
                                 end=int(step), format=fmt))
                start, fmt = int(step), to
            rows.append(dict(run=run.label, layer=layer, phase=phase, start=start,
                             end=max(last, start), format=fmt))
    bands = pd.DataFrame(rows)
    formats = list(dict.fromkeys(bands["format"]))
    colors = {fmt: PALETTE[i % len(PALETTE)] for i, fmt in enumerate(formats)}
    lanes = list(dict.fromkeys(zip(bands["run"], bands["layer"], bands["phase"])))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 2, 0.45 * len(lanes) + 1.2))
        for y, lane in enumerate(lanes):
            lane_bands = bands[(bands["run"] == lane[0]) & (bands["layer"] == lane[1])
                               & (bands["phase"] == lane[2])]
            for band in lane_bands.itertuples():
                ax.barh(y, band.end - band.start, left=band.start, height=0.6,
                        color=colors[band.format], edgecolor="none")
        ax.set_yticks(range(len(lanes)))
        ax.set_yticklabels([f"{r}: {layer} {phase}" for r, layer, phase in lanes])
        ax.invert_yaxis()
        ax.set_xlabel("step")
        handles = [plt.Rectangle((0, 0), 1, 1, color=colors[f]) for f in formats]
        ax.legend(handles, formats, title="matmul format", loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), frameon=False)
        titles = []
        for run in adjusted:
            s = run.summary
            if s.get("mean_bits") is not None:
                titles.append(f"{run.label}: {s['mean_bits']:.1f} bits per stored value "
                              f"(start policy {s['mean_bits_start']:.1f}, fp32 "
                              f"{s['mean_bits_fp32']:.0f})")
        ax.set_title("Precision switches\n" + "\n".join(titles), fontsize=8)
        fig.tight_layout()
    return fig, bands


FIGURES = (("loss", "Training loss of each run", loss_curves),
           ("loss_scale", "Loss scale and skipped steps", loss_scale),
           ("layer_events", "Per-layer event fractions over steps", layer_events),
           ("gradient_exponents", "Exponent histograms of the parameter gradients against "
            "each format's range", gradient_exponents),
           ("shadow_error", "Where the error enters: mean relative error against the float64 "
            "shadow, per layer tensor", shadow_error),
           ("precision_switches", "Dynamic precision adjustment: each layer's matmul format "
            "over the steps, and the storage cost", precision_switches))

__all__ = ["FIGURES", "loss_curves", "loss_scale", "layer_events", "gradient_exponents",
           "shadow_error", "precision_switches"]
