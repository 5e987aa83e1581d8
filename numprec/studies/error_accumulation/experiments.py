"""The measurements of the error-accumulation study, as tidy tables.

Reductions run through numprec.sum / dot / matmul, whose kernels round after every addition in
the accumulator format. Inputs are rounded to that format first, so what is measured is the
error of the accumulation alone. The reference is math.fsum over the exact float64 terms (the
rounded inputs, or their products, which float64 holds exactly for formats of up to 26
significand bits): the exact sum correctly rounded to float64, 2^-53 relative at worst, far below
every error measured here.
"""
from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd

import numprec
from numprec.ops.error_analysis import gamma, probabilistic_bound, unit_roundoff

LAMBDA = 1.0  # the probabilistic bound lambda*sqrt(n)*u drawn in the figures
BLOCK = 128   # blocked order: blocks of 128 terms in the accumulator, block sums in fp32
# Data scales (powers of two: scaling changes no relative error) that keep fp16's sums of 2^20
# terms below its max 65504: terms of a sum in [0, 2^-6), dot and matmul operands in [0, 2^-3).
SUM_SCALE, OPERAND_SCALE = 2.0 ** -6, 2.0 ** -3


def cell_seed(*key) -> int:
    """A stable seed for one cell of the sweep (the same on every machine and Python)."""
    return zlib.crc32(repr(key).encode())


def _data(kind: str, rng, shape, scale) -> np.ndarray:
    if kind == "uniform":
        return rng.random(shape) * scale
    if kind == "normal":
        return rng.standard_normal(shape) * scale
    raise ValueError(f"unknown data {kind!r}; valid: uniform, normal")


def _terms(op, kind, n, side, rng, fmt):
    """The operands (rounded to fmt) and the exact terms of every output: a 2-D array of
    float64 terms, one row per output element."""
    if op == "sum":
        x = numprec.round(_data(kind, rng, n, SUM_SCALE), fmt)
        return (x,), x[None, :]
    if op == "dot":
        a = numprec.round(_data(kind, rng, n, OPERAND_SCALE), fmt)
        b = numprec.round(_data(kind, rng, n, OPERAND_SCALE), fmt)
        return (a, b), (a * b)[None, :]
    a = numprec.round(_data(kind, rng, (side, n), OPERAND_SCALE), fmt)
    b = numprec.round(_data(kind, rng, (n, side), OPERAND_SCALE), fmt)
    products = (a[:, None, :] * b.T[None, :, :]).reshape(side * side, n)
    return (a, b), products


def _reduce(op, operands, fmt, order, mode, seed):
    options = dict(order=order, mode=mode, seed=seed if mode == "sr" else None)
    if order == "blocked":
        options.update(block=BLOCK, promote="fp32")
    if op == "sum":
        return np.atleast_1d(numprec.sum(operands[0], fmt, **options))
    if op == "dot":
        return np.atleast_1d(numprec.dot(*operands, fmt, **options))
    return np.asarray(numprec.matmul(*operands, fmt, **options)).reshape(-1)


def accumulation_cell(cell, formats, orders, modes, side) -> pd.DataFrame:
    """One (op, data, n, trial) of the sweep, for every format, order and mode: the largest
    relative and scaled error over the outputs (one output for sum and dot, side x side for
    matmul), with the bounds for that n and accumulator."""
    op, kind, n, trial = cell
    rows = []
    for fmt in formats:
        rng = np.random.default_rng(cell_seed("data", op, kind, n, trial, fmt))
        operands, terms = _terms(op, kind, n, side, rng, fmt)
        exact = np.array([math.fsum(row) for row in terms])
        magnitude = np.array([math.fsum(np.abs(row)) for row in terms])
        for order in orders:
            for mode in modes:
                seed = cell_seed("sr", op, kind, n, trial, fmt, order)
                computed = _reduce(op, operands, fmt, order, mode, seed)
                diff = np.abs(computed - exact)
                with np.errstate(divide="ignore", invalid="ignore"):
                    relative = np.where(exact != 0, diff / np.abs(exact), np.inf)
                u = unit_roundoff(fmt, mode)
                rows.append(dict(op=op, data=kind, n=n, trial=trial, format=fmt, order=order,
                                 mode=mode, rel_error=float(np.max(relative)),
                                 scaled_error=float(np.max(diff / magnitude)),
                                 condition=float(np.max(magnitude / np.abs(exact))),
                                 u=u, nu=n * u, gamma_n=gamma(n, u),
                                 prob_bound=probabilistic_bound(n, u, LAMBDA)))
    return pd.DataFrame(rows)


