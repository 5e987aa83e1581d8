"""The error-accumulation study: how the error of sum, dot and matmul grows with their length in
each accumulator format, order and rounding mode, against the deterministic bound gamma_n and
the probabilistic lambda*sqrt(n)*u; and how a recursive sum stagnates (the harmonic series) and
which orders remove it.

    numprec study error-accumulation --out reports/study_error_accumulation [--quick | --full]
"""
from __future__ import annotations

import math
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

NAME = "error-accumulation"
SETTINGS = {
    "quick": dict(ops=("sum", "dot", "matmul"), data=("uniform",), formats=("fp16", "bf16"),
                  orders=("sequential", "pairwise", "kahan", "fp64"), modes=("rne", "sr"),
                  log2_n=tuple(range(4, 11, 2)), trials=2, side=2, harmonic_n=2 ** 10,
                  harmonic_runs=3, harmonic_formats=("fp16", "bf16")),
    "default": dict(ops=("sum", "dot", "matmul"), data=("uniform",),
                    formats=("fp16", "bf16", "fp32"),
                    orders=("sequential", "pairwise", "blocked", "kahan", "fp64"),
                    modes=("rne", "sr"), log2_n=tuple(range(4, 21)), trials=3, side=2,
                    harmonic_n=2 ** 20, harmonic_runs=8, harmonic_formats=("fp16", "bf16")),
    "full": dict(ops=("sum", "dot", "matmul"), data=("uniform", "normal"),
                 formats=("fp16", "bf16", "fp32"),
                 orders=("sequential", "pairwise", "blocked", "kahan", "fp64"),
                 modes=("rne", "rtz", "sr"), log2_n=tuple(range(4, 23)), trials=20, side=4,
                 harmonic_n=2 ** 22, harmonic_runs=64,
                 harmonic_formats=("fp16", "bf16", "fp32")),
}


def _in_settings_order(errors, settings):
    """Rows sorted by op, data, format, order and mode as the settings list them (the figures'
    panel and legend order), then n and trial."""
    keys = {"op": "ops", "data": "data", "format": "formats", "order": "orders",
            "mode": "modes"}
    ranks = {column: errors[column].map({v: i for i, v in enumerate(settings[key])})
             for column, key in keys.items()}
    order = pd.DataFrame(ranks).assign(n=errors["n"], trial=errors["trial"])
    return errors.loc[order.sort_values(list(order.columns)).index].reset_index(drop=True)


def compute(settings: dict, out, seed: int, stream=None) -> dict:
    signature = repr((NAME, numprec.__version__, sorted(settings.items()), seed))
    cells = [(op, kind, 2 ** k, trial) for op in settings["ops"] for kind in settings["data"]
             for k in sorted(settings["log2_n"], reverse=True)  # the long ones first
             for trial in range(seed, seed + settings["trials"])]
    parts = run_cells(cells, lambda cell: ex.accumulation_cell(
        cell, settings["formats"], settings["orders"], settings["modes"], settings["side"]),
        out, signature, "error-accumulation: sweep", stream)
    errors = pd.concat(parts, ignore_index=True)
    errors = _in_settings_order(errors, settings)
    harmonic_cells = [(fmt,) for fmt in settings["harmonic_formats"]]
    partials = pd.concat(run_cells(harmonic_cells, lambda cell: ex.harmonic_cell(
        cell, settings["harmonic_n"], settings["harmonic_runs"]), out, signature,
        "error-accumulation: harmonic series", stream), ignore_index=True)
    stalls = pd.DataFrame([ex.stagnation_point(fmt, settings["harmonic_n"])
                           for fmt in settings["harmonic_formats"]])
    return {"errors": errors, "growth": ex.growth_rates(errors),
            "bounds": ex.bound_checks(errors), "harmonic_partials": partials,
            "harmonic_stalls": stalls, "harmonic_summary": ex.harmonic_summary(partials)}


def _pick(frame, **where):
    for column, value in where.items():
        frame = frame[frame[column] == value]
    return frame


def _median_error(errors, **where):
    """The median scaled error over the trials, per n."""
    return _pick(errors, **where).groupby("n")["scaled_error"].median()


def _first_n_above(series, level=0.1):
    above = series[series > level]
    return int(above.index.min()) if len(above) else None


def _power(n) -> str:
    return f"2^{int(round(math.log2(n)))}"


