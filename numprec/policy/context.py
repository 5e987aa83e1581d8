"""The policy ops run under right now (a context variable: per thread and per async task)."""
from __future__ import annotations

import contextlib
import contextvars

from .policy import NATIVE, Policy

_policy = contextvars.ContextVar("numprec_policy", default=NATIVE)


def current_policy() -> Policy:
    """The active policy (NATIVE outside any using_policy / numprec.amp.autocast block)."""
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