def growth_rates(errors: pd.DataFrame, n_min: int = 64) -> pd.DataFrame:
    """Fitted exponent a of error ~ n^a (least squares of log error on log n, medians over the
    trials, n >= n_min, before the error saturates at 1) per op, data, format, order and mode."""
    medians = (errors.groupby(["op", "data", "format", "order", "mode", "n"], sort=False)
               ["scaled_error"].median().reset_index())
    rows = []
    for key, group in medians.groupby(["op", "data", "format", "order", "mode"], sort=False):
        use = group[(group["n"] >= n_min) & (group["scaled_error"] > 0)
                    & (group["scaled_error"] < 0.5)]
        slope = (float(np.polyfit(np.log2(use["n"]), np.log2(use["scaled_error"]), 1)[0])
                 if len(use) >= 3 else math.nan)
        last = group.iloc[-1]
        rows.append(dict(zip(["op", "data", "format", "order", "mode"], key),
                         growth_exponent=slope, points=len(use), n_max=int(last["n"]),
                         error_at_n_max=float(last["scaled_error"]),
                         prob_bound_at_n_max=float(errors.loc[
                             (errors["n"] == last["n"]) & (errors["format"] == key[2])
                             & (errors["mode"] == key[4]), "prob_bound"].iloc[0])))
    return pd.DataFrame(rows)


def bound_checks(errors: pd.DataFrame) -> pd.DataFrame:
    """How often the deterministic bound gamma_n (where n*u < 1) and the probabilistic bound
    lambda*sqrt(n)*u were exceeded by the scaled error, per op, format, order and mode."""
    rows = []
    for key, group in errors.groupby(["op", "data", "format", "order", "mode"], sort=False):
        det = group[np.isfinite(group["gamma_n"])]
        rows.append(dict(zip(["op", "data", "format", "order", "mode"], key),
                         points=len(group), points_with_gamma=len(det),
                         over_gamma=int((det["scaled_error"] > det["gamma_n"]).sum()),
                         over_prob_bound=int((group["scaled_error"] > group["prob_bound"]).sum())))
    return pd.DataFrame(rows)


# --- stagnation of recursive sums: the harmonic series ------------------------------------------
def harmonic_terms(n: int, fmt) -> np.ndarray:
    """1/k for k = 1..n, each rounded to fmt."""
    return numprec.round(1.0 / np.arange(1, n + 1, dtype=np.float64), fmt)


def _harmonic_sum(terms, fmt, order, mode, seed):
    options = dict(order=order, mode=mode, seed=seed if mode == "sr" else None)
    if order == "blocked":
        options.update(block=BLOCK, promote="fp32")
    return float(numprec.sum(terms, fmt, **options))


HARMONIC_METHODS = (("sequential", "rne"), ("pairwise", "rne"), ("blocked", "rne"),
                    ("kahan", "rne"), ("sequential", "sr"))


def harmonic_points(n_max: int) -> list:
    """The prefix lengths the harmonic partial sums are taken at: 8 per octave."""
    points = np.unique(np.round(2.0 ** np.arange(0, math.log2(n_max) + 1e-9, 0.125)))
    return [int(p) for p in points if p <= n_max]


def harmonic_cell(cell, n_max: int, runs: int) -> pd.DataFrame:
    """Partial sums of the harmonic series in one format by every method (sr: each run a new
    stream), at harmonic_points(n_max), with the exact partial sum of the rounded terms."""
    (fmt,) = cell
    terms = harmonic_terms(n_max, fmt)
    rows = []
    for n in harmonic_points(n_max):
        prefix = terms[:n]
        exact = math.fsum(prefix)
        for order, mode in HARMONIC_METHODS:
            seeds = range(runs) if mode == "sr" else (None,)
            for run in seeds:
                value = _harmonic_sum(prefix, fmt, order, mode,
                                      None if run is None else cell_seed("harmonic", fmt, run))
                rows.append(dict(format=fmt, n=n, order=order, mode=mode,
                                 run=-1 if run is None else run, partial_sum=value, exact=exact))
    return pd.DataFrame(rows)


def stagnation_point(fmt, n_max: int) -> dict:
    """Where the sequential round-to-nearest-even harmonic sum stops growing: the smallest n
    whose partial sum already equals the sum of all n_max terms (partial sums never decrease:
    every term is positive), found by bisection."""
    terms = harmonic_terms(n_max, fmt)
    final = _harmonic_sum(terms, fmt, "sequential", "rne", None)
    lo, hi = 1, n_max
    while lo < hi:
        mid = (lo + hi) // 2
        if _harmonic_sum(terms[:mid], fmt, "sequential", "rne", None) == final:
            hi = mid
        else:
            lo = mid + 1
    return dict(format=fmt, stalls_at_n=lo, stalled_sum=final,
                next_term=float(terms[lo]) if lo < n_max else math.nan,
                ulp_of_sum=float(numprec.finfo(fmt).eps) * 2.0 ** math.floor(math.log2(final)),
                exact_at_n_max=math.fsum(terms), n_max=n_max)


def harmonic_summary(partials: pd.DataFrame) -> pd.DataFrame:
    """At the largest n: each method's sum (sr: mean and spread over the runs) against the exact
    sum of the rounded terms."""
    top = partials[partials["n"] == partials["n"].max()]
    rows = []
    for (fmt, order, mode), group in top.groupby(["format", "order", "mode"], sort=False):
        exact = float(group["exact"].iloc[0])
        mean = float(group["partial_sum"].mean())
        rows.append(dict(format=fmt, order=order, mode=mode, n=int(group["n"].iloc[0]),
                         sum=mean, spread=float(group["partial_sum"].std(ddof=0)),
                         runs=len(group), exact=exact, rel_error=abs(mean - exact) / exact))
    return pd.DataFrame(rows)
