"""The loss-scaling study: static loss scales 1, 2^3, 2^7, 2^10, 2^15 and the dynamic scaler on a
task where fp16 without scaling really loses its gradients (a deep sigmoid MLP under
fp16-amp), against fp32: per-layer underflow, final loss and accuracy, and the dynamic scale's
trajectory with its skipped steps.

    numprec study loss-scaling --out reports/study_loss_scaling [--quick | --full]
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

NAME = "loss-scaling"
SETTINGS = {
    "quick": dict(depth=6, width=32, steps=20, every=5, lr=3e-3, batch=32, scales=ex.SCALES),
    "default": dict(depth=8, width=64, steps=400, every=10, lr=3e-3, batch=32,
                    scales=ex.SCALES),
    "full": dict(depth=8, width=64, steps=3000, every=10, lr=3e-3, batch=32, scales=ex.SCALES),
}


def compute(settings: dict, out, seed: int, stream=None) -> dict:
    signature = repr((NAME, numprec.__version__, sorted(settings.items()), seed))
    cells = [("fp32", "1")] + [("fp16-amp", scale) for scale in settings["scales"]]

    def run(cell):
        runs, layers = ex.training_cell(cell, settings["depth"], settings["width"],
                                        settings["steps"], settings["every"], settings["lr"],
                                        settings["batch"], seed)
        return pd.concat([runs.assign(table="runs"), layers.assign(table="layers")],
                         ignore_index=True)

    parts = pd.concat(run_cells(cells, run, out, signature, f"{NAME}: training", stream),
                      ignore_index=True)
    runs = parts[parts["table"] == "runs"].dropna(axis=1, how="all").drop(columns="table")
    layers = parts[parts["table"] == "layers"].dropna(axis=1, how="all").drop(columns="table")
    runs = runs.astype({"step": int, "skipped": bool})
    layers = layers.astype({"step": int, "depth": int})
    return {"runs": runs.reset_index(drop=True), "layers": layers.reset_index(drop=True),
            "summary": ex.summary(runs, layers, tail=max(10, settings["steps"] // 10))}


def _findings(tables, settings) -> str:
    summary = tables["summary"].set_index("setting")
    runs = tables["runs"]
    ref = summary.loc["fp32"]
    lines = [f"- fp32 reference: loss {ref['final_loss']:.3f} (mean of the last steps), test "
             f"accuracy {ref['test_accuracy']:.3f}; no layer's gradient is ever entirely "
             "zero." if ref["dead_layers_max"] == 0 else
             f"- fp32 reference: loss {ref['final_loss']:.3f}, test accuracy "
             f"{ref['test_accuracy']:.3f}."]
    lines[0] += (f" It leaves the initial loss plateau at step {int(ref['plateau_exit_step'])}."
                 if ref["plateau_exit_step"] >= 0 else " It never leaves the initial plateau.")
    for setting in settings["scales"]:
        row = summary.loc[setting]
        text = (f"- scale {setting}: loss {row['final_loss']:.3f}, accuracy "
                f"{row['test_accuracy']:.3f}; layers with an all-zero weight gradient: median "
                f"{row['dead_layers_median']:g}, at most {int(row['dead_layers_max'])}; worst "
                f"signal underflow {row['worst_signal_underflow']:.3g}")
        text += (f"; leaves the initial plateau at step {int(row['plateau_exit_step'])}"
                 if row["plateau_exit_step"] >= 0 else "; never leaves the initial plateau")
        if row["skipped_steps"]:
            text += f"; {int(row['skipped_steps'])} steps skipped for inf/NaN gradients"
        lines.append(text + ".")
    dynamic = runs[runs["setting"] == "dynamic"]
    if len(dynamic):
        skipped = dynamic[dynamic["skipped"]]
        first = dynamic["loss_scale"].iloc[0]
        lines.append(f"- The dynamic scaler started at {first:g} and ended at "
                     f"{dynamic['loss_scale'].iloc[-1]:g} after {int(len(skipped))} skipped "
                     "steps" + (f" (at steps {', '.join(map(str, skipped['step'].head(8)))})"
                                if len(skipped) else "") + ".")
    unscaled, best = summary.loc["1"], summary.drop(index=["fp32"])
    fixed = [s for s in settings["scales"] if s != "1" and summary.loc[s, "dead_layers_max"] == 0]
    lines.append(f"- Without scaling, fp16-amp ends at loss {unscaled['final_loss']:.3f} "
                 f"against fp32's {ref['final_loss']:.3f}; the scales that leave no layer "
                 f"without a gradient: {', '.join(fixed) if fixed else 'none'}; the lowest "
                 f"final loss under fp16-amp: scale {best['final_loss'].idxmin()} "
                 f"({best['final_loss'].min():.3f}).")
    return "\n".join(lines)


def write_report(tables, folder, settings, level, seed) -> Path:
    command = f"numprec study {NAME}" + level_flag(level)
    report = Report(folder, "Loss scaling: what each scale saves, and what it costs")
    report.text(f"""Made by `{command}` with numprec {numprec.__version__}, seed {seed}
({level} settings). The task: a {settings['depth']}-layer sigmoid MLP (width
{settings['width']}) on the digits, Adam (lr {settings['lr']}), {settings['steps']} steps of
{settings['batch']} images, the same initial weights and batches in every run. It is chosen
because its gradients really are below fp16's range: the sigmoid shrinks the backward signal
about 7x per layer (see the vanishing-gradients study), so the first layers' weight gradients
fall under fp16's smallest subnormal 2^-24 while fp32 keeps them. Runs: fp32, and fp16-amp
(fp16 GEMMs accumulating in fp32, fp32 master weights and optimizer state) with static scales
1, 2^3, 2^7, 2^10, 2^15 (a step whose gradients hold inf or NaN is skipped) and PyTorch's dynamic
GradScaler. A monitor records every {settings['every']}th step: the weight gradient's zero
fraction and the underflow_frac of the backward signal (the gradients of each layer's linear and
sigmoid outputs: elements the fp16 roundings flushed from nonzero to zero, counted by the
kernels).""")
    report.heading("What the measurements show")
    report.text(_findings(tables, settings))
    for draw, stem, caption in (
            (figures.underflow_by_depth, "underflow_by_depth",
             "Per-layer gradient loss to underflow, by loss scale"),
            (figures.loss_curves, "loss_curves", "Training loss by loss scale"),
            (figures.dynamic_scale, "dynamic_scale",
             "The dynamic loss scale and its skipped steps")):
        source = tables["layers"] if stem == "underflow_by_depth" else tables["runs"]
        fig, data = draw(source)
        report.figure(fig, stem, caption, data)
    report.heading("Summary")
    report.table(tables["summary"], "summary", digits=4)
    report.heading("Data")
    report.data(tables["runs"], "runs")
    report.data(tables["layers"], "layers")
    report.text("`data/runs.csv`: every step of every run (loss, loss scale, skipped); "
                "`data/layers.csv`: every recorded step and layer (weight gradient zero "
                "fraction, signal underflow and overflow).")
    return report.write()


def run_study(out="reports/study_loss_scaling", *, quick: bool = False, full: bool = False,
              seed: int = 0, stream=None) -> Path:
    """Run the study (resuming finished cells of an interrupted run) and write the report
    folder atomically; returns the path of report.html."""
    return run_levels(out, SETTINGS, compute, write_report, quick=quick, full=full, seed=seed,
                      stream=stream)


def main(argv=None) -> int:
    return study_main(NAME, __doc__, "reports/study_loss_scaling", run_study, argv)


if __name__ == "__main__":
    sys.exit(main())
