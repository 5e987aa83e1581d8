"""The demo rounding study: relative error against magnitude, stagnation of running sums, and
the bias of each rounding mode, written as report.md + PNG figures + CSV data.

    numprec study rounding --out reports/study_rounding [--quick] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numprec

from ...report.files import atomic_folder, markdown_table
from . import experiments as ex
from . import figures

FULL = dict(exponent_step=0.125, samples=4000, runs=1000, bias_samples=1_000_000,
            sr_bits_samples=4_000_000, increment_steps=100_000)
QUICK = dict(exponent_step=1.0, samples=200, runs=50, bias_samples=20_000,
             sr_bits_samples=50_000, increment_steps=100_000)
FIGURES = {"error_vs_magnitude": "error_vs_magnitude.png", "error_overview": "error_overview.png",
           "stagnation": "stagnation.png", "bias_by_mode": "bias_by_mode.png",
           "sr_bits": "sr_bits.png"}


def compute(seed: int, sizes: dict) -> dict:
    """Every table of the study, keyed by the CSV name it is saved under."""
    errors, normal_max = ex.error_vs_magnitude(seed, sizes["exponent_step"], sizes["samples"])
    traces = ex.stagnation_traces(seed, sizes["runs"])
    return {
        "error_vs_magnitude": errors,
        "format_summary": ex.format_summary(errors, normal_max),
        "stagnation_traces": traces,
        "stagnation_points": ex.stagnation_points(traces),
        "stagnation_by_increment": ex.stagnation_by_increment(sizes["increment_steps"]),
        "bias_by_mode": ex.bias_by_mode(seed, sizes["bias_samples"]),
        "sr_bias_by_bits": ex.sr_bias_by_bits(seed, sizes["sr_bits_samples"]),
    }


def draw(tables: dict, folder: Path) -> None:
    figures.error_vs_magnitude(tables["error_vs_magnitude"], folder / FIGURES["error_vs_magnitude"])
    figures.error_overview(tables["error_vs_magnitude"], folder / FIGURES["error_overview"])
    figures.stagnation(tables["stagnation_traces"], folder / FIGURES["stagnation"])
    figures.bias_by_mode(tables["bias_by_mode"], folder / FIGURES["bias_by_mode"])
    figures.sr_bits(tables["sr_bias_by_bits"], folder / FIGURES["sr_bits"])


def _stalls(points, mode) -> str:
    """'fp16 at 2048, bf16 at 256, ...' for one mode, from the measured table."""
    rows = points[points["mode"] == mode]
    return ", ".join(f"{fmt} at {value:g}" for fmt, value in zip(rows["format"],
                                                                 rows["stagnates_at"]))


def _section_magnitude(tables, sizes) -> str:
    summary = tables["format_summary"]
    failed = summary.loc[~summary["bound_holds"], "format"].tolist()
    bound = ("In every float format the largest relative error seen on inputs inside the normal "
             "range stays below the unit roundoff u = 2^-p, as the standard model "
             "fl(x) = x(1 + d), |d| <= u promises." if not failed else
             f"**The bound |d| <= u failed for {', '.join(failed)}** (see the table).")
    table = markdown_table(summary, ["format", "p", "u", "max_rel_error_normal", "bound_holds",
                                     "decades_median_within_u", "decades_normal_range",
                                     "decades_nonzero"],
                           ["format", "p", "u", "max rel. error (normal inputs)", "<= u",
                            "decades with median <= u", "decades of normal range",
                            "decades of nonzero values"])
    return f"""## 1. Relative error against magnitude

Data: N(0,1) x 10^k for k from -48 to 42 in steps of {sizes['exponent_step']:g} decade,
{sizes['samples']:,} draws per step, each rounded to nearest-even. Inside the normal range the error
is relative: a flat plateau below u (dashed green). Below the smallest normal number (blue band)
the spacing stops shrinking, so the *absolute* error stays fixed and the relative error climbs
until values flush to zero (relative error 1): the subnormal cliff. Above max (red band) values
overflow to inf (IEEE formats), to NaN (the fp8 `fn`/`fnuz` formats, OCP convention without
saturation) or clamp to +-max (the MX formats fp6/fp4, which have neither, and fixed point
q7.8, whose absolute error is constant so its relative error falls as 1/|x|).

![relative error against magnitude, per format]({FIGURES['error_vs_magnitude']})

![median relative error of every format]({FIGURES['error_overview']})

{bound} The "decades" columns compare the measured width of the plateau with the width
log10(max / min normal) of the normal range; the plateau extends slightly into the subnormals
because N(0,1) data spreads around each magnitude. bf16 keeps fp32's 76 decades of range with
fp16's (in fact lower) precision; fp16 trades range for precision; the 8-bit and smaller
formats have a few decades at most, which is why they need per-tensor or per-block scaling.

