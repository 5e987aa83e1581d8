"""The update-stagnation study: round-to-nearest-even against stochastic rounding of the weight
update, with the weights stored in bf16 or fp16, with and without fp32 master weights: the
stagnated fraction of the weights over the steps, and the loss curves.

    numprec study update-stagnation --out reports/study_update_stagnation [--quick | --full]
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

NAME = "update-stagnation"
CONFIGS = [("fp32", "rne", False)] + [(storage, mode, master) for storage in ("bf16", "fp16")
                                      for master in (False, True) for mode in ("rne", "sr")]
SETTINGS = {
    "quick": dict(steps=20, every=2, lr=0.01, batch=32),
    "default": dict(steps=600, every=5, lr=0.01, batch=32),
    "full": dict(steps=4000, every=5, lr=0.01, batch=32),
}


def compute(settings: dict, out, seed: int, stream=None) -> dict:
    signature = repr((NAME, numprec.__version__, sorted(settings.items()), seed))

    def run(cell):
        runs, params = ex.training_cell(tuple(cell), settings["steps"], settings["every"],
                                        settings["lr"], settings["batch"], seed)
        return pd.concat([runs.assign(table="runs"), params.assign(table="params")],
                         ignore_index=True)

    parts = pd.concat(run_cells([list(c) for c in CONFIGS], run, out, signature,
                                f"{NAME}: training", stream), ignore_index=True)
    runs = parts[parts["table"] == "runs"].dropna(axis=1, how="all").drop(columns="table")
    params = parts[parts["table"] == "params"].dropna(axis=1, how="all").drop(columns="table")
    runs = runs.astype({"step": int}).reset_index(drop=True)
    params = params.astype({"step": int, "size": int}).reset_index(drop=True)
    by_step = ex.stagnation_by_step(params)
    return {"runs": runs, "parameters": params, "stagnation": by_step,
            "summary": ex.summary(runs, by_step, tail=max(10, settings["steps"] // 10))}


def _findings(tables) -> str:
    summary = tables["summary"].set_index("config")
    ref = summary.loc["fp32"]
    lines = [f"- fp32: final loss {ref['final_loss']:.4f} (mean of the last steps), test "
             f"accuracy {ref['test_accuracy']:.3f}, {ref['mean_stagnation']:.2%} of the "
             "weights stagnate per step."]
    for storage in ("bf16", "fp16"):
        for master in (False, True):
            parts = []
            for mode in ("rne", "sr"):
                row = summary.loc[ex.label(storage, mode, master)]
                parts.append(f"{mode}: {row['mean_stagnation']:.2%} of the weights unchanged "
                             f"per step, final loss {row['final_loss']:.4f} "
                             f"({row['final_loss'] - ref['final_loss']:+.4f} against fp32), "
                             f"accuracy {row['test_accuracy']:.3f}")
            where = "fp32 master weights" if master else f"weights stored in {storage}"
            lines.append(f"- {storage} compute, {where}: " + "; ".join(parts) + ".")
    rne, sr = summary.loc["bf16 rne"], summary.loc["bf16 sr"]
    lines.append(f"- Stochastic rounding leaves almost as many weights unchanged per step as "
                 f"round-to-nearest ({sr['mean_stagnation']:.1%} against "
                 f"{rne['mean_stagnation']:.1%} in bf16): a small update still rounds back to "
                 "the old weight most of the time. What it changes is the expectation: the rare "
                 "steps that move a weight move it a whole ulp, so the update is right on "
                 f"average, and the loss ends {sr['final_loss'] - ref['final_loss']:+.4f} from "
                 f"fp32's instead of {rne['final_loss'] - ref['final_loss']:+.4f}.")
    return "\n".join(lines)


def write_report(tables, folder, settings, level, seed) -> Path:
    command = f"numprec study {NAME}" + level_flag(level)
    report = Report(folder, "Update stagnation: rounding the weight update in bf16 and fp16")
    report.text(f"""Made by `{command}` with numprec {numprec.__version__}, seed {seed}
({level} settings). The digits MLP (64 -> 256 -> 10, ReLU) trained with plain SGD (lr
{settings['lr']}, no momentum: the update w - lr * g is the only rounding that stores
anything), {settings['steps']} steps of {settings['batch']} images, the same initial weights and
batches in every run. Compute in bf16 or fp16 (matmuls accumulating in fp32), no loss scaling;
the weights stored in that format, or in fp32 master weights; the update rounded to
nearest-even (`rne`) or stochastically (`sr`). stagnation_frac (the monitor's, every
{settings['every']}th step) is the fraction of weights an update meant to change
(w + delta != w exactly) that storage left unchanged; the fraction shown weights each parameter
by its size.""")
    report.heading("What the measurements show")
    report.text(_findings(tables))
    fig, data = figures.stagnation_over_steps(tables["stagnation"])
    report.figure(fig, "stagnation_over_steps", "Stagnated fraction of the weights over the "
                  "steps", data)
    fig, data = figures.losses(tables["runs"])
    report.figure(fig, "loss_curves", "Training loss by weight storage and update rounding",
                  data)
    report.heading("Summary")
    report.table(tables["summary"], "summary", digits=4)
    report.heading("Data")
    report.data(tables["runs"], "runs")
    report.data(tables["parameters"], "parameters")
    report.text("`data/runs.csv`: the loss of every step of every run; `data/parameters.csv`: "
                "stagnation_frac of every parameter at every recorded step.")
    return report.write()


def run_study(out="reports/study_update_stagnation", *, quick: bool = False, full: bool = False,
              seed: int = 0, stream=None) -> Path:
    """Run the study (resuming finished cells of an interrupted run) and write the report
    folder atomically; returns the path of report.html."""
    return run_levels(out, SETTINGS, compute, write_report, quick=quick, full=full, seed=seed,
                      stream=stream)


def main(argv=None) -> int:
    return study_main(NAME, __doc__, "reports/study_update_stagnation", run_study, argv)


if __name__ == "__main__":
    sys.exit(main())
