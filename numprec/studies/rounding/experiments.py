"""The experiments of the demo rounding study; each returns tidy pandas tables.

Only numprec.round is used (arithmetic ops come later): a "sum" here is float64 `acc + inc`
rounded once to the format, which is exactly a correctly rounded addition because both operands
and their sum fit in float64 for every format studied (p <= 24 bits, no exponent overflow).
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numba
import numpy as np
import pandas as pd
from tqdm import tqdm

import numprec
from numprec.codes import MODES, SR_MAX_BITS

MAGNITUDE_FORMATS = ("fp32", "tf32", "fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3fnuz",
                     "fp8_e5m2fnuz", "fp6_e3m2fn", "fp6_e2m3fn", "fp4_e2m1fn", "q7.8")
STAGNATION_FORMATS = ("fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2")
DETERMINISTIC_MODES = tuple(m for m in MODES if m != "sr")
BIAS_FORMATS = ("fp16", "bf16", "fp8_e4m3fn")
INCREMENTS = (1.0, 0.1, 0.01, 2.0 ** -10)
SR_BITS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, SR_MAX_BITS)


@contextmanager
def _one_thread():
    """For loops of tiny rounding calls: waking a thread pool per call costs far more than the
    work, and on a busy machine each wake-up can wait a full scheduler slice."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def _seeds(seed: int, *stream: int, count: int) -> list[int]:
    """Independent 64-bit seeds for one stream of the study (SeedSequence keeps streams apart)."""
    state = np.random.SeedSequence([seed, *stream]).generate_state(count, dtype=np.uint64)
    return [int(s) for s in state]


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *stream]))


# --- (a) relative error against magnitude -----------------------------------------------------

def _quantile(values, q):
    """Row-wise quantile of data that may hold inf (overflow): inf - inf must not warn."""
    with np.errstate(invalid="ignore"):
        return np.quantile(values, q, axis=1)


def error_vs_magnitude(seed: int, exponent_step: float, samples: int):
    """Relative error of round-to-nearest-even on N(0,1) * 10^k data, per format and k.
    Returns the table and, per float format, the largest relative error over the inputs that
    lie in its normal range (which the unit roundoff bounds)."""
    exponents = np.arange(-48.0, 42.0 + exponent_step / 2, exponent_step)
    z = _rng(seed, 1).standard_normal(samples)
    x = np.outer(10.0 ** exponents, z)  # shape (magnitudes, samples)
    frames, normal_max = [], {}
    for name in tqdm(MAGNITUDE_FORMATS, desc="error vs magnitude", disable=None, leave=False):
        fmt = numprec.get_format(name)
        r = numprec.round(x, fmt, "rne")
        with np.errstate(invalid="ignore"):
            rel = np.abs(r - x) / np.abs(x)
        rel[~np.isfinite(r)] = np.inf  # overflow to inf or NaN
        subnormal = np.nan if fmt.is_fixed else np.mean((r != 0) & (np.abs(r) < fmt.min_normal),
                                                         axis=1)
        frames.append(pd.DataFrame({
            "format": name, "exponent": exponents, "magnitude": 10.0 ** exponents,
            "median_rel_error": _quantile(rel, 0.5),
            "p99_rel_error": _quantile(rel, 0.99),
            "max_rel_error": rel.max(axis=1),
            "frac_above_max": np.mean(np.abs(x) > fmt.max, axis=1),
            "frac_nonfinite": np.mean(~np.isfinite(r), axis=1),
            "frac_zero": np.mean(r == 0, axis=1),
            "frac_subnormal": subnormal,
        }))
        if not fmt.is_fixed:
            normal = (np.abs(x) >= fmt.min_normal) & (np.abs(x) <= fmt.max)
            normal_max[name] = float(rel[normal].max())
    return pd.concat(frames, ignore_index=True), normal_max


def format_summary(errors: pd.DataFrame, samples_max: dict) -> pd.DataFrame:
    """Per float format: unit roundoff, the worst error seen in the normal range, and how many
    decades of magnitude keep the median relative error within u."""
    rows = []
    for name, group in errors.groupby("format", sort=False):
        fmt = numprec.get_format(name)
        if fmt.is_fixed:
            continue
        step = float(np.diff(group["exponent"].to_numpy()[:2])[0])
        within = group["median_rel_error"] <= fmt.u
        rows.append({
            "format": name, "p": fmt.precision, "u": fmt.u,
            "max_rel_error_normal": samples_max[name],
            "bound_holds": samples_max[name] <= fmt.u,
            "decades_median_within_u": float(within.sum() * step),
            "decades_normal_range": math.log10(fmt.max / fmt.min_normal),
            "decades_nonzero": math.log10(fmt.max / fmt.min_subnormal),
        })
    return pd.DataFrame(rows)


# --- (b) stagnation of a running sum ----------------------------------------------------------

def stagnation_traces(seed: int, runs: int, steps_per_format=None) -> pd.DataFrame:
    """acc <- round(acc + 1) for every mode; stochastic rounding over `runs` independent runs."""
    frames = []
    total = sum(_steps(name, steps_per_format) for name in STAGNATION_FORMATS)
    with tqdm(total=total, desc="stagnation", disable=None, leave=False) as bar, _one_thread():
        for index, name in enumerate(STAGNATION_FORMATS):
            steps = _steps(name, steps_per_format)
            seeds = _seeds(seed, 2, index, count=steps)
            acc = {mode: 0.0 for mode in DETERMINISTIC_MODES}
            acc_sr = np.zeros(runs)
            trace = {mode: np.empty(steps) for mode in DETERMINISTIC_MODES}
            sr_mean, sr_lo, sr_hi = np.empty(steps), np.empty(steps), np.empty(steps)
            for step in range(steps):
                for mode in DETERMINISTIC_MODES:
                    acc[mode] = float(numprec.round(acc[mode] + 1.0, name, mode))
                    trace[mode][step] = acc[mode]
                acc_sr = numprec.round(acc_sr + 1.0, name, "sr", seed=seeds[step])
                sr_mean[step] = acc_sr.mean()
                with np.errstate(invalid="ignore"):  # sums that overflowed to inf
                    sr_lo[step], sr_hi[step] = np.quantile(acc_sr, [0.05, 0.95])
                bar.update()
            frames.append(pd.DataFrame({"format": name, "step": np.arange(1, steps + 1),
                                        "exact": np.arange(1.0, steps + 1), **trace,
                                        "sr_mean": sr_mean, "sr_p05": sr_lo, "sr_p95": sr_hi}))
    return pd.concat(frames, ignore_index=True)


