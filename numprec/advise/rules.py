"""The precision advisor's rules: where a run's policy loses information, and the cheapest change
that addresses it.

A finding is a (layer, tensor, kind) whose statistics cross a threshold: underflow (elements
flushed from nonzero to zero), overflow (to inf, NaN or saturation), update stagnation, or float64
shadow error. Changes are tried in the order of their cost:

1. a loss scale (gradient underflow with headroom below the format's max; or a smaller scale
   for gradient overflow under a scaler);
2. stochastic rounding for the weight update (stagnation);
3. one pass (forward or backward) of one op class of that layer one format wider;
4. the whole op class one format wider (every layer);
5. a block scale: the layer's GEMM operands in OCP MX blocks (a Pass with scaling="mx",
   numprec.policy.quantized), which the what-if statistics `whatif_<F>_block_*` measure.

The first applicable change is the suggestion; the next ones are listed as alternatives.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..formats import get_format
from ..policy.widening import input_format, wider
from .thresholds import Thresholds

# the op class of an op output, from the op's name (the tensor names of activations)
OP_CLASS = {"linear": "matmul", "matmul": "matmul", "conv2d": "matmul", "cross_entropy": "loss",
            "mse_loss": "loss", "softmax": "softmax", "log_softmax": "softmax",
            "layer_norm": "norm", "sum": "reduction", "mean": "reduction", "max": "reduction",
            "avg_pool2d": "pool", "max_pool2d": "pool", "pow": "transcendental",
            "exp": "transcendental", "log": "transcendental"}
GRAD_KINDS = ("grad", "grad_scaled")


def evidence(table: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """Per (layer, tensor, kind): each statistic's largest value, median over the recorded
    steps, how many steps crossed its threshold and the first of them."""
    rows = []
    stats = {"underflow_frac": thresholds.underflow, "overflow_frac": thresholds.overflow,
             "saturated_frac": thresholds.overflow, "stagnation_frac": thresholds.stagnation}
    picked = table[table["stat"].isin(list(stats) + ["max_exponent", "nan_count", "inf_count"])]
    for (layer, tensor, kind), group in picked.groupby(["layer", "tensor", "kind"], sort=False):
        row = dict(layer=layer, tensor=tensor, kind=kind,
                   steps=int(group["step"].nunique()))
        for stat, group_stat in group.groupby("stat"):
            values = group_stat["value"]
            row[f"{stat}_max"] = float(values.max())
            row[f"{stat}_median"] = float(values.median())
            if stat in stats:
                over = group_stat[values > stats[stat]]
                row[f"{stat}_steps_over"] = int(len(over))
                row[f"{stat}_first_step"] = int(over["step"].min()) if len(over) else -1
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class Context:
    """What the rules need to know of the run: its policy (resolved), loss scale setting, the
    largest gradient exponent seen, and whether any step was skipped."""
    policy: object
    loss_scale: object           # None / "none" / "dynamic" / a number
    max_grad_exponent: float     # largest floor(log2|g|) of any gradient recorded (NaN: none)
    skipped_steps: int


def _backward_format(ctx, op_class="matmul"):
    return _input_format(ctx, op_class, "backward")


def _forward_format(ctx, op_class):
    return _input_format(ctx, op_class, "forward")


def _input_format(ctx, op_class, phase):
    if ctx.policy is None:
        return None
    try:
        return input_format(ctx.policy.pass_for(op_class, phase), ctx.policy, phase)
    except (ValueError, TypeError, KeyError):
        return None


def _scaled(ctx) -> bool:
    if ctx.loss_scale in (None, "none"):
        return ctx.policy is not None and ctx.policy.loss_scale not in (None, "none", 1, 1.0)
    return ctx.loss_scale != 1 and ctx.loss_scale != 1.0


def _loss_scale_for(fmt_name, ctx, thresholds):
    """2^k that lifts the largest gradient to just below the format's max (margin_bits)."""
    if fmt_name is None or not math.isfinite(ctx.max_grad_exponent):
        return None
    emax = math.floor(math.log2(get_format(fmt_name).max))
    k = int(emax - ctx.max_grad_exponent - thresholds.margin_bits)
    return 2 ** k if k >= 1 else None


def _class_of(tensor: str, kind: str) -> str:
    if kind == "weight" or tensor in ("weight", "bias") or kind in ("update", "master"):
        return "matmul"
    return OP_CLASS.get(tensor.split("#")[0], "elementwise")


def _widen(layer, op_class, phase, fmt_name, need, why):
    target = wider(fmt_name, need) if fmt_name else None
    if target is None:
        return []
    where = f"layer {layer}" if layer else "the model's top level"
    return [dict(change="wider_pass", layer=layer, op_class=op_class, phase=phase,
                 from_format=fmt_name, to_format=target,
                 text=f"{phase} {op_class} of {where}: {fmt_name} -> {target} ({why})"),
            dict(change="wider_op_class", layer=None, op_class=op_class, phase=phase,
                 from_format=fmt_name, to_format=target,
                 text=f"every layer's {phase} {op_class}: {fmt_name} -> {target}")]


def _block_scale(layer, tensor):
    return dict(change="block_scale", layer=layer, tensor=tensor,
                text="a per-block scale for this tensor: its layer's matmul Pass with "
                     "scaling='mx' (OCP MX blocks of 32, E8M0 scales)")


