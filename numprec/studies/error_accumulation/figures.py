"""Figures of the error-accumulation study (report style: column widths, Okabe-Ito colours, log
scales). Each function returns (figure, the data it draws)."""
from __future__ import annotations

import numpy as np

from numprec.report.style import LINESTYLES, PALETTE, STYLE, plt

ORDER_LABELS = {"sequential": "sequential", "pairwise": "pairwise",
                "blocked": "blocked (128, fp32 between blocks)", "kahan": "Kahan",
                "fp64": "exact, rounded once"}


def _order_style(orders):
    return {order: (PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)])
            for i, order in enumerate(orders)}


def error_vs_n(errors, op: str, data: str):
    """Small multiples, one row per accumulator format and one column per rounding mode: the
    median over the trials of the scaled error |computed - exact| / sum|terms| against n for
    every order, with gamma_n (where n*u < 1) and lambda*sqrt(n)*u."""
    frame = errors[(errors["op"] == op) & (errors["data"] == data)]
    formats = list(dict.fromkeys(frame["format"]))
    modes = list(dict.fromkeys(frame["mode"]))
    orders = list(dict.fromkeys(frame["order"]))
    styles = _order_style(orders)
    medians = (frame.groupby(["format", "mode", "order", "n"], sort=False)
               .agg(scaled_error=("scaled_error", "median"), low=("scaled_error", "min"),
                    high=("scaled_error", "max"), gamma_n=("gamma_n", "first"),
                    prob_bound=("prob_bound", "first"), u=("u", "first"))
               .reset_index())
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(formats), len(modes), squeeze=False, sharex=True,
                                 figsize=(3.3 * len(modes) + 0.6, 2.2 * len(formats) + 0.7))
        for r, fmt in enumerate(formats):
            for c, mode in enumerate(modes):
                ax = axes[r, c]
                cell = medians[(medians["format"] == fmt) & (medians["mode"] == mode)]
                for order in orders:
                    line = cell[cell["order"] == order]
                    color, style = styles[order]
                    shown = line["scaled_error"].clip(lower=1e-12)
                    ax.plot(line["n"], shown, style, color=color, label=ORDER_LABELS.get(order, order))
                    ax.fill_between(line["n"], line["low"].clip(lower=1e-12),
                                    line["high"].clip(lower=1e-12), color=color, alpha=0.12,
                                    lw=0)
                bounds = cell[cell["order"] == orders[0]]
                finite = bounds[np.isfinite(bounds["gamma_n"])]
                ax.plot(finite["n"], finite["gamma_n"], "-", color="0.2", lw=0.8,
                        label="gamma_n = nu/(1-nu)")
                ax.plot(bounds["n"], bounds["prob_bound"], ":", color="0.2", lw=1.0,
                        label="sqrt(n) u")
                ax.axhline(float(bounds["u"].iloc[0]), color="0.6", lw=0.6, ls="--")
                ax.set(xscale="log", yscale="log", ylim=(1e-10 if fmt == "fp32" else 1e-5, 3))
                ax.set_xscale("log", base=2)
                ax.set_title(f"{fmt} accumulator, {mode}")
                if c == 0:
                    ax.set_ylabel("|error| / sum |terms|")
                if r == len(formats) - 1:
                    ax.set_xlabel("n (terms per output)")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.suptitle(f"{op} of U[0,1) data: error against length (median and range of the "
                     f"trials; dashed grey: u)" if data == "uniform" else
                     f"{op} of N(0,1) data: error against length")
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig, medians


def harmonic(partials, stalls):
    """Partial sums of the harmonic series against n, one panel per format: every method
    (sr: the mean and the range of the runs) and the exact sum of the rounded terms."""
    formats = list(dict.fromkeys(partials["format"]))
    methods = list(dict.fromkeys(zip(partials["order"], partials["mode"])))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(formats), squeeze=False,
                                 figsize=(3.4 * len(formats), 2.8))
        data = []
        for ax, fmt in zip(axes[0], formats):
            frame = partials[partials["format"] == fmt]
            exact = frame.groupby("n", sort=True)["exact"].first()
            ax.plot(exact.index, exact.values, "-", color="0.6", lw=2.4, alpha=0.6,
                    label="exact (rounded terms)")
            for i, (order, mode) in enumerate(methods):
                line = (frame[(frame["order"] == order) & (frame["mode"] == mode)]
                        .groupby("n", sort=True)["partial_sum"].agg(["mean", "min", "max"]))
                color, style = PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)]
                label = f"{ORDER_LABELS.get(order, order)}, {mode}"
                ax.plot(line.index, line["mean"], style, color=color, label=label)
                if mode == "sr":
                    ax.fill_between(line.index, line["min"], line["max"], color=color,
                                    alpha=0.2, lw=0)
                data.append(line.reset_index().assign(format=fmt, order=order, mode=mode))
            stall = stalls[stalls["format"] == fmt].iloc[0]
            ax.axvline(stall["stalls_at_n"], color="0.3", lw=0.6, ls="--")
            ax.annotate(f"sequential rne stalls\nat n = {int(stall['stalls_at_n'])}, "
                        f"sum {stall['stalled_sum']:g}",
                        (stall["stalls_at_n"], stall["stalled_sum"]), xytext=(6, -28),
                        textcoords="offset points", fontsize=6.5)
            ax.set_xscale("log", base=2)
            ax.set(title=f"{fmt}", xlabel="n (terms 1/k, k = 1..n)", ylabel="partial sum")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
                   bbox_to_anchor=(0.5, -0.02))
        fig.suptitle("Harmonic series: the recursive sum stagnates, other orders do not")
        fig.tight_layout(rect=(0, 0.12, 1, 1))
    import pandas as pd
    return fig, pd.concat(data, ignore_index=True)
