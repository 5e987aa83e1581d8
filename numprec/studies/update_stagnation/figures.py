"""Figures of the update-stagnation study (report style). Each returns (figure, its data)."""
from __future__ import annotations

from numprec.report.style import COLUMN_WIDTH, LINESTYLES, PALETTE, STYLE, plt

from ..loss_scaling.figures import loss_curves


def stagnation_over_steps(by_step):
    """The stagnated fraction of all weights (size-weighted) at every recorded step, one line
    per configuration."""
    configs = list(dict.fromkeys(by_step["config"]))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 1.5, 3.4))
        for i, config in enumerate(configs):
            line = by_step[by_step["config"] == config]
            ax.plot(line["step"], line["stagnation_frac"], LINESTYLES[i % len(LINESTYLES)],
                    color=PALETTE[i % len(PALETTE)], label=config)
        ax.set(xlabel="step", ylabel="stagnated fraction of the weights",
               title="Updates that storage rounded away (w + delta == w)", ylim=(-0.02, 1.02))
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=3, frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.tight_layout(rect=(0, 0.2, 1, 1))
    return fig, by_step


def losses(runs):
    return loss_curves(runs, by="config", title="Training loss by weight storage and rounding",
                       legend="storage, update rounding")
