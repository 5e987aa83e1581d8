"""Dynamic precision adjustment (`numprec train --adjust-precision`): the advisor's rules applied
while training.

After every step the adjuster reads the monitor's rows of that step. A layer whose gradients
(kinds grad, grad_scaled) lose more than `underflow` of their elements to underflow, or overflow
at all (`overflow`), gets its backward matmul pass one format wider in range; a layer whose
matmul outputs (activations) do, its forward pass. A promotion that does not at least halve the
rate on the next recorded step is taken back and that pass left alone (the loss is elsewhere:
gradients stored in a low-precision parameter's format, say). A promoted pass that has been safe
(every rate under half its threshold) for `patience` recorded steps goes back one format. With a
float64 shadow (--shadow), a layer whose matmul output (forward) or weight gradient (backward)
has a relative error above `shadow_error` gets that pass one format wider in precision. Every
switch is
logged (step, layer, op class, pass, from, to, reason) and the run writes them to
precision_switches.parquet.

Storage cost: the adjuster also counts, per step, the elements each op stores and the bits of
the format they are stored in (the forward output, the gradients in their parameters' or
inputs' formats), and reports the mean bits per stored value over the run, against the same
values under the starting policy (the formats it would have given, propagated op by op through
the step) and under fp32 (32 bits each).
"""
from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..atomic import atomic_write
from ..autodiff import observe
from ..autodiff.context import is_grad_enabled
from ..formats import get_format
from ..policy import PROMOTE, Pass
from ..policy.casting import widest
from ..policy.widening import input_format, wider

SWITCH_COLUMNS = ["step", "layer", "op_class", "pass", "from", "to", "reason"]
_GRADS = ("grad", "grad_scaled")


@dataclass(frozen=True)
class AdjustSettings:
    """Thresholds of the adjustment (`numprec train --adjust-*`)."""
    underflow: float = 0.01   # underflow_frac of a layer's gradients or activations
    overflow: float = 0.0     # overflow_frac + saturated_frac: any
    patience: int = 50        # recorded steps a promoted pass must stay safe to go back
    shadow_error: float = 0.01  # the float64 shadow's rel_error of a layer's matmul (--shadow)

    def check(self) -> "AdjustSettings":
        for name in ("underflow", "overflow"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise ValueError(f"--adjust-{name} must be in [0, 1], got {value!r}")
        if not (isinstance(self.shadow_error, (int, float)) and self.shadow_error > 0):
            raise ValueError(f"--adjust-shadow-error must be positive, got {self.shadow_error!r}")
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) \
                or self.patience < 1:
            raise ValueError(f"--adjust-patience must be a positive int, got {self.patience!r}")
        return self


def _bits(fmt) -> int:
    return get_format(fmt).nbits


