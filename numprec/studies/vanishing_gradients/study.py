"""The vanishing-gradients study: per-layer gradient norms and underflow in a deep sigmoid or tanh
MLP under fp32, fp16, bf16 and fp8 (with and without per-tensor scaling).

    numprec study vanishing-gradients --out reports/study_vanishing_gradients [--quick | --full]
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import numprec

from ...report.document import Report
from ..cells import run_cells
from ..runner import command as level_flag
from ..runner import run_levels, study_main
from . import experiments as ex
from . import figures

NAME = "vanishing-gradients"
POLICIES = ("fp32", "fp16", "bf16", "fp8-hybrid", "fp8-unscaled")
SETTINGS = {
    "quick": dict(depth=8, width=32, steps=3, lr=0.1, batch=32,
                  activations=("sigmoid", "tanh"), policies=POLICIES),
    "default": dict(depth=12, width=64, steps=20, lr=0.1, batch=32,
                    activations=("sigmoid", "tanh"), policies=POLICIES),
    "full": dict(depth=20, width=128, steps=100, lr=0.1, batch=64,
                 activations=("sigmoid", "tanh"), policies=POLICIES),
}


def compute(settings: dict, out, seed: int, stream=None) -> dict:
    signature = repr((NAME, numprec.__version__, sorted(settings.items()), seed))
    cells = [(activation, policy) for activation in settings["activations"]
             for policy in settings["policies"]]
    parts = run_cells(cells, lambda cell: ex.gradient_cell(
        cell, settings["depth"], settings["width"], settings["steps"], settings["lr"],
        settings["batch"], seed), out, signature, f"{NAME}: training", stream)
    gradients = pd.concat(parts, ignore_index=True)
    last = settings["steps"] - 1
    first_step, last_step = ex.by_depth(gradients, 0), ex.by_depth(gradients, last)
    summary = pd.concat([ex.decay_rates(first_step).assign(step=0),
                         ex.decay_rates(last_step).assign(step=last)], ignore_index=True)
    return {"gradients": gradients, "first_step": first_step, "last_step": last_step,
            "summary": summary}


def _row(summary, activation, policy, step):
    rows = summary[(summary["activation"] == activation) & (summary["policy"] == policy)
                   & (summary["step"] == step)]
    return rows.iloc[0] if len(rows) else None


def _findings(tables, settings) -> str:
    summary = tables["summary"]
    last = settings["steps"] - 1
    depth = settings["depth"]
    lines = []
    for activation in settings["activations"]:
        ref = _row(summary, activation, "fp32", 0)
        lines.append(f"- {activation}, fp32 at step 0: the weight gradient's norm grows by "
                     f"{ref['growth_per_layer']:.3g}x per layer from the input to the output "
                     f"(layer 1: {ref['first_layer_norm']:.3g}, layer {depth}: "
                     f"{ref['last_layer_norm']:.3g}): the gradients vanish in exact "
                     "arithmetic already, before any format touches them.")
        for policy in settings["policies"]:
            if policy == "fp32":
                continue
            start, end = _row(summary, activation, policy, 0), _row(summary, activation,
                                                                     policy, last)
            if start["layers_all_zero"] == 0 and end["layers_all_zero"] == 0:
                lines.append(f"  - {policy}: no layer's gradient is zero at step 0 or step "
                             f"{last}; the worst signal underflow is "
                             f"{max(start['worst_signal_underflow'], end['worst_signal_underflow']):.3g}.")
                continue
            dead = int(start["layers_all_zero"])
            which = (f"layers 1 to {dead}" if start["shallowest_live_layer"] == dead + 1
                     else f"{dead} layers")
            lines.append(
                f"  - {policy}: at step 0 the weight gradients of {which} are exactly zero; "
                f"at step {last}, of {int(end['layers_all_zero'])} layers. The backward signal is flushed by underflow "
                f"from layer {int(start['deepest_signal_underflow'])} down (up to "
                f"{start['worst_signal_underflow']:.0%} of a tensor's elements at once); the "
                "layers below receive zeros, with no underflow of their own.")
    for activation in settings["activations"]:
        hybrid = [_row(summary, activation, "fp8-hybrid", step) for step in (0, last)]
        raw = [_row(summary, activation, "fp8-unscaled", step) for step in (0, last)]
        if any(row is None for row in hybrid + raw):
            continue
        if (hybrid[0]["layers_all_zero"] == raw[0]["layers_all_zero"] > 0
                and hybrid[1]["layers_all_zero"] < raw[1]["layers_all_zero"]):
            lines.append(f"- {activation}: fp8-hybrid's first step loses as many layers as the "
                         "unscaled fp8: its delayed scaling has no amax history yet (the median "
                         "scale of the incoming gradients at step 0 is "
                         f"{hybrid[0]['median_grad_scale']:g}, at step {last} "
                         f"{hybrid[1]['median_grad_scale']:.3g}); by step {last} "
                         f"{int(hybrid[1]['layers_all_zero'])} layers are left without a "
                         f"gradient, against {int(raw[1]['layers_all_zero'])} unscaled.")
    lines.append("- Layer 1 has zero gradient elements under every policy, fp32 included: pixels "
                 "that are 0 in every image of a batch give zero weight gradients.")
    return "\n".join(lines)


def write_report(tables: dict, folder: Path, settings: dict, level: str, seed: int) -> Path:
    command = f"numprec study {NAME}" + level_flag(level)
    last = settings["steps"] - 1
    report = Report(folder, "Vanishing gradients in deep sigmoid and tanh MLPs, by precision")
    report.text(f"""Made by `{command}` with numprec {numprec.__version__}, seed {seed}
