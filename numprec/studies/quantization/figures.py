"""Figures of the quantization study (report style). Each returns (figure, its data)."""
from __future__ import annotations

import numpy as np

from numprec.report.style import COLUMN_WIDTH, PALETTE, STYLE, plt

_LINES = {("PTQ", "int per channel"): (PALETTE[0], "-", "o"),
          ("PTQ", "int per tensor"): (PALETTE[0], "--", "s"),
          ("QAT", "int per channel"): (PALETTE[1], "-", "o"),
          ("QAT", "int per tensor"): (PALETTE[1], "--", "s"),
          ("PTQ", "MX blocks"): (PALETTE[2], "-", "^"),
          ("QAT", "MX blocks"): (PALETTE[3], "-", "^"),
          ("PTQ", "NVFP4 blocks"): (PALETTE[2], "none", "D"),
          ("QAT", "NVFP4 blocks"): (PALETTE[3], "none", "D")}


def _ptq_minmax(results):
    """PTQ with min-max calibration (block formats need none) and QAT rows."""
    keep = (results["method"] == "QAT") | ((results["method"] == "PTQ")
                                           & results["observer"].isin(["minmax", ""]))
    return results[keep]


def accuracy_vs_bits(results):
    """Test accuracy against the bits of each element, one panel per model: PTQ and QAT, integer
    codes per channel and per tensor, MX and NVFP4 blocks; fp32 as a dotted line."""
    models = list(dict.fromkeys(results["model"]))
    data = _ptq_minmax(results)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(models), figsize=(2 * COLUMN_WIDTH, 2.9), sharey=True,
                                 squeeze=False)
        for ax, model in zip(axes[0], models):
            part = data[data["model"] == model]
            base = results[(results["model"] == model) & (results["method"] == "fp32")]
            ax.axhline(float(base["accuracy"].iloc[0]), color="0.4", ls=":", lw=1,
                       label="fp32")
            for (method, fam), (color, style, marker) in _LINES.items():
                line = part[(part["method"] == method) & (part["family"] == fam)]
                if line.empty:
                    continue
                line = line.sort_values("bits")
                ax.plot(line["bits"], line["accuracy"], linestyle=style, marker=marker, ms=3.5,
                        color=color, label=f"{method}, {fam}")
            ax.set(title=f"digits {model.upper()}", xlabel="bits per element",
                   xticks=[2, 3, 4, 6, 8])
            ax.invert_xaxis()
        axes[0][0].set_ylabel("test accuracy")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.suptitle("Accuracy against bit width: after training (PTQ) and trained quantized "
                     "(QAT)")
        fig.tight_layout(rect=(0, 0.2, 1, 1))
    return fig, data


def accuracy_vs_sparsity(sparsity):
    """Test accuracy against the fraction of GEMM weights pruned, one panel per model: one-shot
    magnitude pruning and gradual pruning with fine-tuning, each in fp32 and with int8 PTQ; 2:4
    structured sparsity as separate markers at 50%."""
    models = list(dict.fromkeys(sparsity["model"]))
    styles = {("one-shot", "fp32"): (PALETTE[0], "-", "o"),
              ("one-shot", "int8"): (PALETTE[0], "--", "s"),
              ("gradual + fine-tune", "fp32"): (PALETTE[1], "-", "o"),
              ("gradual + fine-tune", "int8"): (PALETTE[1], "--", "s")}
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(models), figsize=(2 * COLUMN_WIDTH, 2.9), sharey=True,
                                 squeeze=False)
        for ax, model in zip(axes[0], models):
            part = sparsity[sparsity["model"] == model]
            for (method, precision), (color, style, marker) in styles.items():
                sel = part[(part["method"] == method) & (part["precision"] == precision)]
                line = sel[sel["target"] != "2:4"].sort_values("sparsity")
                ax.plot(100 * line["measured_sparsity"], line["accuracy"], linestyle=style,
                        marker=marker, ms=3, color=color, label=f"{method}, {precision}")
                structured = sel[sel["target"] == "2:4"]
                if len(structured):
                    ax.plot(100 * structured["measured_sparsity"], structured["accuracy"],
                            linestyle="none", marker="*", ms=8, color=color,
                            markeredgecolor="black" if precision == "int8" else color,
                            label=f"2:4, {method}, {precision}")
            ax.set(title=f"digits {model.upper()}", xlabel="GEMM weights pruned (%)")
        axes[0][0].set_ylabel("test accuracy")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.suptitle("Accuracy against sparsity, alone and combined with int8")
        fig.tight_layout(rect=(0, 0.27, 1, 1))
    return fig, sparsity


def sensitivity(table):
    """Accuracy lost when one layer alone is quantized (int4 and int2 per channel), one panel per
    model."""
    models = list(dict.fromkeys(table["model"]))
    schemes = list(dict.fromkeys(table["scheme"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(models), figsize=(2 * COLUMN_WIDTH, 2.5), sharey=True,
                                 squeeze=False)
        width = 0.8 / max(len(schemes), 1)
        for ax, model in zip(axes[0], models):
            part = table[table["model"] == model]
            layers = list(dict.fromkeys(part["layer"]))
            x = np.arange(len(layers))
            for i, scheme in enumerate(schemes):
                rows = part[part["scheme"] == scheme].set_index("layer").reindex(layers)
                ax.bar(x + (i - (len(schemes) - 1) / 2) * width, 100 * rows["drop"], width,
                       color=PALETTE[i % len(PALETTE)], label=scheme)
            ax.axhline(0, color="0.3", lw=0.6)
            ax.set(xticks=x, xticklabels=layers, title=f"digits {model.upper()}",
                   xlabel="the one layer quantized")
        axes[0][0].set_ylabel("accuracy drop (points)")
        axes[0][0].legend()
        fig.suptitle("Per-layer sensitivity: one layer quantized, the others in fp32")
        fig.tight_layout()
    return fig, table
