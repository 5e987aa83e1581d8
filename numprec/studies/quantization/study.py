"""The quantization study: accuracy of the digits MLP and the small CNN against bit width (8 to 2
bits) after training (PTQ, calibrated) and trained quantized (QAT), integer codes per tensor and
per channel against MX and NVFP4 blocks; against sparsity (0-90%, and 2:4), alone and combined
with int8; and per-layer sensitivity.

    numprec study quantization --out reports/study_quantization [--quick | --full]
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

NAME = "quantization"
SETTINGS = {
    "quick": dict(models=("mlp",), steps=30, batch=32, calibration=64, finetune=10,
                  qat=(("int", 8, "channel"), ("int", 4, "channel"), ("mx", 4, "block")),
                  sparsity=(0.0, 0.5, "2:4")),
    "default": dict(models=("mlp", "cnn"), steps=400, batch=32, calibration=512, finetune=150,
                    qat=tuple(ex.SCHEMES), sparsity=(0.0, 0.25, 0.5, 0.7, 0.8, 0.9, "2:4")),
    "full": dict(models=("mlp", "cnn"), steps=1500, batch=64, calibration=1024, finetune=500,
                 qat=tuple(ex.SCHEMES), sparsity=(0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.7, 0.8,
                                                  0.85, 0.9, 0.95, "2:4")),
}


def _cells(settings):
    cells = []
    for model in settings["models"]:
        cells.append(["ptq", model])
        cells.append(["sensitivity", model])
        cells += [["qat", model, list(scheme)] for scheme in settings["qat"]]
        cells += [["sparsity", model, target] for target in settings["sparsity"]]
    return cells


def compute(settings: dict, out, seed: int, stream=None) -> dict:
    signature = repr((NAME, numprec.__version__, sorted((k, repr(v)) for k, v in
                                                          settings.items()), seed))
    steps, batch, calib = settings["steps"], settings["batch"], settings["calibration"]

    def run(cell):
        kind, model = cell[0], cell[1]
        if kind == "ptq":
            frame = ex.ptq_cell(model, steps, batch, seed, calib)
        elif kind == "qat":
            frame = ex.qat_cell(model, tuple(cell[2]), steps, batch, seed)
        elif kind == "sensitivity":
            frame = ex.sensitivity_cell(model, steps, batch, seed, calib)
        else:
            frame = ex.sparsity_cell(model, cell[2], steps, settings["finetune"], batch, seed,
                                     calib)
        if kind == "sparsity":
            return frame  # its rows name their table (sparsity, storage)
        return frame.assign(table="sensitivity" if kind == "sensitivity" else "results")

    parts = pd.concat(run_cells(_cells(settings), run, out, signature, f"{NAME}: cells",
                                stream), ignore_index=True)

    def table(name):
        return (parts[parts["table"] == name].dropna(axis=1, how="all").drop(columns="table")
                .reset_index(drop=True))

    results = table("results")
    results["bits"] = results["bits"].astype(int)
    results["observer"] = results["observer"].fillna("")
    return {"results": results, "sparsity": table("sparsity"),
            "sensitivity": table("sensitivity"), "summary": ex.summary(results),
            "storage": table("storage"),
            "test_images": len(ex.digits(seed)["test_y"])}


def _findings(tables) -> str:
    summary = tables["summary"]
    lines = []
    for model, part in summary.groupby("model", sort=False):
        rows = part.set_index("scheme")
        base = float(part["fp32"].iloc[0])
        said = [f"fp32 {base:.3f}"]
        for scheme in ("int8 per channel", "int4 per channel", "int4 per tensor",
                       "int2 per channel", "mxfp4", "nvfp4"):
            if scheme in rows.index:
                row = rows.loc[scheme]
                qat = "" if pd.isna(row["qat"]) else f", QAT {row['qat']:.3f}"
                best = (f" (best observer, {row['best_observer']}: {row['ptq_best']:.3f})"
                        if row["best_observer"] and row["ptq_best"] > row["ptq_minmax"] else "")
                said.append(f"{scheme}: PTQ {row['ptq_minmax']:.3f}{best}{qat}")
        lines.append(f"- {model.upper()}: " + "; ".join(said) + ".")
    sparsity = tables["sparsity"]
    for model, part in sparsity.groupby("model", sort=False):
        top = part[part["target"] != "2:4"]
        top = top[top["sparsity"] == top["sparsity"].max()]
        said = [f"{r.method}, {r.precision}: {r.accuracy:.3f}" for r in top.itertuples()]
        if len(top):
            lines.append(f"- {model.upper()} with {100 * top['sparsity'].iloc[0]:.0f}% of the "
                         "GEMM weights pruned: " + "; ".join(said) + ".")
        structured = part[part["target"] == "2:4"]
        if len(structured):
            lines.append(f"- {model.upper()} 2:4: " + "; ".join(
                f"{r.method}, {r.precision}: {r.accuracy:.3f}" for r in structured.itertuples())
                + ".")
    sens = tables["sensitivity"]
    for (model, scheme), part in sens.groupby(["model", "scheme"], sort=False):
        worst = part.loc[part["drop"].idxmax()]
        lines.append(f"- {model.upper()}, {scheme} one layer at a time: {worst['layer']} "
                     f"costs the most ({100 * worst['drop']:+.1f} points).")
    images = int(tables["test_images"])
    lines.append(f"- Accuracies are on the digits test split ({images} images): one image is "
                 f"{100 / images:.2f} points, so differences of a point or two between schemes "
                 "are within the noise of one seed.")
    return "\n".join(lines)


def write_report(tables, folder, settings, level, seed) -> Path:
    command = f"numprec study {NAME}" + level_flag(level)
    report = Report(folder, "Quantization: integer codes, MX and NVFP4 blocks, sparsity")
    report.text(f"""Made by `{command}` with numprec {numprec.__version__}, seed {seed}
