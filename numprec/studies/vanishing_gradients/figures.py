"""Figures of the vanishing-gradients study (report style). Each returns (figure, its data)."""
from __future__ import annotations

import numpy as np

from matplotlib.ticker import MaxNLocator

from numprec.report.style import LINESTYLES, PALETTE, STYLE, plt

ROWS = (("norm", "weight gradient\nnorm", "log"),
        ("zero_frac", "weight gradient\nzero fraction", "linear"),
        ("signal_underflow_frac", "backward signal\nunderflow_frac", "linear"))


def gradients_by_depth(depths, step: int):
    """Rows: the weight gradient's norm (log scale; a zero norm is drawn as a cross on the
    axis), its zero fraction, and the underflow events of the backward signal, against layer
    depth (1 = next to the input); columns: activations; lines: policies."""
    activations = list(dict.fromkeys(depths["activation"]))
    policies = list(dict.fromkeys(depths["policy"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(ROWS), len(activations), squeeze=False, sharex=True,
                                 figsize=(3.4 * len(activations), 1.9 * len(ROWS) + 0.8))
        for c, activation in enumerate(activations):
            frame = depths[depths["activation"] == activation]
            floor = frame.loc[frame["norm"] > 0, "norm"].min() / 10
            for r, (column, label, scale) in enumerate(ROWS):
                ax = axes[r, c]
                for i, policy in enumerate(policies):
                    line = frame[frame["policy"] == policy].sort_values("depth")
                    color, style = PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)]
                    values = line[column].to_numpy(dtype=float)
                    if column == "norm":
                        shown = np.where(values > 0, values, np.nan)
                        dead = line["depth"][values <= 0]  # one row of crosses per policy
                        ax.plot(dead, np.full(len(dead), floor / 4.0 ** i), "x", color=color,
                                ms=4)
                    else:
                        shown = values
                    ax.plot(line["depth"], shown, style, color=color, marker="o", ms=2.5,
                            label=policy)
                ax.set_yscale(scale)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                if scale == "linear":
                    ax.set_ylim(-0.05, 1.05)
                if c == 0:
                    ax.set_ylabel(label)
                if r == 0:
                    ax.set_title(f"{activation} MLP, step {step}")
                if r == len(ROWS) - 1:
                    ax.set_xlabel("layer depth (1 = next to the input)")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(policies), frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.suptitle("Vanishing gradients under each policy (x on the norm axis: exactly zero)")
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig, depths
