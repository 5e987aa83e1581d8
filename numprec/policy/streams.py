"""The run's random streams: parameter initialisation, dropout masks, and one stochastic-rounding
stream per rounding.

`manual_seed(s)` makes a run reproducible: it resets the generator used for parameter
initialisation and dropout masks, and the counter that gives every stochastic rounding its own
seed (so two runs with the same seed and policy round identically): the n-th stochastic rounding
of a run is seeded by key_from_seed(policy seed ^ key_from_seed(run seed), n).
"""
from __future__ import annotations

import numpy as np

from ..kernels.scalar.rng import key_from_seed

_stream = {"seed": 0, "count": 0, "generator": np.random.default_rng(0)}


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


def streams_state() -> dict:
    """The state of every stream (for checkpoints): run seed, rounding counter, generator."""
    return {"seed": _stream["seed"], "count": _stream["count"],
            "generator": _stream["generator"].bit_generator.state}


def set_streams_state(state: dict) -> None:
    """Restore streams_state(): the run continues drawing exactly where it was."""
    generator = np.random.default_rng()
    generator.bit_generator.state = state["generator"]
    _stream.update(seed=int(state["seed"]), count=int(state["count"]), generator=generator)
