"""Observers of a run: the engine reports what its arithmetic did, observers (numprec.monitor)
listen.

The engine never imports an observer. Code that wants to watch registers an object with a
`notify(record)` method and an `active` attribute (`add_observer`); while any registered
observer is active, every op counts its exception flags and events (numprec.policy.counting)
and reports one record per forward op, per gradient an op's backward produced, per finished
tensor gradient, per unscale, per stored weight and optimizer state; the end of every optimizer
step reaches every registered observer, active or not (`step_ended`). With no
active observer nothing is counted or built: `observing()` is one attribute read.

Records carry the engine's own arrays (not copies): an observer reads them in `notify` and must
not keep or modify them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .context import current_layer

_observers: list = []
_exclusive: list = []  # while set, only its last observer hears anything (exclusive())


def add_observer(observer) -> None:
    """Register an observer (an object with `notify(record)` and a boolean `active`)."""
    if not callable(getattr(observer, "notify", None)) or not hasattr(observer, "active"):
        raise TypeError("an observer needs a notify(record) method and an `active` attribute")
    if observer not in _observers:
        _observers.append(observer)


def remove_observer(observer) -> None:
    """Unregister an observer (no error when it was not registered)."""
    if observer in _observers:
        _observers.remove(observer)


def observing() -> bool:
    """True while a registered observer is active (the engine then counts and reports)."""
    if _exclusive:
        return bool(_exclusive[-1].active)
    for observer in _observers:
        if observer.active:
            return True
    return False


def step_ended(optimizer, skipped: bool) -> None:
    """An optimizer step ended: every registered observer hears it, active or not (an observer
    that records some steps counts them all)."""
    if _exclusive:
        _exclusive[-1].notify(StepRecord(optimizer, skipped))
    elif _observers:
        record = StepRecord(optimizer, skipped)
        for observer in tuple(_observers):
            observer.notify(record)


def notify(record) -> None:
    """Hand a record to every active observer."""
    if _exclusive:
        if _exclusive[-1].active:
            _exclusive[-1].notify(record)
        return
    for observer in tuple(_observers):
        if observer.active:
            observer.notify(record)


class exclusive:
    """Inside, only `observer` hears the engine (the float64 shadow's twin model trains beside
    the run without the run's monitors seeing it)."""

    def __init__(self, observer):
        self.observer = observer

    def __enter__(self):
        _exclusive.append(self.observer)
        return self.observer

    def __exit__(self, *exc):
        _exclusive.pop()
        return False


@dataclass(slots=True)
class ForwardRecord:
    """One op's forward pass. operands: the op's inputs (Tensor, or None for a constant);
    inputs: their values as the op computed with them (after the cast to the input format);
    input_formats: the format each input was cast to (None: not cast); cast_flags: the Flags of
    each cast (None where nothing was rounded); exact: the result before its final rounding
    (float64, or the accumulator's values); flags: everything rounded on the way from the cast
    inputs to the output (accumulation, arithmetic, final rounding); recompute(): the op again
    in float64 on the same operand values, nothing rounded (None for data movement)."""
    op: str
    op_class: str | None
    layer: str
    output: object
    operands: tuple
    inputs: tuple
    input_formats: tuple
    cast_flags: tuple
    exact: object
    flags: object
    recompute: object = None


@dataclass(slots=True)
class BackwardRecord:
    """One op's backward pass: `output` is the op's output tensor, `grad` its gradient after the
    cast to the backward input format (grad_flags: that cast's Flags); for each operand that
    needs a gradient, `grads[i]` is the gradient the op produced for it (rounded to the
    operand's format) and `flags[i]` what rounding it raised; None for the others.
    recompute(i): the rule for operand i again in float64 on the same incoming gradient, output
    and inputs (None for data movement)."""
    op: str
    op_class: str | None
    layer: str
    output: object
    grad: object
    grad_flags: object
    operands: tuple
    grads: tuple
    flags: tuple
    recompute: object = None


@dataclass(slots=True)
class GradRecord:
    """A tensor's gradient is complete (every consumer's contribution summed): `flags` counts
    the roundings of that sum (None when there was one contribution)."""
    tensor: object
    grad: object
    flags: object


@dataclass(slots=True)
class UnscaleRecord:
    """A loss scaler unscaled a parameter's gradient: `scaled` before, `grad` after."""
    param: object
    scaled: object
    grad: object
    flags: object


@dataclass(slots=True)
class WeightRecord:
    """An optimizer stored a parameter: `old` the stored values before, `target` the float64
    update result before rounding, `new` what was stored (in the parameter's format)."""
    param: object
    old: object
    target: object
    new: object
    flags: object


@dataclass(slots=True)
class StateRecord:
    """An optimizer stored one of a parameter's state tensors (`name`: exp_avg, ...)."""
    param: object
    name: str
    target: object
    new: object
    fmt: object
    flags: object


@dataclass(slots=True)
class StepRecord:
    """An optimizer step ended (skipped: a loss scaler found inf/NaN gradients and skipped it)."""
    optimizer: object
    skipped: bool


__all__ = ["add_observer", "remove_observer", "observing", "notify", "step_ended", "exclusive", "current_layer",
           "ForwardRecord", "BackwardRecord", "GradRecord", "UnscaleRecord", "WeightRecord",
           "StateRecord", "StepRecord"]