{table}
"""


def _section_stagnation(tables, sizes) -> str:
    points = tables["stagnation_points"]
    shown = points.astype({"stagnates_at": object})
    shown.loc[points["stagnates_at"].isna(), "stagnates_at"] = "never"
    table = markdown_table(shown, ["format", "mode", "stagnates_at", "steps", "final", "exact",
                                    "rel_error"],
                           ["format", "mode", "stagnates at", "additions", "final sum",
                            "exact sum", "relative error"])
    increments = markdown_table(tables["stagnation_by_increment"],
                                ["format", "p", "increment", "steps_before_stagnation",
                                 "stagnates_at", "stagnates_at_over_increment", "two_to_p"],
                                ["format", "p", "increment", "additions before it stalls",
                                 "stalls at", "stalls at / increment", "2^p"])
    return f"""## 2. Stagnation of a running sum

`acc = round(acc + 1)` repeated, in the format, under each mode; stochastic rounding (`sr`) over
{sizes['runs']:,} independent runs (mean and 5-95% band). Under round-to-nearest-even the sum stops
growing once the increment is half an ulp of the accumulator and the tie goes to the even
neighbour: measured {_stalls(points, 'rne')}, i.e. at 2^p. Round-to-nearest-away breaks those
ties upward and goes one binade further ({_stalls(points, 'rna')}); round-to-odd moves one step
past 2^p ({_stalls(points, 'rto')}); rounding up never stalls but overshoots, up to overflow.
Stochastic rounding is unbiased, so its mean follows the exact sum.

![running sums under each mode]({FIGURES['stagnation']})

{table}

The same for other increments (round-to-nearest-even): the sum stalls after about 2^p
increments, whatever their size (not exactly, since an increment that is not a power of two is
itself rounded on every addition). An increment that rounds to zero on its own (2^-10 in
fp8_e4m3fn, a tie at half the smallest subnormal) never moves the sum at all.

{increments}
"""


def _section_bias(tables, sizes) -> str:
    bias = tables["bias_by_mode"]
    pivot = bias.pivot_table(index=["data", "mode"], columns="format", values="mean_error_ulp",
                             sort=False).reset_index()
    bias_table = markdown_table(pivot, digits=3)
    bits_table = markdown_table(tables["sr_bias_by_bits"],
                                ["rbits", "mean_error_ulp", "std_error_of_mean", "predicted_ulp"],
                                ["random bits k", "mean error (ulps)", "standard error",
                                 "predicted -2^-(k+1)"], digits=3)
    return f"""## 3. Bias of the rounding modes

Mean signed error, in ulps of each value, over {sizes['bias_samples']:,} positive values spread
over 2^-3..2^4: random reals (left) and exact midpoints between neighbours (right). Directed
modes are biased by half an ulp on both; round-to-nearest-away is unbiased on random reals but
biased by +1/2 ulp on ties, which is why IEEE's default breaks ties to even; round-to-odd and
stochastic rounding are unbiased on both (round-to-odd has twice the mean absolute error, see
the CSV).

![bias of each rounding mode]({FIGURES['bias_by_mode']})

{bias_table}

Stochastic rounding with k random bits rounds away from zero with probability
floor(frac x 2^k) / 2^k instead of frac, which biases it downward by 2^-(k+1) ulp on average
({sizes['sr_bits_samples']:,} values; below the grey band the bias is smaller than the noise).

![stochastic rounding bias against random bits]({FIGURES['sr_bits']})

{bits_table}
"""


def write_report(tables: dict, folder: Path, seed: int, quick: bool, sizes: dict) -> None:
    for name, table in tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
    draw(tables, folder)
    command = "numprec study rounding --out reports/study_rounding" + (
        " --quick" if quick else "") + (f" --seed {seed}" if seed else "")
    quick_note = " (quick mode: reduced sizes, a smoke test)" if quick else ""
    data_files = "\n".join(f"- `{name}.csv`" for name in tables)
    text = f"""# Rounding in low-precision formats: error, stagnation and bias

Made by `{command}` (`make study`) with numprec {numprec.__version__}, seed {seed}{quick_note}.
Every number comes from `numprec.round`, which rounds each float64 input once, exactly, to the
format.

{_section_magnitude(tables, sizes)}
{_section_stagnation(tables, sizes)}
{_section_bias(tables, sizes)}
## Data

Every table and figure above is drawn from these files (one row per observation):

{data_files}
"""
    (folder / "report.md").write_text(text)


def run_study(out="reports/study_rounding", *, quick: bool = False, full: bool = False,
              seed: int = 0) -> Path:
    """Run the study and write the report folder atomically; returns the path of report.md.
    Its default sizes are already the paper-quality ones: full changes nothing."""
    if quick and full:
        raise ValueError("choose quick or full, not both")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    sizes = QUICK if quick else FULL
    Path(out).resolve().parent.mkdir(parents=True, exist_ok=True)  # fail before the work, not after
    tables = compute(seed, sizes)
    with atomic_folder(out) as folder:
        write_report(tables, folder, seed, quick, sizes)
    return Path(out) / "report.md"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="numprec study rounding",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/study_rounding", help="output folder")
    parser.add_argument("--quick", action="store_true", help="reduced sizes (a smoke test)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = run_study(args.out, quick=args.quick, seed=args.seed)
    print(f"report written to {report} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
