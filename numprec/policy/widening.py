"""One format wider: the next format up for a range problem (underflow, overflow) or a
precision problem (stagnation, rounding error), and the format a pass runs in; used by the
precision advisor and by dynamic precision adjustment."""
from __future__ import annotations

from ..formats import get_format

# one format wider: in range (underflow, overflow) and in precision (stagnation, error)
WIDER_RANGE = {"fp8_e4m3fn": "fp8_e5m2", "fp8_e4m3fnuz": "fp8_e5m2fnuz", "fp8_e5m2": "fp16",
               "fp8_e5m2fnuz": "fp16", "fp6_e2m3fn": "fp6_e3m2fn", "fp6_e3m2fn": "fp8_e5m2",
               "fp4_e2m1fn": "fp6_e3m2fn", "fp16": "bf16", "bf16": "fp32", "tf32": "fp32",
               "fp32": "fp64"}
WIDER_PRECISION = {"fp8_e4m3fn": "fp16", "fp8_e4m3fnuz": "fp16", "fp8_e5m2": "fp16",
                   "fp8_e5m2fnuz": "fp16", "fp6_e2m3fn": "fp8_e4m3fn", "fp6_e3m2fn": "fp8_e4m3fn",
                   "fp4_e2m1fn": "fp8_e4m3fn", "fp16": "fp32", "bf16": "fp32", "tf32": "fp32",
                   "fp32": "fp64"}


def wider(fmt_name, need: str):
    """The next wider format for a range or a precision problem (None: nothing wider)."""
    table = WIDER_RANGE if need == "range" else WIDER_PRECISION
    name = get_format(fmt_name).name if fmt_name else None
    return table.get(name)


def input_format(spec, policy, phase: str) -> str:
    """The name of the format a Pass casts its inputs to: a pass that promotes (runs in its
    inputs' format) is taken to run in the policy's matmul pass's, which produces most of what
    flows through a net (fp32 when that promotes too)."""
    name = spec.input
    if name == "promote":
        name = policy.pass_for("matmul", phase).input
    return "fp32" if name == "promote" else get_format(name).name


__all__ = ["wider", "input_format", "WIDER_RANGE", "WIDER_PRECISION"]
