"""Figures of the rounding study: one function per figure, in the report style
(numprec.report.style: the Agg backend, 150-dpi PNG) with labelled axes."""
from __future__ import annotations

import math

import numpy as np

import numprec
from numprec.report.style import MODE_COLORS, STYLE, format_colors, plt, save


def _overflow_word(fmt) -> str:
    if fmt.is_fixed or fmt.nan == "none":
        return "saturates"
    return "inf" if fmt.inf else "NaN"


def error_vs_magnitude(errors, path) -> None:
    """Small multiples: median / 99th percentile / max relative error per format."""
    names = list(dict.fromkeys(errors["format"]))
    with plt.rc_context(STYLE):
        ncols = 4
        nrows = math.ceil(len(names) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(10, 2.3 * nrows), squeeze=False)
        for ax, name in zip(axes.flat, names):
            fmt = numprec.get_format(name)
            data = errors[errors["format"] == name]
            smallest = fmt.resolution if fmt.is_fixed else fmt.min_subnormal
            lo, hi = smallest / 1e3, fmt.max * 1e3
            ax.axvspan(fmt.max, hi, color="#d62728", alpha=0.08, lw=0)
            ax.text(math.sqrt(fmt.max * hi), 0.3, _overflow_word(fmt), ha="center", fontsize=7,
                    color="#d62728")
            if not fmt.is_fixed:
                ax.axvspan(fmt.min_subnormal, fmt.min_normal, color="#1f77b4", alpha=0.08, lw=0)
                ax.axvspan(lo, fmt.min_subnormal, color="0.5", alpha=0.08, lw=0)
            ax.plot(data["magnitude"], data["max_rel_error"], ":", color="0.3", label="max")
            ax.plot(data["magnitude"], data["p99_rel_error"], "-", color="0.6", lw=0.8,
                    label="99th percentile")
            ax.plot(data["magnitude"], data["median_rel_error"], "-", color="#1f77b4",
                    label="median")
            if not fmt.is_fixed:  # fixed point has no relative bound: its error is absolute
                ax.axhline(fmt.u, ls="--", color="#2ca02c", lw=0.8, label="u = 2^-p")
            ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(fmt.u * 1e-3, 3),
                   title=f"{name}" + (" (fixed point)" if fmt.is_fixed
                                      else f"  (p = {fmt.precision})"))
        for ax in axes[:, 0]:
            ax.set_ylabel("relative error |fl(x) - x| / |x|")
        for ax in axes[-1, :]:
            ax.set_xlabel("scale 10^k of the data N(0,1) * 10^k")
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        handles += [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.15) for c in
                    ("#1f77b4", "0.5", "#d62728")]
        labels += ["subnormal range", "below min subnormal", "above max"]
        fig.legend(handles, labels, loc="lower center", ncol=7, frameon=False,
                   bbox_to_anchor=(0.5, -0.03))
        fig.suptitle("Relative rounding error (round to nearest even) against magnitude")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        save(fig, path)


def error_overview(errors, path) -> None:
    """Median relative error of every format on one axis: height is precision, width is range."""
    names = list(dict.fromkeys(errors["format"]))
    colors = format_colors(names)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for name in names:
            data = errors[errors["format"] == name]
            ax.plot(data["magnitude"], data["median_rel_error"], color=colors[name], label=name)
        ax.set(xscale="log", yscale="log", ylim=(1e-9, 3),
               xlabel="magnitude 10^k of the data N(0,1) * 10^k",
               ylabel="median relative error",
               title="Precision (height) and range (width) of each format")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        fig.tight_layout()
        save(fig, path)


