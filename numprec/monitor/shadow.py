"""The float64 shadow: where the emulated run's error enters and how it grows.

Two modes, both observers of the engine like the Monitor (and usable beside it):

- `re-anchored`: each op of the run is computed again in float64 on the run's own inputs
  (ForwardRecord.recompute, BackwardRecord.recompute) and each weight update against its exact
  float64 target: the relative error *that op adds* (cast of its inputs, accumulation, output
  rounding), independent of what came before.
- `free`: a float64 twin of the model (the same initial weights, the same optimizer and
  hyperparameters, no loss scaling) trains in lockstep on the same batches (`twin_step`, which
  the training loop calls after each step): the *accumulated* divergence of activations,
  gradients, weights and updates.

Rows: step, layer, tensor, kind (activation, grad, weight, update), op, stat ("rel_error"),
value = ||emulated - float64|| / ||float64|| over the finite elements (0 when both are 0; inf
when only the float64 reference is 0). Under the fp64 policy every error is exactly zero.
`ranking()` orders (layer, tensor, kind, op) by their mean error: where the error enters.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..amp import autocast, get_policy
from ..autodiff import Tensor, observe
from ..autodiff.context import is_grad_enabled
from ..formats import get_format
from .naming import OpNames, name_layers, parameter_names

SHADOW_MODES = ("re-anchored", "free")
SHADOW_COLUMNS = ["step", "layer", "tensor", "kind", "op", "stat", "value"]
SHADOW_FILE = "shadow.parquet"
_FP64 = get_format("fp64")


def rel_error(emulated, reference) -> float:
    """||emulated - reference|| / ||reference|| over the elements finite in both."""
    a = np.asarray(emulated, dtype=np.float64).reshape(-1)
    b = np.asarray(reference, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"shadow: shapes differ ({a.shape} against {b.shape})")
    keep = np.isfinite(a) & np.isfinite(b)
    if not keep.all():
        if not np.array_equal(np.isfinite(a), np.isfinite(b)):
            return float("inf")  # one of them is not finite where the other is
        a, b = a[keep], b[keep]
    diff = a - b
    num, den = float(np.sum(diff * diff)), float(np.sum(b * b))
    if num == 0.0:
        return 0.0
    return float(np.sqrt(num / den)) if den > 0.0 else float("inf")


class Shadow:
    """The float64 shadow of a run (see the module docstring)."""

    def __init__(self, model, optimizer=None, scaler=None, mode: str = "re-anchored",
                 every: int = 1):
        if mode not in SHADOW_MODES:
            raise ValueError(f"unknown shadow mode {mode!r}; valid: {', '.join(SHADOW_MODES)}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Shadow: every must be a positive int, got {every!r}")
        if mode == "free" and optimizer is None:
            raise ValueError("the free shadow trains a float64 twin: it needs the optimizer")
        self.model, self.optimizer, self.scaler = model, optimizer, scaler
        self.mode, self.every = mode, every
        self.step_count = 0
        self.active = False
        self._inside = False
        self._rows = []
        self._params = parameter_names(model)
        self._modules = list(model.named_modules())
        self._twin = self._twin_optimizer = None
        if mode == "free":
            self._make_twin()
        self._reset_step()

    # --- context -------------------------------------------------------------------------------
    def __enter__(self):
        name_layers(self._modules)
        self._inside = True
        self._update_active()
        observe.add_observer(self)
        return self

    def __exit__(self, *exc):
        observe.remove_observer(self)
        self._inside = self.active = False
        return False

    def _update_active(self):
        self.active = self._inside and self.step_count % self.every == 0

    def _reset_step(self):
        self._names = OpNames()
        self._outputs, self._grads, self._updates = {}, {}, {}

    def _row(self, layer, tensor, kind, op, value):
        self._rows.append((self.step_count, layer, tensor, kind, op, "rel_error", value))

    # --- records -------------------------------------------------------------------------------
    def notify(self, record):
        if isinstance(record, observe.StepRecord):
            if record.optimizer is self._twin_optimizer:
                return
            if self.optimizer is None or record.optimizer is self.optimizer:
                if self.mode == "re-anchored" or self._twin is None:
                    self._end_step()
            return
        if isinstance(record, observe.ForwardRecord):
            self._on_forward(record)
        elif isinstance(record, observe.BackwardRecord) and self.mode == "re-anchored":
            self._on_backward(record)
        elif isinstance(record, observe.UnscaleRecord):
            self._grads[id(record.param)] = record.grad
        elif isinstance(record, observe.GradRecord):
            if id(record.tensor) in self._params and self._grad_scale() == 1.0:
                self._grads[id(record.tensor)] = record.grad
        elif isinstance(record, observe.WeightRecord):
            self._on_weight(record)

    def _grad_scale(self) -> float:
        if self.scaler is None:
            return 1.0
        try:
            return float(self.scaler.get_scale()) if self.scaler.is_enabled() else 1.0
        except (RuntimeError, TypeError, AttributeError):
            return 1.0

    def _on_forward(self, rec):
        if not is_grad_enabled() or rec.op_class is None:
            return
        name = self._names.next_name(rec.layer, rec.op)  # named as the Monitor names them
        self._names.tag(rec.output, rec.layer, name)
        if self.mode == "re-anchored":
            reference = rec.recompute() if rec.recompute is not None else None
            if reference is not None:
                self._row(rec.layer, name, "activation", rec.op,
                          rel_error(rec.output.data, reference))
        else:
            self._outputs[(rec.layer, name)] = (rec.op, rec.output.data)

    def _on_backward(self, rec):
        if rec.recompute is None or rec.op_class is None:
            return
        for index, (parent, grad) in enumerate(zip(rec.operands, rec.grads)):
            if grad is None:
                continue
            reference = rec.recompute(index)
            if reference is None:
                continue
            layer, name = self._names.identity(parent, rec.layer, self._params)
            self._row(layer, name, "grad", rec.op, rel_error(grad, reference))

    def _on_weight(self, rec):
        layer, name = self._params.get(id(rec.param), ("", "?"))
        if self.mode == "re-anchored":
            target = np.asarray(rec.target, dtype=np.float64)
            self._row(layer, name, "weight", "update", rel_error(rec.new, target))
            self._row(layer, name, "update", "update",
                      rel_error(np.asarray(rec.new) - rec.old, target - rec.old))
        else:
            self._updates[id(rec.param)] = np.asarray(rec.new) - rec.old

    def _end_step(self):
        self._reset_step()
        self.step_count += 1
        self._update_active()

    # --- the free twin -------------------------------------------------------------------------
    def _make_twin(self):
        self._twin = copy.deepcopy(self.model)
        for param in self._twin.parameters():
            param.format = _FP64
        self._twin_params = dict(zip((id(p) for p in self.model.parameters()),
                                     self._twin.parameters()))
        # the same optimizer and hyperparameters, on the twin's parameters, storing in their
        # own format (float64) with rne: nothing is rounded
        twin_opt = copy.copy(self.optimizer)
        twin_opt.policy = None
        twin_opt.defaults = dict(self.optimizer.defaults)
        twin_opt.param_groups = [dict(group, params=[self._twin_params[id(p)]
                                                     for p in group["params"]])
                                 for group in self.optimizer.param_groups]
        twin_opt.state = {self._twin_params[id(p)]: copy.deepcopy(state)
                          for p, state in self.optimizer.state.items()}
        self._twin_optimizer = twin_opt
        name_layers(self._twin.named_modules())

    def twin_step(self, x, y, loss_fn) -> None:
        """Train the float64 twin one step on the batch the run just used, and record how far
        the run's activations, gradients, weights and updates are from the twin's."""
        if self._twin is None:
            raise RuntimeError("twin_step is for the free shadow (mode='free')")
        if not self.active:
            self._twin_train(x, y, loss_fn, None)
            self._end_step()
            return
        twin = _TwinRecorder()
        self._twin_train(x, y, loss_fn, twin)
        for key, (op, emulated) in self._outputs.items():
            reference = twin.outputs.get(key)
            if reference is not None and np.shape(reference) == np.shape(emulated):
                self._row(key[0], key[1], "activation", op, rel_error(emulated, reference))
        for pid, (layer, name) in self._params.items():
            twin_param = self._twin_params[pid]
            param = next(p for p in self.model.parameters() if id(p) == pid)
            if pid in self._grads and twin_param.grad is not None:
                self._row(layer, name, "grad", "backward",
                          rel_error(self._grads[pid], twin_param.grad))
            self._row(layer, name, "weight", "update", rel_error(param.data, twin_param.data))
            if pid in self._updates and id(twin_param) in twin.updates:
                self._row(layer, name, "update", "update",
                          rel_error(self._updates[pid], twin.updates[id(twin_param)]))
        self._end_step()

    def _twin_train(self, x, y, loss_fn, recorder):
        recorder = recorder if recorder is not None else _TwinRecorder(active=False)
        with observe.exclusive(recorder):
            self._twin_optimizer.zero_grad()
            with autocast(get_policy("fp64")):
                loss = loss_fn(self._twin(Tensor(np.asarray(x, dtype=np.float64))), y)
            loss.backward()
            self._twin_optimizer.step()

    # --- results -------------------------------------------------------------------------------
    def step_rows(self, step: int) -> list:
        """The rows (SHADOW_COLUMNS) recorded at one step (the latest ones are at the end)."""
        rows = []
        for row in reversed(self._rows):
            if row[0] != step:
                if row[0] < step:
                    break
                continue
            rows.append(row)
        return rows[::-1]

    def table(self) -> pd.DataFrame:
        frame = pd.DataFrame(self._rows, columns=SHADOW_COLUMNS)
        return frame.astype({"step": "int64", "value": "float64"})

    def ranking(self) -> pd.DataFrame:
        """Where the error enters: mean and max relative error per (layer, tensor, kind, op),
        largest mean first."""
        return ranking(self.table())

    def save(self, directory) -> str:
        from .files import write_frame
        import os
        os.makedirs(directory, exist_ok=True)
        return write_frame(self.table(), os.path.join(directory, SHADOW_FILE))

    def state_dict(self) -> dict:
        state = {"mode": self.mode, "step_count": self.step_count, "rows": list(self._rows)}
        if self._twin is not None:
            state["twin"] = self._twin.state_dict()
            state["twin_optimizer"] = self._twin_optimizer.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        if state["mode"] != self.mode:
            raise ValueError(f"the saved shadow ran in mode {state['mode']!r}, not {self.mode!r}")
        self.step_count = int(state["step_count"])
        self._rows = [tuple(r) for r in state["rows"]]
        if self._twin is not None:
            self._twin.load_state_dict(state["twin"])
            self._twin_optimizer.load_state_dict(state["twin_optimizer"])
        self._update_active()


class _TwinRecorder:
    """Collects the twin's op outputs (named as the run's are) and updates while it trains."""

    def __init__(self, active: bool = True):
        self.active = active
        self.outputs, self.updates, self._names = {}, {}, OpNames()

    def notify(self, record):
        if isinstance(record, observe.ForwardRecord) and record.op_class is not None:
            name = self._names.next_name(record.layer, record.op)
            self.outputs[(record.layer, name)] = record.output.data
        elif isinstance(record, observe.WeightRecord):
            self.updates[id(record.param)] = np.asarray(record.new) - record.old


def ranking(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=["layer", "tensor", "kind", "op", "mean_rel_error",
                                     "max_rel_error", "steps"])
    grouped = table.groupby(["layer", "tensor", "kind", "op"], as_index=False).agg(
        mean_rel_error=("value", "mean"), max_rel_error=("value", "max"),
        steps=("step", "nunique"))
    return grouped.sort_values("mean_rel_error", ascending=False, kind="stable",
                               ignore_index=True)


__all__ = ["Shadow", "SHADOW_MODES", "SHADOW_COLUMNS", "SHADOW_FILE", "rel_error", "ranking"]
