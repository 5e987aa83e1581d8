"""`advise(run_dir)`: the precision advisor's findings for one run directory, written to
RUN_DIR/advice.json (atomically) and as text lines for the terminal."""
from __future__ import annotations

import json
import math
import os

import numpy as np

from ..atomic import atomic_write_text
from ..policy import get_policy
from ..report.runs import load_run
from .rules import GRAD_KINDS, Context, Thresholds, findings, suggestions

SCHEMA = 1


def _context(run) -> Context:
    config = run.manifest.get("config", {})
    try:
        policy = get_policy(config.get("policy", "fp32"))
    except (ValueError, TypeError, OSError):
        policy = None  # a policy file that moved: the rules that need it stay silent
    table = run.tensors
    max_exponent = math.nan
    if table is not None and len(table):
        grads = table[table["kind"].isin(GRAD_KINDS) & (table["stat"] == "max_exponent")]
        if len(grads):
            max_exponent = float(grads["value"].max())
    skipped = 0
    if run.metrics is not None and "skipped" in run.metrics:
        skipped = int(np.nansum(run.metrics["skipped"].to_numpy(dtype=float)))
    return Context(policy=policy, loss_scale=config.get("loss_scale"),
                   max_grad_exponent=max_exponent, skipped_steps=skipped)


def _nonfinite_finding(first, ctx, thresholds) -> dict:
    """The run stopped on a NaN or inf: where, why, and what addresses it (the changes for an
    overflow of that op's output, gradient or stored value)."""
    phase = first.get("pass", "forward")
    kind = {"forward": "activation", "backward": "grad"}.get(phase, "state")
    row = dict(layer=first.get("layer", ""), tensor=first.get("tensor", ""), kind=kind)
    return dict(layer=row["layer"], tensor=row["tensor"], kind=phase, problem="nonfinite",
                severity=math.inf,
                evidence={k: first.get(k) for k in ("step", "pass", "op", "reason")},
                suggestions=suggestions("overflow", row, ctx, thresholds))


# earlier findings that can put a NaN or inf into a run: an overflow anywhere, or a stored value
# (optimizer state, weights) gone wrong
_CAN_CAUSE_NONFINITE = ("state", "update", "master")


def advise(directory, thresholds: Thresholds | None = None) -> dict:
    """The advice for a run directory (a ValueError naming the problem for a bad one); writes
    advice.json into it."""
    thresholds = (thresholds or Thresholds()).check()
    run = load_run(directory)
    ctx = _context(run)
    found = findings(run.tensors, run.shadow, ctx, thresholds)  # (none without a monitor)
    if run.first_nonfinite:
        stop = _nonfinite_finding(run.first_nonfinite, ctx, thresholds)
        earlier = [f for f in found if _first(f) < (run.first_nonfinite.get("step") or 0)
                   and (f["problem"] == "overflow" or f["kind"] in _CAN_CAUSE_NONFINITE)]
        if earlier:
            cause = earlier[0]
            stop["suggestions"].insert(0, dict(
                change="fix_earlier_finding", text=f"first fix what went wrong before it: "
                f"{_where(cause)} {cause['problem']} from step {int(_first(cause))}"))
        found.insert(0, stop)
    advice = {"schema": SCHEMA, "run": os.fspath(directory), "policy": run.policy,
              "loss_scale": ctx.loss_scale, "status": run.status,
              "thresholds": thresholds.__dict__, "max_gradient_exponent": ctx.max_grad_exponent,
              "monitored": run.tensors is not None, "findings": found}
    text = json.dumps(advice, indent=2, default=_json_default, allow_nan=True)
    atomic_write_text(os.path.join(os.fspath(directory), "advice.json"), text + "\n")
    return advice


def _first(finding) -> float:
    from .rules import _first_step
    return _first_step(finding)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _where(finding) -> str:
    name = ".".join(p for p in (finding["layer"], finding["tensor"]) if p)
    return f"{name or 'run'} ({finding['kind']})"


def _cite(finding) -> str:
    ev = finding["evidence"]
    if finding["problem"] == "nonfinite":
        return f"step {ev.get('step')}, {ev.get('pass')} {ev.get('op')}: {ev.get('reason')}"
    if finding["problem"] == "shadow_error":
        return (f"op {ev['op']}: relative error up to {ev['rel_error_max']:.3g} (median "
                f"{ev['rel_error_median']:.3g})")
    stat = {"underflow": "underflow_frac", "overflow": "overflow_frac",
            "stagnation": "stagnation_frac"}[finding["problem"]]
    over = int(ev.get(f"{stat}_steps_over", 0) or 0)
    return (f"{stat} up to {ev.get(f'{stat}_max', finding['severity']):.3g} (median "
            f"{ev.get(f'{stat}_median', math.nan):.3g}; over the threshold on {over} of "
            f"{int(ev['steps_recorded'])} recorded steps, first at step "
            f"{int(ev.get(f'{stat}_first_step', -1))})")


def advice_lines(advice: dict) -> list:
    """What `numprec advise` prints: one line per finding, its first suggestion, the others."""
    lines = [f"{advice['run']}: policy {advice['policy']}, {len(advice['findings'])} "
             f"finding(s)"]
    for f in advice["findings"]:
        first, *rest = f["suggestions"]
        lines.append(f"- {_where(f)}: {f['problem']}: {_cite(f)}")
        lines.append(f"    try: {first['text']}")
        if rest:
            lines.append("    then: " + "; ".join(s["text"] for s in rest))
    if not advice.get("monitored", True):
        lines.append("this run was not monitored: only its stop (if any) can be judged; train "
                     "it with --monitor for per-layer findings")
    elif not advice["findings"]:
        lines.append("nothing crossed the thresholds: the policy keeps this run's numbers")
    return lines


__all__ = ["advise", "advice_lines", "SCHEMA"]
