"""Figures of the loss-scaling study (report style). Each returns (figure, its data)."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from numprec.report.style import COLUMN_WIDTH, LINESTYLES, PALETTE, STYLE, plt


def _styles(settings):
    return {s: (PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)])
            for i, s in enumerate(settings)}


def underflow_by_depth(layers):
    """The weight gradient's zero fraction and the backward signal's underflow_frac per layer
    depth (medians over the recorded steps), one line per loss-scale setting."""
    settings = list(dict.fromkeys(layers["setting"]))
    styles = _styles(settings)
    medians = (layers.groupby(["setting", "depth"], sort=False)
               [["weight_zero_frac", "signal_underflow_frac"]].median().reset_index())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(2 * COLUMN_WIDTH, 2.6), sharex=True)
        for ax, column, label in ((axes[0], "weight_zero_frac", "weight gradient zero fraction"),
                                  (axes[1], "signal_underflow_frac",
                                   "backward signal underflow_frac")):
            for setting in settings:
                line = medians[medians["setting"] == setting]
                color, style = styles[setting]
                ax.plot(line["depth"], line[column], style, marker="o", ms=2.5, color=color,
                        label=setting)
            ax.set(ylabel=label, xlabel="layer depth (1 = next to the input)", ylim=(-0.05, 1.05))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[0].legend(title="loss scale", ncol=2)
        fig.suptitle("Gradients lost to fp16 underflow per layer, by loss scale (medians over "
                     "the recorded steps)")
        fig.tight_layout()
    return fig, medians


def loss_curves(runs, by: str = "setting", title: str = "Training loss by loss scale",
                legend: str = "loss scale"):
    """Training loss per step (running mean of 10 steps), one line per value of column `by`."""
    settings = list(dict.fromkeys(runs[by]))
    styles = _styles(settings)
    smooth = runs.assign(smoothed=runs.groupby(by, sort=False)["loss"]
                         .transform(lambda s: s.rolling(10, min_periods=1).mean()))
    many = len(settings) > 7  # then the legend goes below the axes, not over the curves
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * (1.5 if many else 1.3),
                                        3.4 if many else 2.6))
        for setting in settings:
            line = smooth[smooth[by] == setting]
            color, style = styles[setting]
            ax.plot(line["step"], line["smoothed"], style, color=color, label=setting)
        ax.set(xlabel="step", ylabel="training loss (running mean of 10)", title=title)
        if many:
            fig.legend(*ax.get_legend_handles_labels(), title=legend, loc="lower center",
                       ncol=3, frameon=False, bbox_to_anchor=(0.5, -0.01))
            fig.tight_layout(rect=(0, 0.24, 1, 1))
        else:
            ax.legend(title=legend, ncol=2)
            fig.tight_layout()
    columns = [by, "step", "loss", "smoothed"] + [c for c in ("loss_scale", "skipped")
                                                  if c in smooth]
    return fig, smooth[columns]


def dynamic_scale(runs):
    """The dynamic scaler's loss scale per step (log2), its skipped steps marked."""
    line = runs[runs["setting"] == "dynamic"]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 1.3, 2.4))
        ax.step(line["step"], np.log2(line["loss_scale"]), where="post", color=PALETTE[0],
                label="log2 loss scale")
        skipped = line[line["skipped"]]
        ax.plot(skipped["step"], np.log2(skipped["loss_scale"]), "x", color=PALETTE[1],
                label=f"skipped step ({len(skipped)})")
        ax.set(xlabel="step", ylabel="log2(loss scale)",
               title="Dynamic loss scale (GradScaler: start 2^16, halve on overflow)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
        fig.tight_layout()
    return fig, line[["step", "loss_scale", "skipped"]]