({level} settings). A {settings['depth']}-layer MLP (64 -> {settings['width']} -> ... -> 10,
PyTorch's default initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the activation between
the layers) is trained for {settings['steps']} SGD steps (lr {settings['lr']}, batches of
{settings['batch']} digits, the same initial weights and batches under every policy) with a
monitor on every gradient. Policies: `fp32`; `fp16` (every op and all storage in fp16, matmuls
accumulating in fp32, no loss scaling); `bf16` (the same in bf16); `fp8-hybrid` (E4M3 forward
and E5M2 backward GEMM operands with delayed per-tensor scaling, fp32 elsewhere); and
`fp8-unscaled` (the same formats without the scaling). `zero_frac` is the fraction of a weight
gradient's elements that are exactly zero; `underflow_frac` of the backward signal (the
gradients of a layer's linear and activation outputs) counts elements the backward pass's own
roundings flushed from nonzero to zero, as the kernels counted them.""")
    report.heading("What the measurements show")
    report.text(_findings(tables, settings))
    for step, key in ((0, "first_step"), (last, "last_step")):
        fig, data = figures.gradients_by_depth(tables[key], step)
        report.figure(fig, f"gradients_by_depth_step{step}",
                      f"Per-layer weight gradient norm, zero fraction and signal underflow, "
                      f"step {step}", data)
    report.heading("Summary per policy")
    report.table(tables["summary"], "summary",
                 ["activation", "policy", "step", "growth_per_layer", "first_layer_norm",
                  "last_layer_norm", "layers_all_zero", "deepest_signal_underflow",
                  "worst_signal_underflow", "loss"],
                 ["activation", "policy", "step", "norm growth per layer", "layer 1 norm",
                  f"layer {settings['depth']} norm", "layers with zero gradient",
                  "deepest layer with signal underflow > 1%", "worst signal underflow",
                  "loss"], digits=3)
    report.heading("Data")
    report.data(tables["gradients"], "gradients")
    report.text("`data/gradients.csv` holds every step, policy and layer (norm, zero_frac, "
                "underflow_frac, signal_underflow_frac, exponent range, loss).")
    return report.write()


def run_study(out="reports/study_vanishing_gradients", *, quick: bool = False, full: bool = False,
              seed: int = 0, stream=None) -> Path:
    """Run the study (resuming finished cells of an interrupted run) and write the report
    folder atomically; returns the path of report.html."""
    return run_levels(out, SETTINGS, compute, write_report, quick=quick, full=full, seed=seed,
                      stream=stream)


def main(argv=None) -> int:
    return study_main(NAME, __doc__, "reports/study_vanishing_gradients", run_study, argv)


if __name__ == "__main__":
    sys.exit(main())
