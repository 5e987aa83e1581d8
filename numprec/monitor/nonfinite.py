"""Why an op produced its first NaN or inf: the sentence a monitor reports with its location."""
from __future__ import annotations

import numpy as np


def _largest_finite(values, where) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    picked = np.abs(values[where & np.isfinite(values)]) if values.shape == where.shape else []
    return float(np.max(picked)) if np.size(picked) else None


def _fmt_max(fmt) -> str:
    return f"{fmt.name}'s max {fmt.max:.6g}" if hasattr(fmt, "max") else str(fmt)


def _from_flags(flags, output_fmt, exact, out) -> str | None:
    if flags is None:
        return None
    became = ~np.isfinite(np.asarray(out, dtype=np.float64))
    if flags.overflow:
        value = _largest_finite(exact, became)
        size = f"|value| {value:.6g}" if value is not None else "a value"
        return f"overflow: {size} exceeds {_fmt_max(output_fmt)}"
    if flags.invalid:
        return "invalid operation (0/0, inf - inf, 0 * inf, or inf cast to a format without inf)"
    if flags.divbyzero:
        return "division by zero"
    return None


def forward_reason(rec) -> str:
    """For a ForwardRecord whose output holds a NaN or inf."""
    for index, (value, fmt, flags) in enumerate(zip(rec.inputs, rec.input_formats,
                                                    rec.cast_flags)):
        if fmt is not None and flags is not None and flags.overflow:
            return f"overflow when operand {index} was cast to {fmt.name}"
    for index, value in enumerate(rec.inputs):
        if not np.all(np.isfinite(value)):
            return f"operand {index} already held NaN or inf"
    reason = _from_flags(rec.flags, rec.output.format, rec.exact, rec.output.data)
    if reason is not None:
        return reason
    exact = np.asarray(rec.exact, dtype=np.float64)
    if np.any(np.isnan(exact)):
        return "NaN in the op's float64 arithmetic (0/0, inf - inf, 0 * inf, log of a negative)"
    return "inf in the op's float64 arithmetic (overflow of exp, log 0, x / 0)"


def backward_reason(rec, grad, flags) -> str:
    """For a BackwardRecord whose gradient for one operand holds a NaN or inf."""
    if rec.grad_flags is not None and rec.grad_flags.overflow:
        return "overflow when the incoming gradient was cast to the backward input format"
    if rec.grad is not None and not np.all(np.isfinite(rec.grad)):
        return "the incoming gradient already held NaN or inf"
    if flags is not None and flags.overflow:
        return "overflow: the gradient exceeds its format's range"
    if flags is not None and flags.invalid:
        return "invalid operation (0/0, inf - inf, 0 * inf) in the gradient"
    return "NaN or inf in the gradient's float64 arithmetic"


def update_reason(target, new, fmt, what: str) -> str:
    """For a stored weight or optimizer state that holds a NaN or inf."""
    target = np.asarray(target, dtype=np.float64)
    became = ~np.isfinite(np.asarray(new, dtype=np.float64))
    if np.any(became & np.isfinite(target)):
        value = _largest_finite(target, became)
        return f"overflow: the new {what} {value:.6g} exceeds {_fmt_max(fmt)}"
    if np.any(np.isnan(target)):
        return f"the new {what} is NaN (0/0, inf - inf or inf / inf in the update)"
    return f"the new {what} is inf (an inf gradient or state, or a division by zero)"


__all__ = ["forward_reason", "backward_reason", "update_reason"]