({level} settings). Models: {', '.join(m.upper() for m in settings['models'])} on the 8x8
digits, trained with Adam (lr {ex.LR}) for {settings['steps']} steps of {settings['batch']}
images, the same initial weights and batches in every run. PTQ: the fp32 model run under a
quantized policy, GEMM operands fake-quantized (weights per output channel or per tensor,
symmetric; activations with a static step calibrated on {settings['calibration']} training
images by each observer; MX (E8M0 scales, floor rule, 32 elements along the reduction dimension)
and NVFP4 scale every block as they run); integer GEMMs sum the codes exactly in int32. QAT:
trained from the start with the same forward quantization (activations from each batch's
min-max), the straight-through estimator, fp32 backward and fp32 master weights. Sparsity: the
GEMM weights pruned by magnitude per layer (or 2:4 along the reduction dimension), in one shot
or gradually over {settings['finetune']} fine-tuning steps (cubic schedule, masks kept by the
optimizer), evaluated in fp32 and with int8 PTQ.""")
    report.heading("What the measurements show")
    report.text(_findings(tables))
    fig, data = figures.accuracy_vs_bits(tables["results"])
    report.figure(fig, "accuracy_vs_bits", "Test accuracy against bit width, PTQ and QAT, "
                  "integer per channel / per tensor, MX and NVFP4", data)
    fig, data = figures.accuracy_vs_sparsity(tables["sparsity"])
    report.figure(fig, "accuracy_vs_sparsity", "Test accuracy against sparsity, alone and "
                  "with int8", data)
    fig, data = figures.sensitivity(tables["sensitivity"])
    report.figure(fig, "sensitivity", "Accuracy drop with one layer quantized", data)
    report.heading("Summary")
    report.table(tables["summary"], "summary", digits=4)
    report.heading("Memory of the pruned weights")
    report.text("Bytes of all GEMM weights after one-shot pruning, per storage format: dense "
                "(packed at the format's width), CSR and COO (scipy.sparse, int32 indices) and "
                "the 2:4 compressed layout (kept values plus 2-bit positions; only where the "
                "weights are 2:4 sparse and rows hold a multiple of 8).")
    report.table(tables["storage"], "storage")
    report.heading("Calibration observers (PTQ)")
    ptq = tables["results"]
    observers = ptq[(ptq["method"] == "PTQ") & (ptq["observer"] != "")]
    wide = observers.pivot_table(index=["model", "scheme"], columns="observer",
                                 values="accuracy", sort=False).reset_index()
    report.table(wide, "observers", digits=4)
    report.heading("Data")
    report.data(tables["results"], "results")
    report.data(tables["sparsity"], "sparsity")
    report.data(tables["sensitivity"], "sensitivity")
    report.data(tables["storage"], "storage")
    report.text("`data/results.csv`: one row per model, method (fp32, PTQ, QAT), scheme and "
                "observer; `data/sparsity.csv`: one row per model, target sparsity, pruning "
                "method and precision, with the measured sparsity; `data/sensitivity.csv`: one "
                "row per model, scheme and layer.")
    return report.write()


def run_study(out="reports/study_quantization", *, quick: bool = False, full: bool = False,
              seed: int = 0, stream=None) -> Path:
    """Run the study (resuming finished cells of an interrupted run) and write the report
    folder atomically; returns the path of report.html."""
    return run_levels(out, SETTINGS, compute, write_report, quick=quick, full=full, seed=seed,
                      stream=stream)


def main(argv=None) -> int:
    return study_main(NAME, __doc__, "reports/study_quantization", run_study, argv)


if __name__ == "__main__":
    sys.exit(main())
