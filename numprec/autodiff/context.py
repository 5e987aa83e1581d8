"""Process state of the engine: the active policy, grad mode, and the seeded random streams.

`manual_seed(s)` makes a run reproducible: it resets the generator used for parameter
initialisation and dropout masks, and the counter that gives every stochastic rounding its own
seed (so two runs with the same seed and policy round identically).
"""
from __future__ import annotations

import contextlib
import contextvars
import threading

import numpy as np

from ..kernels.rng import key_from_seed
from .policy import NATIVE, Policy

_policy = contextvars.ContextVar("numprec_policy", default=NATIVE)
_local = threading.local()
_stream = {"seed": 0, "count": 0, "generator": np.random.default_rng(0)}


def current_policy() -> Policy:
    return _policy.get()


@contextlib.contextmanager
def using_policy(policy: Policy):
    """Run the enclosed ops under `policy` (numprec.amp.autocast is the public entry point)."""
    if not isinstance(policy, Policy):
        raise TypeError(f"using_policy takes a Policy, got {type(policy).__name__}")
    token = _policy.set(policy)
    try:
        yield policy
    finally:
        _policy.reset(token)


def is_grad_enabled() -> bool:
    return getattr(_local, "grad_enabled", True)


class no_grad(contextlib.ContextDecorator):
    """Ops inside record no graph (for evaluation and optimizer updates)."""

    def __enter__(self):
        self._previous = is_grad_enabled()
        _local.grad_enabled = False
        return self

    def __exit__(self, *exc):
        _local.grad_enabled = self._previous
        return False


class enable_grad(no_grad):
    """Re-enable graph recording inside a no_grad block."""

    def __enter__(self):
        self._previous = is_grad_enabled()
        _local.grad_enabled = True
        return self


def manual_seed(seed: int) -> None:
    """Seed parameter initialisation, dropout and stochastic rounding (reproducible runs)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an int in [0, 2**64), got {seed!r}")
    _stream["seed"] = int(seed)
    _stream["count"] = 0
    _stream["generator"] = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The generator behind parameter initialisation and dropout masks."""
    return _stream["generator"]


def next_rounding_seed(policy_seed: int) -> int:
    """A fresh seed for one stochastic rounding: a pure function of (policy seed, run seed,
    how many stochastic roundings came before)."""
    count = _stream["count"]
    _stream["count"] = count + 1
    return key_from_seed(policy_seed ^ key_from_seed(_stream["seed"]), stream=count)