def _steps(name: str, steps_per_format) -> int:
    """Four times the round-to-nearest stagnation point 2^p, so the plateau is plain to see."""
    if steps_per_format is not None:
        return steps_per_format
    return 4 * 2 ** numprec.get_format(name).precision


def stagnation_points(traces: pd.DataFrame) -> pd.DataFrame:
    """Where each deterministic mode's sum stopped growing, and where each sum ended."""
    rows = []
    for name, group in traces.groupby("format", sort=False):
        exact_end = float(group["exact"].iloc[-1])
        for mode in DETERMINISTIC_MODES + ("sr_mean",):
            values = group[mode].to_numpy()
            with np.errstate(invalid="ignore"):  # inf - inf after an overflow
                stuck = np.flatnonzero(np.diff(values) == 0)
            rows.append({"format": name, "mode": "sr (mean)" if mode == "sr_mean" else mode,
                         "stagnates_at": float(values[stuck[0]]) if stuck.size and mode != "sr_mean"
                         else math.nan,
                         "steps": len(values), "final": float(values[-1]), "exact": exact_end,
                         "rel_error": abs(float(values[-1]) - exact_end) / exact_end})
    return pd.DataFrame(rows)


def stagnation_by_increment(max_steps: int) -> pd.DataFrame:
    """Round-to-nearest-even: the value at which adding `inc` stops changing the sum."""
    rows = []
    incs = np.array(INCREMENTS)
    for name in STAGNATION_FORMATS:
        fmt = numprec.get_format(name)
        acc = np.zeros(incs.size)
        stuck_at = np.full(incs.size, np.nan)
        stuck_step = np.full(incs.size, -1)
        with _one_thread():
            for step in range(1, max_steps + 1):
                new = numprec.round(acc + incs, fmt, "rne")
                newly = np.isnan(stuck_at) & (new == acc)
                stuck_at[newly], stuck_step[newly] = acc[newly], step - 1
                acc = new
                if not np.isnan(stuck_at).any():
                    break
        for inc, value, steps in zip(incs, stuck_at, stuck_step):
            rows.append({"format": name, "p": fmt.precision, "increment": float(inc),
                         "steps_before_stagnation": int(steps), "stagnates_at": float(value),
                         "stagnates_at_over_increment": float(value / inc),
                         "two_to_p": 2 ** fmt.precision})
    return pd.DataFrame(rows)


# --- (c) bias of the rounding modes -----------------------------------------------------------

def _positive_data(rng, fmt, samples: int, ties: bool):
    """Positive values spread over 2^-3..2^4 (normal in every studied format) and their ulp."""
    exps = rng.integers(-3, 4, samples)
    ulp = np.ldexp(1.0, exps - fmt.mbits)
    if ties:
        k = rng.integers(2 ** fmt.mbits, 2 ** (fmt.mbits + 1), samples)
        return (k + 0.5) * ulp, ulp
    return (1.0 + rng.random(samples)) * np.ldexp(1.0, exps), ulp


def bias_by_mode(seed: int, samples: int) -> pd.DataFrame:
    """Mean signed error, in ulps, of every mode on random positive reals and on exact ties."""
    rows = []
    for f_index, name in enumerate(BIAS_FORMATS):
        fmt = numprec.get_format(name)
        for ties in (False, True):
            x, ulp = _positive_data(_rng(seed, 3, f_index, int(ties)), fmt, samples, ties)
            for mode in MODES:
                sr_seed = _seeds(seed, 4, f_index, int(ties), count=1)[0]
                extra = {"seed": sr_seed} if mode == "sr" else {}
                err = (numprec.round(x, fmt, mode, **extra) - x) / ulp
                rows.append({"format": name, "data": "ties" if ties else "uniform", "mode": mode,
                             "mean_error_ulp": err.mean(), "std_error_of_mean": err.std() /
                             math.sqrt(samples), "mean_abs_error_ulp": np.abs(err).mean()})
    return pd.DataFrame(rows)


def sr_bias_by_bits(seed: int, samples: int, fmt_name: str = "fp16") -> pd.DataFrame:
    """Stochastic rounding with k random bits rounds up with probability floor(frac 2^k)/2^k,
    so on uniform data it is biased by -2^-(k+1) ulp; measured against that prediction."""
    fmt = numprec.get_format(fmt_name)
    x, ulp = _positive_data(_rng(seed, 5), fmt, samples, ties=False)
    rows = []
    for k in SR_BITS:
        err = (numprec.round(x, fmt, "sr", seed=_seeds(seed, 6, k, count=1)[0], rbits=k) - x) / ulp
        rows.append({"format": fmt_name, "rbits": k, "mean_error_ulp": err.mean(),
                     "std_error_of_mean": err.std() / math.sqrt(samples),
                     "predicted_ulp": -(2.0 ** -(k + 1))})
    return pd.DataFrame(rows)