def _op_findings(tables, op, data, settings) -> list:
    errors, growth = tables["errors"], tables["growth"]
    lines = []
    for fmt in settings["formats"]:
        floor = _median_error(errors, op=op, data=data, format=fmt, order="fp64", mode="rne")
        n_max = int(floor.index.max())
        seq = _median_error(errors, op=op, data=data, format=fmt, order="sequential",
                            mode="rne")
        rate = _pick(growth, op=op, data=data, format=fmt, order="sequential", mode="rne")
        exponent = float(rate["growth_exponent"].iloc[0]) if len(rate) else math.nan
        fails = _first_n_above(seq)
        text = (f"- {op}, {fmt}: the sequential (recursive) error grows like n^{exponent:.2f}"
                if math.isfinite(exponent) else f"- {op}, {fmt}: sequential")
        if fails is not None:
            text += (f" and passes 10% at n = {_power(fails)}: the sum stops growing once each "
                     f"term is below half its ulp (error {seq.iloc[-1]:.3g} at "
                     f"{_power(n_max)})")
        else:
            text += f", reaching {seq.iloc[-1]:.3g} at {_power(n_max)}"
        if "sr" in settings["modes"]:
            sr = _median_error(errors, op=op, data=data, format=fmt, order="sequential",
                               mode="sr")
            text += f"; sequential with sr: {sr.iloc[-1]:.3g}"
        at_floor, failed = [], []
        for order in settings["orders"]:
            if order in ("sequential", "fp64"):
                continue
            series = _median_error(errors, op=op, data=data, format=fmt, order=order,
                                   mode="rne")
            start = _first_n_above(series)
            if start is not None:
                failed.append(f"{order} from n = {_power(start)} (error {series.iloc[-1]:.3g}"
                              f" at {_power(n_max)})")
            elif series.iloc[-1] <= 2 * floor.iloc[-1]:
                at_floor.append(order)
        if at_floor:
            verb = "stays" if len(at_floor) == 1 else "stay"
            text += (f". At {_power(n_max)}, {', '.join(at_floor)} {verb} within twice the "
                     f"error of rounding the exact result once ({floor.iloc[-1]:.3g})")
        if failed:
            text += f"; **failing: {'; '.join(failed)}**"
        lines.append(text + ".")
    return lines


def _findings(tables, settings) -> str:
    bounds = tables["bounds"]
    data = settings["data"][0]
    lines = ["Fitted exponents a of error ~ n^a (medians over the trials, n >= 64, while the error "
             "is below 0.5): the worst-case analysis allows n, the probabilistic model of "
             "independent rounding errors predicts sqrt(n), n^0.5. An exponent near 0 means the "
             "error sits at the floor set by rounding the result itself.", ""]
    for op in settings["ops"]:
        lines += _op_findings(tables, op, data, settings)
    det = bounds[bounds["points_with_gamma"] > 0]
    over = int(det["over_gamma"].sum())
    lines.append(f"- The deterministic bound gamma_n held at every point where it exists "
                 f"(n*u < 1): {over} of {int(det['points_with_gamma'].sum())} measurements "
                 "exceeded it." if over == 0 else
                 f"- **The deterministic bound gamma_n was exceeded {over} times** (see "
                 "bound_checks.csv): a bug in the emulation or in the bound's use.")
    counts = []
    for mode in settings["modes"]:
        for fmt in settings["formats"]:
            rows = _pick(bounds, order="sequential", mode=mode, format=fmt)
            counts.append(f"{fmt} {mode} {int(rows['over_prob_bound'].sum())} of "
                          f"{int(rows['points'].sum())}")
    lines.append("- sqrt(n)*u (lambda = 1: the size the probabilistic model predicts, not a "
                 "bound it guarantees) was exceeded by the sequential order in "
                 + ", ".join(counts) + " measurements.")
    return "\n".join(lines)