class PrecisionAdjuster:
    """Adjusts `policy` per layer while a run trains (see the module docstring). `policy` is the
    one to train with at every step; `switches` the log."""

    def __init__(self, policy, monitor, settings: AdjustSettings | None = None, shadow=None):
        self.start = policy
        self.policy = policy
        self.monitor = monitor
        self.shadow = shadow
        self.settings = (settings or AdjustSettings()).check()
        self.safe = {}       # (layer, phase) -> consecutive safe recorded steps while promoted
        self.switches = []   # rows of SWITCH_COLUMNS
        self.pending = {}    # (layer, phase) -> (problem, rate, from format): just promoted
        self.blocked = set()  # (layer, phase) whose promotion did not help: left alone
        self.bits = {"actual": 0.0, "start": 0.0, "fp32": 0.0, "values": 0}
        self.active = True
        self._step_counts = []  # this step: (elements, bits stored, bits under the start)
        self._start_of = {}     # id(op output) -> (weakref, its format under the start policy)

    # --- counting what is stored (an observer of the engine) ---------------------------------
    def notify(self, record) -> None:
        """Count each stored value's bits, now and under the starting policy: the formats the
        starting policy would have given are propagated op by op (`_start_of`), so values
        downstream of a promoted layer count in the format they would have had."""
        if isinstance(record, observe.ForwardRecord):
            if not is_grad_enabled():
                return
            out = record.output
            start = self._start_output(record)
            self._start_of[id(out)] = (weakref.ref(out), start)
            if record.op_class is not None:
                self._step_counts.append((out.data.size, _bits(out.format), _bits(start)))
        elif isinstance(record, observe.BackwardRecord):
            for parent, grad in zip(record.operands, record.grads):
                if grad is not None and parent is not None:  # stored in the operand's format
                    self._step_counts.append((np.size(grad), _bits(parent.format),
                                              _bits(self._start_format_of(parent))))

    def _start_format_of(self, tensor):
        entry = self._start_of.get(id(tensor))
        if entry is not None and entry[0]() is tensor:
            return entry[1]
        return tensor.format  # a parameter or an input: the same under both

    def _start_output(self, record):
        """The format the op's output would have had under the starting policy."""
        inputs = [self._start_format_of(t) for t in record.operands if t is not None]
        if record.op_class is None:
            if record.op == "cast" or not inputs:
                return record.output.format
            return widest(inputs)
        spec = self.start.pass_for(record.op_class, "forward", record.layer or None)
        if spec.input == PROMOTE:
            in_fmt = widest(inputs) if inputs else record.output.format
        else:
            in_fmt = get_format(spec.input)
        return in_fmt if spec.output == PROMOTE else get_format(spec.output)

    # --- the rules, after each step ----------------------------------------------------------
    def after_step(self, step: int) -> None:
        counts = self._step_counts
        self._step_counts = []
        self._start_of = {}
        if counts:
            n = np.array([c[0] for c in counts], dtype=np.float64)
            self.bits["values"] += float(n.sum())
            self.bits["actual"] += float(np.dot(n, [c[1] for c in counts]))
            self.bits["start"] += float(np.dot(n, [c[2] for c in counts]))
            self.bits["fp32"] += float(n.sum()) * 32
        recorded, frame = self.monitor.last_step()
        if recorded != step or frame is None:
            return
        errors = self._shadow_errors(step)
        for layer, phase, underflow, overflow, what in self._rates(frame):
            self._consider(step, layer, phase, underflow, overflow,
                           errors.get((layer, phase), 0.0), what)

    def _shadow_errors(self, step) -> dict:
        """(layer, phase) -> the largest float64-shadow rel_error this step of the layer's
        matmul output (forward) or weight gradient (backward); empty without a shadow."""
        errors = {}
        if self.shadow is None:
            return errors
        for _, layer, tensor, kind, op, _, value in self.shadow.step_rows(step):
            if op not in ("linear", "matmul", "conv2d") or not np.isfinite(value):
                continue
            if kind == "activation":
                key = (layer, "forward")
            elif kind == "grad" and tensor in ("weight", "bias"):
                key = (layer, "backward")
            else:
                continue
            errors[key] = max(errors.get(key, 0.0), float(value))
        return errors

    def _rates(self, frame):
        """(layer, phase, worst underflow_frac, worst overflow + saturated fraction, what) for
        every layer with matmul tensors: backward from its gradients, forward from its matmul
        outputs."""
        frame = frame[frame["layer"] != ""]
        for column in ("overflow_frac", "saturated_frac", "underflow_frac"):
            if column not in frame:
                frame = frame.assign(**{column: np.nan})
        rates = frame.assign(over=frame[["overflow_frac", "saturated_frac"]].max(axis=1))
        for layer, group in rates.groupby("layer", sort=True):
            grads = group[group["kind"].isin(_GRADS)]
            acts = group[(group["kind"] == "activation")
                         & group["tensor"].str.split("#").str[0].isin(["linear", "conv2d",
                                                                        "matmul"])]
            for phase, part, what in (("backward", grads, "gradients"),
                                      ("forward", acts, "matmul outputs")):
                if part.empty:
                    continue
                yield (layer, phase, float(np.nanmax(part["underflow_frac"].fillna(0))),
                       float(np.nanmax(part["over"].fillna(0))), what)

    def _consider(self, step, layer, phase, underflow, overflow, error, what) -> None:
        s = self.settings
        key = (layer, phase)
        if key in self.blocked:
            return
        current = self.policy.pass_for("matmul", phase, layer)
        if key in self.pending:  # the step after a promotion: did it help?
            problem, before, source = self.pending.pop(key)
            after = {"overflow": overflow, "underflow": underflow,
                     "shadow_error": error}[problem]
            if after > before / 2:
                stat = "shadow rel_error" if problem == "shadow_error" else f"{problem}_frac"
                self._revert(step, layer, phase, current, source,
                             f"{what} {stat} {before:.3g} -> {after:.3g} after the "
                             "promotion: this pass is not where it is lost")
                self.blocked.add(key)
                return
        problem = None
        if overflow > s.overflow:
            problem, rate, limit, stat = "overflow", overflow, s.overflow, "overflow_frac"
        elif underflow > s.underflow:
            problem, rate, limit, stat = "underflow", underflow, s.underflow, "underflow_frac"
        elif error > s.shadow_error:
            problem, rate, limit, stat = ("shadow_error", error, s.shadow_error,
                                          "shadow rel_error")
        if problem is not None:
            self.safe[key] = 0
            source = self._input_format(current, phase)
            need = "precision" if problem == "shadow_error" else "range"
            if self._promote(step, layer, phase, current, f"{what} {stat} {rate:.3g} > {limit:g}",
                             need):
                self.pending[key] = (problem, rate, source)
            return
        if key not in self._promoted():
            return
        if (overflow <= s.overflow / 2 and underflow <= s.underflow / 2
                and error <= s.shadow_error / 2):
            self.safe[key] = self.safe.get(key, 0) + 1
            if self.safe[key] >= s.patience:
                self.safe[key] = 0
                self._demote(step, layer, phase, current,
                             f"safe for {s.patience} recorded steps")
        else:
            self.safe[key] = 0

    def _promoted(self):
        return {(layer, phase) for layer, override in self.policy.layers.items()
                for phase, table in override.items() if "matmul" in table}

    def _input_format(self, spec, phase):
        return input_format(spec, self.start, phase)

    def _promote(self, step, layer, phase, current, reason, need="range") -> bool:
        source = self._input_format(current, phase)
        target = wider(source, need)
        if target is None:
            return False  # nothing wider: nothing to switch
        self.policy = self.policy.with_layer_pass(layer, phase, "matmul",
                                                  _pass_in(target, current))
        self.switches.append((step, layer, "matmul", phase, source, target, reason))
        return True

    def _revert(self, step, layer, phase, current, source, reason) -> None:
        """Back to the format before the last promotion."""
        start = self.start.pass_for("matmul", phase)
        if source == self._input_format(start, phase):
            self.policy = self.policy.with_layer_pass(layer, phase, "matmul", None)
        else:
            self.policy = self.policy.with_layer_pass(layer, phase, "matmul",
                                                      _pass_in(source, start))
        self.switches.append((step, layer, "matmul", phase, self._input_format(current, phase),
                              source, reason))

    def _demote(self, step, layer, phase, current, reason) -> None:
        source = self._input_format(current, phase)
        start = self.start.pass_for("matmul", phase)
        start_fmt = self._input_format(start, phase)
        back = start_fmt
        fmt = start_fmt
        for _ in range(8):  # one step back towards the starting format, on either ladder
            ups = {wider(fmt, "range"), wider(fmt, "precision")}
            if source in ups or ups == {None}:
                back = fmt
                break
            fmt = wider(fmt, "range") or wider(fmt, "precision")
        if back == start_fmt:
            self.policy = self.policy.with_layer_pass(layer, phase, "matmul", None)
        else:
            self.policy = self.policy.with_layer_pass(layer, phase, "matmul",
                                                      _pass_in(back, start))
        self.switches.append((step, layer, "matmul", phase, source, back, reason))

    # --- results -------------------------------------------------------------------------------
    def switch_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.switches, columns=SWITCH_COLUMNS)

    def storage(self) -> dict:
        """Mean bits per stored value over the run: actual, under the starting policy, fp32."""
        n = self.bits["values"]
        if not n:
            return {"mean_bits": None, "mean_bits_start": None, "mean_bits_fp32": None,
                    "stored_values": 0}
        return {"mean_bits": self.bits["actual"] / n, "mean_bits_start": self.bits["start"] / n,
                "mean_bits_fp32": self.bits["fp32"] / n, "stored_values": int(n)}

    def save(self, directory) -> str:
        import os
        path = os.path.join(os.fspath(directory), "precision_switches.parquet")
        atomic_write(path, lambda tmp: self.switch_table().to_parquet(tmp, index=False))
        return path

    def state_dict(self) -> dict:
        return {"policy_layers": {layer: {phase: dict(t) for phase, t in o.items()}
                                  for layer, o in self.policy.layers.items()},
                "safe": dict(self.safe), "switches": list(self.switches),
                "pending": dict(self.pending), "blocked": sorted(self.blocked),
                "bits": dict(self.bits), "settings": asdict(self.settings)}

    def load_state_dict(self, state: dict) -> None:
        self.policy = self.start.replace(layers=state["policy_layers"])
        self.safe = dict(state["safe"])
        self.switches = [tuple(s) for s in state["switches"]]
        self.pending = dict(state["pending"])
        self.blocked = {tuple(b) for b in state["blocked"]}
        self.bits = dict(state["bits"])


def _pass_in(fmt, like) -> Pass:
    """Pass `like` with its inputs in `fmt` (its accumulation and output at least as wide)."""
    return Pass(fmt, _wider_or(like.acc, fmt), _wider_or(like.output, fmt), order=like.order,
                block=like.block, fused_terms=like.fused_terms, fused_width=like.fused_width)


def _wider_or(fmt, target):
    """A pass's accumulation or output format after its input went to `target`: kept when it
    already holds the target (fp32 accumulation of an fp16 matmul), else the target."""
    if fmt in (None, "promote"):
        return fmt if fmt is not None else target
    from ..policy.casting import contains
    return fmt if contains(get_format(fmt), get_format(target)) else target


__all__ = ["PrecisionAdjuster", "AdjustSettings", "SWITCH_COLUMNS"]