def suggestions(problem: str, row, ctx: Context, thresholds: Thresholds) -> list:
    """The changes that address a problem, cheapest first."""
    layer, tensor, kind = row["layer"], row["tensor"], row["kind"]
    op_class = _class_of(tensor, kind)
    out = []
    if kind in GRAD_KINDS and problem == "underflow":
        fmt = _backward_format(ctx, op_class)
        scale = _loss_scale_for(fmt, ctx, thresholds)
        if scale is not None and not _scaled(ctx):
            out.append(dict(change="loss_scale", value=float(scale),
                            text=f"a loss scale of 2^{int(math.log2(scale))} (the largest "
                                 f"gradient exponent seen is {ctx.max_grad_exponent:g}; "
                                 f"{fmt}'s max is 2^{math.floor(math.log2(get_format(fmt).max))})"))
        out += _widen(layer, op_class, "backward", fmt, "range", "gradients below its range")
    elif kind in GRAD_KINDS and problem == "overflow":
        fmt = _backward_format(ctx, op_class)
        if _scaled(ctx):
            scale = _loss_scale_for(fmt, ctx, thresholds)
            out.append(dict(change="loss_scale", value=float(scale) if scale else 1.0,
                            text="a smaller loss scale" + (f": 2^{int(math.log2(scale))}"
                                                          if scale else ": 1")))
        out += _widen(layer, op_class, "backward", fmt, "range", "gradients above its range")
    elif kind == "update" and problem == "stagnation":
        mode = getattr(ctx.policy, "update_mode", None) or getattr(ctx.policy, "mode", "rne")
        if mode != "sr":
            out.append(dict(change="update_mode", value="sr",
                            text="stochastic rounding for the weight update (update_mode sr)"))
        master = getattr(ctx.policy, "master", "fp32")
        target = wider(master, "precision")
        if target is not None:
            out.append(dict(change="master", value=target,
                            text=f"master weights in {target} (now {master})"))
    elif kind == "state":
        fmt = getattr(ctx.policy, "optimizer_state", None)
        target = wider(fmt, "range" if problem in ("underflow", "overflow") else "precision")
        if target is not None:
            out.append(dict(change="optimizer_state", value=target,
                            text=f"optimizer state in {target} (now {fmt})"))
    else:  # activations, weights as used, master weights, shadow error
        need = "precision" if problem == "shadow_error" else "range"
        phase = "forward"
        fmt = _forward_format(ctx, op_class)
        out += _widen(layer, op_class, phase, fmt, need, f"{problem} in its {phase} pass")
    out.append(_block_scale(layer, tensor))
    return out


def findings(table: pd.DataFrame, shadow, ctx: Context, thresholds: Thresholds) -> list:
    """Every (layer, tensor, kind) that crossed a threshold, worst first, each with its evidence
    and its suggestions (cheapest first)."""
    found = []
    ev = evidence(table, thresholds) if table is not None and len(table) else pd.DataFrame()
    for row in ev.to_dict("records"):
        overflow = max(row.get("overflow_frac_max", 0.0) or 0.0,
                       row.get("saturated_frac_max", 0.0) or 0.0)
        checks = (("underflow", row.get("underflow_frac_max", 0.0),
                   thresholds.underflow, "underflow_frac"),
                  ("overflow", overflow, thresholds.overflow, "overflow_frac"),
                  ("stagnation", row.get("stagnation_frac_max", 0.0),
                   thresholds.stagnation, "stagnation_frac"))
        for problem, value, limit, stat in checks:
            if value is None or not np.isfinite(value) or value <= limit:
                continue
            cited = {k: v for k, v in row.items() if k.startswith(stat)
                     or (problem == "overflow" and k.startswith("saturated_frac"))}
            cited["steps_recorded"] = row["steps"]
            found.append(dict(layer=row["layer"], tensor=row["tensor"], kind=row["kind"],
                              problem=problem, severity=float(value), evidence=cited,
                              suggestions=suggestions(problem, row, ctx, thresholds)))
    if shadow is not None and len(shadow):
        errors = shadow[shadow["stat"] == "rel_error"]
        for (layer, tensor, kind, op), group in errors.groupby(
                ["layer", "tensor", "kind", "op"], sort=False):
            worst = float(group["value"].max())
            if np.isfinite(worst) and worst > thresholds.shadow_error:
                row = dict(layer=layer, tensor=tensor, kind=kind)
                found.append(dict(layer=layer, tensor=tensor, kind=kind, problem="shadow_error",
                                  severity=worst, evidence={
                                      "op": op, "rel_error_max": worst,
                                      "rel_error_median": float(group["value"].median()),
                                      "steps_recorded": int(group["step"].nunique())},
                                  suggestions=suggestions("shadow_error", row, ctx, thresholds)))
    order = {"overflow": 0, "underflow": 1, "stagnation": 2, "shadow_error": 3}
    # earliest first (a cause comes before its effects: the fp16 preset's optimizer state
    # underflows a step before its activations overflow), then by kind of problem, worst first
    found.sort(key=lambda f: (_first_step(f), order[f["problem"]], -f["severity"]))
    return found


def _first_step(finding) -> float:
    ev = finding["evidence"]
    steps = [v for k, v in ev.items() if k.endswith("_first_step") and v is not None and v >= 0]
    return float(min(steps)) if steps else math.inf


__all__ = ["Thresholds", "Context", "findings", "suggestions", "evidence", "wider"]
