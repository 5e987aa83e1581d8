"""Monitor: per step and per tensor, what the emulated arithmetic did to a model's numbers.

The monitor is an observer of the engine (numprec.autodiff.observe): inside `with Monitor(...)`
every op counts its flags and events, and the monitor attributes them to a tensor of a layer:

- activation: an op's output, named by the op inside its layer (`linear`, `relu`, `relu#2` for
  the second relu of that layer in one step); the events of computing and rounding it, plus the
  events of casting it into each consumer's input format; the model's inputs are `input`;
- weight: a parameter as the ops used it (after the cast to their input format), with the
  events of that cast; master: the stored parameter after each update, with the events of
  storing it; update: the stored change (new - old) and `stagnation_frac`;
- grad / grad_scaled: a tensor's gradient; with a loss scaler whose scale is not 1 the
  backward pass computes scaled gradients (grad_scaled) and the unscaled parameter gradients are
  `grad`; the events of every backward rounding that produced it;
- state: each optimizer state tensor (`weight.exp_avg_sq`), with the events of storing it;
- run: loss, loss_scale (the scale this step used) and skipped; scale: the FP8 delayed-scaling
  scale and amax (`amax` of the window, `amax_last` of this step) of each scaled operand.

Forward ops run with gradients disabled (evaluation passes) are not recorded. The step advances
on every optimizer.step() (a step the scaler skipped included), or on `monitor.step()` where
there is no optimizer. `first_nonfinite` names the first op, layer and pass that produced a NaN
or inf on a recorded step, and why.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..autodiff import observe
from ..autodiff.context import is_grad_enabled
from ..formats import get_format
from .naming import OpNames, name_layers, parameter_names, unname_layers
from .nonfinite import backward_reason, forward_reason, update_reason
from .tables import exponent_table, tidy_table
from .stats import (_EVENT_IS_FRAC, _EVENT_SLOTS, EVENT_STATS, NCOUNTS, STAT_INDEX, STATS,
                    VALUE_STATS, StatsKernel, fill_event_rows, update_delta)
from .whatif import variants, whatif_names, whatif_vector

KINDS = ("weight", "activation", "grad", "grad_scaled", "update", "state", "master", "run",
         "scale")
RUN_STATS = ("loss", "loss_scale", "skipped")
SCALE_STATS = ("scale", "amax", "amax_last")

_N_VALUE, _N_EVENT = len(VALUE_STATS), len(EVENT_STATS)
_EVENT_START = _N_VALUE
_STAGNATION = STAT_INDEX["stagnation_frac"]
_NAN = float("nan")
_UNSEEN = object()  # a key the monitor has not met yet


def _check_step_bound(value, name):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"Monitor: {name} must be a non-negative int or None, got {value!r}")
    return value


class _Entry:
    """What one tensor (a key) collected in the current step: its row in the step's rows
    (flags and events), its size, the array its value statistics come from (the first one
    seen), the array its what-if statistics come from, stagnation. One per key, reused every
    step: `stamp` says which step its fields belong to."""

    __slots__ = ("index", "stamp", "row", "size", "values", "whatif", "stagnation", "counted",
                 "delta")

    def __init__(self, index):
        self.index = index
        self.stamp = -1
        self.delta = None  # an update's buffer for new - old, reused from step to step


class Monitor:
    """Record per-step, per-tensor statistics of a model's training (see the module docstring).

    model: a numprec.nn.Module (its modules name the layers, its parameters the weights);
    optimizer / scaler: the run's (the step, the optimizer state, the loss scale); every, start,
    end: record steps start, start + every, ... before end; include: a regex searched in
    `layer.tensor`; kinds: the kinds to record (default all); whatif: formats to evaluate every
    recorded tensor in, unscaled and per-tensor scaled.
    """

    def __init__(self, model, optimizer=None, scaler=None, every: int = 1, start=None,
                 end=None, include=None, kinds=None, whatif=()):
        if not hasattr(model, "named_modules") or not hasattr(model, "named_parameters"):
            raise TypeError(f"Monitor watches a numprec.nn.Module, got {type(model).__name__}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Monitor: every must be a positive int, got {every!r}")
        self.model, self.optimizer, self.scaler = model, optimizer, scaler
        self.every = every
        self.start, self.end = _check_step_bound(start, "start"), _check_step_bound(end, "end")
        try:
            self._include = None if include is None else re.compile(include)
        except (re.error, TypeError) as error:
            raise ValueError(f"Monitor: include must be a regular expression, got {include!r} "
                             f"({error})") from None
        if kinds is None:
            self.kinds = frozenset(KINDS)
        else:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            unknown = sorted(set(kinds) - set(KINDS))
            if unknown:
                raise ValueError(f"Monitor: unknown kind(s) {', '.join(map(repr, unknown))}; "
                                 f"valid: {', '.join(KINDS)}")
            self.kinds = frozenset(kinds)
        whatif = [whatif] if isinstance(whatif, str) else list(whatif or ())
        self.whatif = tuple(get_format(fmt) for fmt in whatif)  # unknown formats raise here
        self.stat_names = STATS + tuple(name for fmt in self.whatif
                                        for scaled in variants(fmt)
                                        for name in whatif_names(fmt, scaled))
        self._params = parameter_names(model)
        self._modules = list(model.named_modules())
        self.step_count = 0
        self._first = None
        self._inside = False
        self.active = False
        self._kernel = StatsKernel()
        self._keys = []  # (layer, tensor, kind) of each key index
        self._entries = {}  # (layer, tensor, kind) -> its _Entry, None: left out by the filters
        self._stamp = 0
        self._blocks = []  # per recorded step: (step, key indices, rows of stat values)
        self._hist_parts = []
        self._run_rows = []
        self._reset_step()

    # --- context -------------------------------------------------------------------------------
    def __enter__(self):
        self._named = name_layers(self._modules)
        self._inside = True
        self._update_active()
        observe.add_observer(self)
        return self

    def __exit__(self, *exc):
        if self._live or self._loss is not None:
            self._finish_step(skipped=False, partial=True)
        observe.remove_observer(self)
        self._inside = False
        self.active = False
        unname_layers(self._named)
        return False

    def recording(self, step: int) -> bool:
        """Whether step `step` is recorded (every / start / end)."""
        first = 0 if self.start is None else self.start
        return step >= first and (self.end is None or step < self.end) and (
            (step - first) % self.every == 0)

    def step(self) -> None:
        """End the current step by hand (loops without an optimizer)."""
        self._finish_step(skipped=False)

    def _update_active(self):
        self.active = self._inside and self.recording(self.step_count)

    # --- attribution ---------------------------------------------------------------------------
    def _reset_step(self):
        self._stamp += 1
        self._live = []  # the entries of this step, in the order first seen
        self._flag_rows, self._flag_counts = [], []
        self._sequence = []  # (pass, op, layer, tensor, array, reason, args) in engine order
        self._names = OpNames()
        self._loss = None
        self._step_grad_kind = None

    def _new_entry(self, key):
        """The entry of a key seen for the first time, or None when the filters leave it out."""
        layer, tensor, kind = key
        name = f"{layer}.{tensor}" if layer else tensor
        if kind not in self.kinds or (self._include is not None
                                      and self._include.search(name) is None):
            return None
        entry = _Entry(len(self._keys))
        self._keys.append(key)
        return entry

    # The two below run for every record an op sends (tens per step): one call each, the
    # lookup, the step's first use and the counting inline.
    def _note(self, layer, tensor, kind, flags, size, values=None, whatif=None):
        """Add to (layer, tensor, kind) this step: an op's Flags (None: nothing was rounded),
        the size of what it rounded, and `values` as the array of its value statistics unless
        it has one (whatif: the array its what-if statistics come from; default values).
        Nothing when the filters leave the key out."""
        key = (layer, tensor, kind)
        entry = self._entries.get(key, _UNSEEN)
        if entry is _UNSEEN:
            entry = self._entries[key] = self._new_entry(key)
        if entry is None:
            return
        if entry.stamp != self._stamp:  # its first record this step: it takes the next row
            entry.stamp, entry.row = self._stamp, len(self._live)
            entry.size = 0
            entry.values = entry.whatif = None
            entry.stagnation = _NAN
            self._live.append(entry)
        entry.counted = True
        if size > entry.size:
            entry.size = size
        if flags is not None:  # summed at the end of the step, in one compiled call
            self._flag_rows.append(entry.row)
            self._flag_counts.append(flags.all)
        if values is not None and entry.values is None:
            entry.values = values
            if self.whatif:
                entry.whatif = values if whatif is None else whatif

    def _note_update(self, layer, tensor, old, target, new):
        """The stored change new - old of a weight as the values of (layer, tensor, "update"),
        and its stagnation (nothing counted: storing it raised the master's events)."""
        key = (layer, tensor, "update")
        entry = self._entries.get(key, _UNSEEN)
        if entry is _UNSEEN:
            entry = self._entries[key] = self._new_entry(key)
        if entry is None:
            return
        if entry.stamp != self._stamp:
            entry.stamp, entry.row = self._stamp, len(self._live)
            entry.size, entry.counted = 0, False
            entry.values = entry.whatif = None
            self._live.append(entry)
        elif entry.values is not None:
            return
        # new - old into the entry's own buffer: a fresh weight-sized array every step cost
        # more than the subtraction (its values are read by this step's statistics only)
        delta = entry.delta
        if delta is None or delta.shape != new.shape:
            delta = entry.delta = np.empty(new.shape)
        entry.values, entry.stagnation = update_delta(old, target, new, delta)
        if self.whatif:
            entry.whatif = target - old
        if new.size > entry.size:
            entry.size = new.size

    def _identity(self, tensor, layer):
        """(layer, tensor name) of a tensor: a parameter, a tagged op output, or an input."""
        found = self._params.get(id(tensor))
        return found if found is not None else self._names.identity(tensor, layer)

    @property
    def _grad_kind(self):
        """grad_scaled while a loss scaler scales the backward pass by a scale other than 1
        (the scale holds still from scale() to update(): computed once per step)."""
        kind = self._step_grad_kind
        if kind is None:
            kind = self._step_grad_kind = self._find_grad_kind()
        return kind

    def _find_grad_kind(self):
        scaler = self.scaler
        if scaler is None or not getattr(scaler, "is_enabled", lambda: True)():
            return "grad"
        try:
            return "grad" if scaler.get_scale() == 1.0 else "grad_scaled"
        except (RuntimeError, TypeError):
            return "grad"

    # --- records -------------------------------------------------------------------------------
    def notify(self, record):
        handler = _HANDLERS.get(type(record))
        if handler is not None:
            handler(self, record)

    def _on_forward(self, rec):
        if not is_grad_enabled():
            return
        out = rec.output
        data = out.data
        if rec.op_class == "loss" and data.size == 1:
            self._loss = float(data.reshape(-1)[0])
        layer = rec.layer
        params = self._params
        for operand, value, fmt, flags in zip(rec.operands, rec.inputs, rec.input_formats,
                                              rec.cast_flags):
            if operand is None:
                continue
            param = params.get(id(operand))
            if param is not None:
                self._note(param[0], param[1], "weight", flags if fmt is not None else None,
                           np.size(value), value, operand.data)
            elif fmt is not None:
                owner_layer, name = self._names.identity(operand, layer)
                self._note(owner_layer, name, "activation", flags, np.size(value),
                           value if name == "input" else None)
        if rec.op_class is None and rec.op != "cast":
            # data movement (reshape, transpose, ...): the output is its input's values
            source = next((t for t in rec.operands if t is not None), None)
            if source is not None:
                self._names.tag(out, *self._identity(source, layer))
            return
        name = self._names.next_name(layer, rec.op)
        self._names.tag(out, layer, name)
        self._note(layer, name, "activation", rec.flags, data.size, data, rec.exact)
        if self._first is None:
            self._sequence.append(("forward", rec.op, layer, name, data, forward_reason,
                                   (rec,)))

    def _on_backward(self, rec):
        kind = self._grad_kind
        if rec.grad_flags is not None and rec.output is not None:
            owner_layer, name = self._identity(rec.output, rec.layer)
            self._note(owner_layer, name, kind, rec.grad_flags, np.size(rec.grad))
        for parent, grad, flags in zip(rec.operands, rec.grads, rec.flags):
            if grad is None:
                continue
            owner_layer, name = self._identity(parent, rec.layer)
            self._note(owner_layer, name, kind, flags, grad.size)
            if self._first is None:
                self._sequence.append(("backward", rec.op, owner_layer, name, grad,
                                       backward_reason, (rec, grad, flags)))

    def _on_grad(self, rec):
        owner_layer, name = self._identity(rec.tensor, "")
        self._note(owner_layer, name, self._grad_kind, rec.flags, rec.grad.size, rec.grad)

    def _on_unscale(self, rec):
        if self._grad_kind == "grad":
            return
        layer, name = self._identity(rec.param, "")
        self._note(layer, name, "grad", rec.flags, rec.grad.size, rec.grad)

    def _on_weight(self, rec):
        layer, name = self._identity(rec.param, "")
        new, target = rec.new, rec.target
        self._note(layer, name, "master", rec.flags, new.size, new, target)
        self._note_update(layer, name, rec.old, target, new)
        if self._first is None:
            self._sequence.append(("update", "store_weight", layer, name, new, update_reason,
                                   (target, new, rec.param.format, "weight")))

    def _on_state(self, rec):
        layer, pname = self._identity(rec.param, "")
        name = f"{pname}.{rec.name}"
        self._note(layer, name, "state", rec.flags, rec.new.size, rec.new, rec.target)
        if self._first is None:
            self._sequence.append(("update", "store_state", layer, name, rec.new, update_reason,
                                   (rec.target, rec.new, rec.fmt, rec.name)))

    def _on_step(self, rec):
        if self.optimizer is not None and rec.optimizer is not self.optimizer:
            return
        self._finish_step(rec.skipped)

    def _locate_nonfinite(self, sequence, step):
        """The first op of a step (engine order) whose result holds a NaN or inf."""
        for phase, op, layer, tensor, array, reason, args in sequence or ():
            if not np.all(np.isfinite(array)):
                self._first = {"step": step, "pass": phase, "op": op, "layer": layer,
                               "tensor": tensor, "reason": reason(*args)}
                return

    @property
    def first_nonfinite(self):
        """The first op, layer and pass that produced a NaN or inf on a recorded step (step,
        pass, op, layer, tensor, reason), or None."""
        return self._first

    @first_nonfinite.setter
    def first_nonfinite(self, value):
        self._first = value

    # --- per-step rows -------------------------------------------------------------------------
    def _finish_step(self, skipped: bool, partial: bool = False):
        step = self.step_count
        if self.active:
            self._emit(step, skipped)
            # a NaN or inf shows in a value statistic (_emit), a skipped step, a bad loss or a
            # step cut short
            if self._first is None and (skipped or partial or (
                    self._loss is not None and not np.isfinite(self._loss))):
                self._locate_nonfinite(self._sequence, step)
        self._reset_step()
        if not partial:
            self.step_count += 1
            self._update_active()

    def _emit(self, step, skipped) -> None:
        """Append this step's rows: events (summed from the kernels' counts in one compiled
        call), stagnation, what-if, and the value statistics and exponent histograms of every
        recorded array in one compiled pass (shared out among numba's threads)."""
        entries = self._live
        if entries:
            rows = np.full((len(entries), len(self.stat_names)), np.nan)
            with_values = [e.row for e in entries if e.values is not None]  # row j is entry j
            fill_event_rows(rows, _EVENT_START, np.array(self._flag_rows, dtype=np.int64),
                            np.array(self._flag_counts, dtype=np.int64).reshape(-1, NCOUNTS),
                            np.array([e.size for e in entries], dtype=np.float64),
                            np.array([e.counted for e in entries], dtype=np.bool_),
                            _EVENT_SLOTS, _EVENT_IS_FRAC)
            rows[:, _STAGNATION] = [e.stagnation for e in entries]
            if self.whatif:
                for j in with_values:
                    rows[j, len(STATS):] = whatif_vector(entries[j].whatif, self.whatif)
            keys = np.array([e.index for e in entries], dtype=np.int64)
            stats = self._kernel.batch([entries[j].values for j in with_values], rows,
                                       with_values)  # the value statistics into rows
            self._blocks.append((step, keys, rows))
            if stats.segments.size:
                self._hist_parts.append((step, keys[with_values][stats.segments],
                                         stats.exponents, stats.counts))
            if self._first is None and stats.nonfinite:
                self._locate_nonfinite(self._sequence, step)
        if "run" in self.kinds:
            loss = np.nan if self._loss is None else self._loss  # NaN: the loss was NaN
            self._run_rows.append((step, "", "", "run", "loss", loss))
            if self.scaler is not None:  # no scaler, no loss_scale rows
                try:
                    scale = float(self.scaler.get_scale())
                except (RuntimeError, TypeError):
                    scale = np.nan
                self._run_rows.append((step, "", "", "run", "loss_scale", scale))
            self._run_rows.append((step, "", "", "run", "skipped", float(skipped)))
        if "scale" in self.kinds:
            for name, module in self._modules:
                for (role, fmt), state in getattr(module, "fp8_states", {}).items():
                    tensor = f"{role}.{fmt}"
                    if self._include is not None and not self._include.search(
                            f"{name}.{tensor}" if name else tensor):
                        continue
                    last = state.history[-1] if state.history else np.nan
                    for stat, value in zip(SCALE_STATS, (state.scale, state.amax, last)):
                        self._run_rows.append((step, name, tensor, "scale", stat, float(value)))

    # --- results -------------------------------------------------------------------------------
    def last_step(self):
        """(step, frame) of the most recently recorded step: one row per tensor (layer, tensor,
        kind) and one column per statistic (NaN: undefined), or (None, None) before any."""
        if not self._blocks:
            return None, None
        step, keys, rows = self._blocks[-1]
        frame = pd.DataFrame(rows, columns=list(self.stat_names))
        frame.insert(0, "kind", [self._keys[k][2] for k in keys])
        frame.insert(0, "tensor", [self._keys[k][1] for k in keys])
        frame.insert(0, "layer", [self._keys[k][0] for k in keys])
        return step, frame

    def table(self) -> pd.DataFrame:
        """The tidy frame: step, layer, tensor, kind, stat, value (undefined stats left out)."""
        return tidy_table(self._keys, self.stat_names, self._blocks, self._run_rows)

    def histograms(self) -> pd.DataFrame:
        """Exponent histograms: step, layer, tensor, kind, exponent (floor(log2|x|)), count."""
        return exponent_table(self._keys, self._hist_parts)

    def save(self, directory, tensorboard: bool = False) -> list:
        """Write tensors.parquet and exponents.parquet (atomically) into directory, and with
        tensorboard=True a TensorBoard event file under directory/tensorboard; returns the
        paths written."""
        from .files import write_monitor_files
        return write_monitor_files(self, directory, tensorboard)

    # --- resuming ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything recorded so far and the step counter (for checkpoints)."""
        return {"step_count": self.step_count, "first_nonfinite": self._first,
                "stat_names": list(self.stat_names), "keys": list(self._keys),
                "blocks": [(s, k.copy(), r.copy()) for s, k, r in self._blocks],
                "hist_parts": [(s, k.copy(), e.copy(), c.copy())
                               for s, k, e, c in self._hist_parts],
                "run_rows": list(self._run_rows)}

    def load_state_dict(self, state: dict) -> None:
        if list(state["stat_names"]) != list(self.stat_names):
            raise ValueError("Monitor.load_state_dict: the saved monitor recorded other "
                             "statistics (different whatif formats)")
        self.step_count = int(state["step_count"])
        self._first = state["first_nonfinite"]
        self._keys = [tuple(k) for k in state["keys"]]
        self._entries = {k: _Entry(i) for i, k in enumerate(self._keys)}
        self._blocks = [(int(s), np.asarray(k, dtype=np.int64), np.asarray(r, dtype=np.float64))
                        for s, k, r in state["blocks"]]
        self._hist_parts = [(int(s), np.asarray(k, dtype=np.int64), np.asarray(e, np.int64),
                             np.asarray(c, np.int64)) for s, k, e, c in state["hist_parts"]]
        self._run_rows = [tuple(r) for r in state["run_rows"]]
        self._reset_step()
        self._update_active()


_HANDLERS = {observe.ForwardRecord: Monitor._on_forward,
             observe.BackwardRecord: Monitor._on_backward,
             observe.GradRecord: Monitor._on_grad,
             observe.UnscaleRecord: Monitor._on_unscale,
             observe.WeightRecord: Monitor._on_weight,
             observe.StateRecord: Monitor._on_state,
             observe.StepRecord: Monitor._on_step}
