"""Error analysis of sums, dot products and matmuls against exact references and classic bounds.

`sum_error`, `dot_error` and `matmul_error` run the emulated reduction and return an
`ErrorAnalysis`: the computed result, the exact result (sums and dots: exact rational arithmetic,
shown as the nearest float64; matmul: float64 BLAS, as a cheaper reference), the exact result
rounded once to the output format (nearest-even: the best any order can do), the relative error,
the error scaled by sum |terms| (the quantity the bounds bound), and for the accumulator's unit
roundoff u and n terms the deterministic bound gamma_n = n*u / (1 - n*u) (Higham, Accuracy and
Stability of Numerical Algorithms) and the probabilistic bound lambda*sqrt(n)*u, which holds with
probability at least 1 - 2*exp(-lambda^2 (1-u)^2 / 2) under the model of independent rounding
errors (Higham & Mary, SIAM J. Sci. Comput. 2019).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..formats import Format
from ..codes import RNE, SR_MAX_BITS
from .accumulate import dot, matmul, resolve_formats, sum as acc_sum
from .rounding import round as round_values
from .validate import as_float64, check_format, check_mode


@dataclass(frozen=True)
class ErrorAnalysis:
    computed: np.ndarray
    exact: np.ndarray
    reference: np.ndarray
    relative_error: np.ndarray
    scaled_error: np.ndarray
    n: int
    u: float
    gamma: float
    lam: float
    probabilistic_bound: float
    probability: float

    @property
    def max_scaled_error(self) -> float:
        return float(np.max(self.scaled_error)) if np.size(self.scaled_error) else 0.0


def unit_roundoff(fmt, mode: str = "rne") -> float:
    """u of a floating-point format: 2^-p for round-to-nearest, 2^(1-p) for the other modes."""
    fmt = check_format(fmt)
    check_mode(mode)
    if not isinstance(fmt, Format):
        raise ValueError(f"relative error bounds need a floating-point accumulator, not the "
                         f"fixed-point format {fmt.name}")
    return fmt.u if mode in ("rne", "rna") else 2.0 * fmt.u


def gamma(n: int, u: float) -> float:
    """gamma_n = n*u / (1 - n*u); inf once n*u >= 1 (the bound says nothing)."""
    return n * u / (1.0 - n * u) if n * u < 1.0 else math.inf


def probabilistic_bound(n: int, u: float, lam: float) -> float:
    """lambda * sqrt(n) * u."""
    return lam * math.sqrt(n) * u


def bound_probability(lam: float, u: float) -> float:
    """Lower bound on the probability that the probabilistic bound holds (0 when vacuous)."""
    return max(0.0, 1.0 - 2.0 * math.exp(-lam * lam * (1.0 - u) ** 2 / 2.0))


def _tiny_like(rest: Fraction) -> float:
    """A float64 stand-in for a nonzero remainder below float64's range: only its sign matters,
    being far below the 2^-62 quantum fraction round_parts resolves."""
    return 5e-324 if rest > 0 else -5e-324


def _fraction_parts(total: Fraction):
    """A nonzero exact Fraction as round_parts' (hi, lo, tail, scale) with hi in [2^51, 2^53]:
    hi = fl(scaled), lo and tail the rounded remainders."""
    scale = total.numerator.bit_length() - total.denominator.bit_length() - 52
    scaled = total / Fraction(2) ** scale if scale >= 0 else total * Fraction(2) ** -scale
    hi = float(scaled)
    rest = scaled - Fraction(hi)
    lo = float(rest)
    if rest and not lo:
        return hi, _tiny_like(rest), 0.0, scale
    rest2 = rest - Fraction(lo)
    tail = float(rest2)
    if rest2 and not tail:
        tail = _tiny_like(rest2)
    return hi, lo, tail, scale


def round_exact(totals, fmt) -> np.ndarray:
    """Each exact Fraction rounded once (nearest-even) to fmt."""
    from ..kernels.cpu.arith import round_parts_kernel  # (compiles kernels: on first use)
    fmt = check_format(fmt)
    nonzero = np.array([t != 0 for t in totals], dtype=bool)
    out = np.zeros(len(totals), dtype=np.float64)
    if nonzero.any():
        chosen = [_fraction_parts(t) for t in totals if t != 0]
        hi, lo, tail = (np.array([p[i] for p in chosen]) for i in range(3))
        scale = np.array([p[3] for p in chosen], dtype=np.int64)
        values = np.empty(hi.size)
        round_parts_kernel(hi, lo, tail, scale, values, fmt.kernel_params, RNE, False, False,
                           np.uint64(0), 0, SR_MAX_BITS)
        out[nonzero] = values
    return out


def _errors(computed, exact, magnitude):
    diff = np.abs(np.asarray(computed, dtype=np.float64) - exact)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(exact != 0, diff / np.abs(exact), np.where(diff == 0, 0.0, np.inf))
        scaled = np.where(magnitude != 0, diff / magnitude, np.where(diff == 0, 0.0, np.inf))
    return relative, scaled


def _analysis(computed, exact, reference, magnitude, n, acc, mode, lam):
    u = unit_roundoff(acc, mode)
    relative, scaled = _errors(computed, exact, magnitude)
    return ErrorAnalysis(np.asarray(computed), exact, reference, relative, scaled, n, u,
                         gamma(n, u), lam, probabilistic_bound(n, u, lam),
                         bound_probability(lam, u))


def _rows_exact(terms_a, terms_b=None):
    """Exact row sums (of products) as Fractions, and sum |term| per row in float64."""
    totals, magnitudes = [], []
    for i in range(terms_a.shape[0]):
        row = [Fraction(v) for v in terms_a[i]]
        if terms_b is not None:
            row = [r * Fraction(v) for r, v in zip(row, terms_b[i])]
        totals.append(sum(row, Fraction(0)))
        magnitudes.append(float(sum((abs(r) for r in row), Fraction(0))))
    return totals, np.array(magnitudes)


def _no_in_fmt(options):
    if options.get("in_fmt") is not None:
        raise ValueError("the error helpers take the inputs as given: round them first "
                         "(numprec.round) instead of passing in_fmt")


def sum_error(x, fmt, *, axis=-1, lam=1.0, **options) -> ErrorAnalysis:
    """numprec.sum(x, fmt, axis=axis, **options) against the exact sum."""
    _no_in_fmt(options)
    arr = as_float64(x, "x")
    computed = np.asarray(acc_sum(arr, fmt, axis=axis, **options))
    moved = np.moveaxis(arr.reshape(1) if arr.ndim == 0 else arr, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    totals, magnitude = _rows_exact(rows)
    out_fmt = options.get("out_fmt") or fmt
    shape = computed.shape
    exact = np.array([float(t) for t in totals]).reshape(shape)
    reference = round_exact(totals, out_fmt).reshape(shape)
    return _analysis(computed, exact, reference, magnitude.reshape(shape), rows.shape[1],
                     options.get("acc") or fmt, options.get("mode", "rne"), lam)


def dot_error(a, b, fmt, *, axis=-1, lam=1.0, **options) -> ErrorAnalysis:
    """numprec.dot(a, b, fmt, axis=axis, **options) against the exact dot products."""
    _no_in_fmt(options)
    A, B = as_float64(a, "a"), as_float64(b, "b")
    computed = np.asarray(dot(A, B, fmt, axis=axis, **options))
    A, B = np.moveaxis(A, axis, -1), np.moveaxis(B, axis, -1)
    lead = computed.shape
    n = A.shape[-1]
    A = np.broadcast_to(A, lead + (n,)).reshape(-1, n)
    B = np.broadcast_to(B, lead + (n,)).reshape(-1, n)
    totals, magnitude = _rows_exact(A, B)
    out_fmt = options.get("out_fmt") or fmt
    exact = np.array([float(t) for t in totals]).reshape(lead)
    reference = round_exact(totals, out_fmt).reshape(lead)
    return _analysis(computed, exact, reference, magnitude.reshape(lead), n,
                     options.get("acc") or fmt, options.get("mode", "rne"), lam)


def matmul_error(a, b, fmt=None, *, lam=1.0, **options) -> ErrorAnalysis:
    """numprec.matmul(a, b, fmt, **options) against the float64 product (rounded once to the
    output format for `reference`); the scaled error divides by |a| @ |b|."""
    _no_in_fmt(options)
    A, B = as_float64(a, "a"), as_float64(b, "b")
    acc, out_fmt = resolve_formats("matmul", fmt, options.pop("acc", None),
                                   options.pop("out_fmt", None), options.pop("out", None))
    computed = np.asarray(matmul(A, B, acc=acc, out_fmt=out_fmt, **options))
    exact = np.matmul(A, B)
    reference = np.asarray(round_values(exact, out_fmt))
    magnitude = np.matmul(np.abs(A), np.abs(B))
    return _analysis(computed, exact, reference, magnitude, A.shape[-1], acc,
                     options.get("mode", "rne"), lam)
