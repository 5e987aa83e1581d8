"""Assertions for bit-exact comparisons: results compared as bit patterns (so -0 != +0 and NaN
payloads count), and IEEE flags (and the kernels' events) checked element by element through
aggregate counts."""
from __future__ import annotations

import numpy as np

from ..ops import Flags
from .oracle import EVENT_NAMES, FLAG_NAMES, limits_of


def bits_of(values) -> np.ndarray:
    """The uint64 bit patterns of float64 values."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def assert_bits_equal(actual, expected, inputs=None, context: str = "", limit: int = 5):
    """Raise AssertionError unless the float64 arrays are identical bit for bit; the message shows
    the first mismatches (input, expected, actual) with their hex patterns."""
    actual = np.ascontiguousarray(actual, dtype=np.float64).reshape(-1)
    expected = np.ascontiguousarray(expected, dtype=np.float64).reshape(-1)
    if actual.shape != expected.shape:
        raise AssertionError(f"{context}: shapes differ, {actual.shape} != {expected.shape}")
    bad = np.flatnonzero(bits_of(actual) != bits_of(expected))
    if bad.size == 0:
        return
    rows = []
    for i in bad[:limit]:
        shown = "" if inputs is None else f"x={_show(np.asarray(inputs).reshape(-1)[i])} "
        rows.append(f"  [{i}] {shown}expected {_show(expected[i])}, got {_show(actual[i])}")
    raise AssertionError(f"{context}: {bad.size} of {actual.size} elements differ\n"
                         + "\n".join(rows))


def _show(value) -> str:
    value = float(value)
    return f"{value!r} ({int(np.float64(value).view(np.uint64)):#018x})"


def event_flags(exact, values, fmt, flags: dict) -> dict:
    """The events per element (oracle.reference_events, vectorised) of results `values` whose
    exact values are `exact` and whose flags are `flags` (per-element dict): {"zeroed": bool
    array, "subnormal": bool array, "swamped": bool array}. One rounding never swamps (the event
    belongs to accumulations): "swamped" is all False."""
    exact = np.asarray(exact, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    lim = limits_of(fmt)
    counted = np.isfinite(exact) & ~np.isnan(values)
    overflow = np.asarray(flags.get("overflow", False), dtype=bool)
    zeroed = counted & (values == 0.0) & (exact != 0.0) & ~overflow
    if lim.fixed:
        subnormal = np.zeros(values.shape, dtype=bool)
    else:
        subnormal = (counted & (values != 0.0) & np.isfinite(values)
                     & (np.abs(values) < float(lim.min_normal)))
    return {"zeroed": zeroed, "subnormal": subnormal,
            "swamped": np.zeros(values.shape, dtype=bool)}


def _checked_names(flags: dict) -> tuple:
    """The flags, then the events when the expectation includes them."""
    return FLAG_NAMES + tuple(name for name in EVENT_NAMES if name in flags)


def flag_codes(flags: dict) -> np.ndarray:
    """One integer per element: bit i set when the i-th of the flags (then the events, when
    `flags` has them) was raised."""
    codes = None
    for bit, name in enumerate(_checked_names(flags)):
        raised = np.asarray(flags.get(name, False), dtype=np.int64) << bit
        codes = raised if codes is None else codes | raised
    return codes


def assert_flags_per_element(run, x, expected_flags: dict, context: str = ""):
    """Check the flags of every element, although numprec.Flags only counts them.

    Elements are grouped by the flag combination the oracle expects; `run(subset, flags)` must
    evaluate the op on that subset (1-D float64) and count into `flags`. Every flag count then has
    to be either the group size (all raised) or 0 (none raised). The events are checked too when
    expected_flags has them (see event_flags). Only valid for ops whose per-element result does
    not depend on the element's position (not for stochastic rounding)."""
    x = np.ascontiguousarray(x).reshape(-1)
    names = _checked_names(expected_flags)
    codes = flag_codes(expected_flags)
    codes = np.broadcast_to(codes, x.shape)
    for code in np.unique(codes):
        members = x[codes == code]
        counted = Flags()
        run(members, counted)
        got = {**counted.as_dict(), **counted.events()}
        got = {name: got[name] for name in names}
        expected = {name: members.size if (code >> bit) & 1 else 0
                    for bit, name in enumerate(names)}
        if got != expected:
            raise AssertionError(f"{context}: flags differ for the {members.size} elements "
                                 f"expecting {_names(code, names)} (e.g. "
                                 f"x={members[:4].tolist()}): counted {got}")


def _names(code, names=FLAG_NAMES) -> str:
    raised = [name for bit, name in enumerate(names) if (code >> bit) & 1]
    return "{" + ", ".join(raised) + "}"


def flag_counts(flags: dict) -> dict:
    """Aggregate counts of a per-element flag dict, in numprec.Flags.as_dict() form (with the
    events too, in Flags.events() form, when the dict has them)."""
    return {name: int(np.count_nonzero(flags.get(name, False)))
            for name in _checked_names(flags)}


__all__ = ["bits_of", "assert_bits_equal", "event_flags", "flag_codes",
           "assert_flags_per_element", "flag_counts"]