def _harmonic_text(tables) -> str:
    stalls, summary = tables["harmonic_stalls"], tables["harmonic_summary"]
    lines = []
    for row in stalls.itertuples():
        lines.append(f"- {row.format}: the sequential round-to-nearest-even sum stops at n = "
                     f"{row.stalls_at_n} with {row.stalled_sum:g}; the next term "
                     f"{row.next_term:.3g} is at most half the sum's ulp {row.ulp_of_sum:g}, "
                     f"so every later addition rounds back. The exact sum of the {row.n_max:,} "
                     f"rounded terms is {row.exact_at_n_max:.6g}.")
    for fmt, group in summary.groupby("format", sort=False):
        parts = []
        for row in group.itertuples():
            spread = f" +- {row.spread:.2g} over {row.runs} runs" if row.mode == "sr" else ""
            parts.append(f"{row.order} {row.mode} {row.sum:.6g}{spread} "
                         f"(rel. error {row.rel_error:.2g})")
        lines.append(f"- {fmt} at n = {int(group['n'].iloc[0]):,}: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def write_report(tables: dict, folder: Path, settings: dict, level: str, seed: int) -> Path:
    command = f"numprec study {NAME}" + level_flag(level)
    report = Report(folder, "Error accumulation in sums, dot products and matmuls")
    report.text(f"""Made by `{command}` with numprec {numprec.__version__}, seed {seed}
({level} settings: n = 2^{min(settings['log2_n'])} to 2^{max(settings['log2_n'])},
{settings['trials']} trials per length, matmuls of {settings['side']} x n by n x
{settings['side']}). Every reduction runs in numprec's kernels, which round after every
addition in the accumulator format; the inputs are rounded to that format first, so the error
shown is the accumulation's alone. Data: U[0,1) scaled by a power of two (sums: terms in
[0, 2^-6); dot and matmul: operands in [0, 2^-3)) so that fp16's sums of 2^20 terms stay below
its max 65504. The reference is the exact sum (math.fsum of the exact float64 terms). Orders:
sequential (recursive summation), pairwise, blocked (blocks of {ex.BLOCK} in the accumulator,
block sums added in fp32), Kahan's compensated sum, and the exact sum rounded once (the best any
order can do). Bounds: gamma_n = nu/(1-nu) (drawn where n*u < 1) and the probabilistic
lambda*sqrt(n)*u with lambda = 1 (Higham & Mary 2019); u is 2^-p for round to nearest and
2^(1-p) for the other modes. The error is |computed - exact| / sum |terms| (for positive data,
the relative error), largest over a matmul's outputs.""")
    report.heading("What the measurements show")
    report.text(_findings(tables, settings))
    for op in settings["ops"]:
        for kind in settings["data"]:
            fig, data = figures.error_vs_n(tables["errors"], op, kind)
            report.figure(fig, f"{op}_{kind}_error_vs_n",
                          f"{op}: error against n per accumulator format and rounding mode, "
                          f"{kind} data", data)
    report.heading("Growth rates")
    report.table(tables["growth"], "growth_rates",
                 ["op", "data", "format", "order", "mode", "growth_exponent", "error_at_n_max",
                  "prob_bound_at_n_max"],
                 ["op", "data", "format", "order", "mode", "fitted exponent a (error ~ n^a)",
                  "error at largest n", "sqrt(n) u there"], digits=3)
    report.heading("Stagnation of a recursive sum: the harmonic series")
    report.text(_harmonic_text(tables))
    fig, data = figures.harmonic(tables["harmonic_partials"], tables["harmonic_stalls"])
    report.figure(fig, "harmonic_series", "Partial sums of the harmonic series by each method",
                  data)
    report.table(tables["harmonic_summary"], "harmonic_summary")
    report.heading("Data")
    report.data(tables["errors"], "errors")
    report.table(tables["bounds"], "bound_checks")
    report.text("`data/errors.csv` holds every measurement (op, data, n, trial, format, order, "
                "mode, relative and scaled error, condition number, u, n*u, gamma_n, the "
                "probabilistic bound); `data/harmonic_partials.csv` every partial sum.")
    report.data(tables["harmonic_partials"], "harmonic_partials")
    return report.write()


def run_study(out="reports/study_error_accumulation", *, quick: bool = False, full: bool = False,
              seed: int = 0, stream=None) -> Path:
    """Run the study (resuming finished cells of an interrupted run) and write the report
    folder atomically; returns the path of report.html."""
    return run_levels(out, SETTINGS, compute, write_report, quick=quick, full=full, seed=seed,
                      stream=stream)


def main(argv=None) -> int:
    return study_main(NAME, __doc__, "reports/study_error_accumulation", run_study, argv)


if __name__ == "__main__":
    sys.exit(main())