def stagnation(traces, path) -> None:
    """Running sums of +1 under rne / rna / rto and stochastic rounding (mean and 90% band)."""
    names = list(dict.fromkeys(traces["format"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.7), squeeze=False)
        for ax, name in zip(axes.flat, names):
            data = traces[traces["format"] == name]
            step = data["step"].to_numpy()
            ax.plot(step, data["exact"], "--", color="black", lw=0.9, label="exact")
            ax.plot(step, data["rna"], color=MODE_COLORS["rna"], label="rna")
            ax.plot(step, data["rto"], "--", color=MODE_COLORS["rto"], label="rto")
            alike = [m for m in ("rtz", "rdn") if np.array_equal(data[m], data["rne"])]
            ax.plot(step, data["rne"], color=MODE_COLORS["rne"], lw=1.8, zorder=3,
                    label="rne" + (f" (= {', '.join(alike)})" if alike else ""))
            ax.fill_between(step, data["sr_p05"], data["sr_p95"], color=MODE_COLORS["sr"],
                            alpha=0.25, lw=0, label="sr 5-95%")
            ax.plot(step, data["sr_mean"], color=MODE_COLORS["sr"], label="sr mean")
            plateau = 2 ** numprec.get_format(name).precision
            ax.axhline(plateau, ls=":", color="0.4", lw=0.8)
            ax.annotate(f"2^p = {plateau}", (step[0], plateau), xytext=(2, 3),
                        textcoords="offset points", fontsize=7, color="0.3")
            ax.set(title=name, xlabel="number of +1 additions", ylabel="accumulated sum",
                   xlim=(0, step[-1]), ylim=(0, step[-1] * 1.05))
        axes.flat[0].legend(loc="upper left", frameon=False)
        fig.suptitle("Stagnation of acc = round(acc + 1): round-to-nearest stops at 2^p")
        fig.tight_layout()
        save(fig, path)


def bias_by_mode(bias, path) -> None:
    """Grouped bars: mean signed error in ulps per mode, for uniform data and for exact ties."""
    names = list(dict.fromkeys(bias["format"]))
    modes = list(dict.fromkeys(bias["mode"]))
    colors = format_colors(names)
    width = 0.8 / len(names)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(8, 2.8), sharey=True)
        for ax, data_name in zip(axes, ("uniform", "ties")):
            for i, name in enumerate(names):
                rows = bias[(bias["format"] == name) & (bias["data"] == data_name)]
                x = np.arange(len(modes)) + (i - (len(names) - 1) / 2) * width
                ax.bar(x, rows["mean_error_ulp"], width, yerr=2 * rows["std_error_of_mean"],
                       color=colors[name], label=name, error_kw={"lw": 0.6})
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xticks(np.arange(len(modes)), modes)
            ax.set(xlabel="rounding mode", ylim=(-0.6, 0.6),
                   title="random positive reals" if data_name == "uniform"
                   else "exact ties (midpoints)")
        axes[0].set_ylabel("mean signed error (ulps)")
        axes[1].legend(frameon=False, loc="lower right")
        fig.suptitle("Bias of each rounding mode (error bars: 2 standard errors)")
        fig.tight_layout()
        save(fig, path)


def sr_bits(table, path) -> None:
    """Bias of stochastic rounding with k random bits against the prediction -2^-(k+1) ulp."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.5, 3))
        k = table["rbits"].to_numpy()
        shown = k[k <= 20]
        ax.plot(shown, 2.0 ** -(shown + 1.0), "-", color="0.4", label="predicted 2^-(k+1)")
        rows = table[table["rbits"] <= 20]
        bias = -rows["mean_error_ulp"].to_numpy()
        noise = 2 * rows["std_error_of_mean"].to_numpy()
        ax.fill_between(shown, 1e-9, noise, color="0.5", alpha=0.2, lw=0,
                        label="noise floor (2 standard errors)")
        positive = bias > 0
        ax.errorbar(shown[positive], bias[positive], yerr=noise[positive], fmt="o", ms=3,
                    color=MODE_COLORS["sr"], label="measured -(mean error)")
        ax.set(yscale="log", ylim=(max(noise.min() / 10, 1e-7), 0.5), xlabel="random bits k",
               ylabel="downward bias (ulps)",
               title=f"Stochastic rounding with few random bits ({table['format'].iloc[0]})")
        ax.legend(frameon=False, fontsize=7)
        fig.tight_layout()
        save(fig, path)
