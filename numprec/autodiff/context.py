"""Grad mode (whether ops record the graph: no_grad, enable_grad) and the layer ops belong to."""
from __future__ import annotations

import contextlib
import threading

_local = threading.local()


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


def current_layer() -> str:
    """Dotted name of the innermost named module running now ("" outside any)."""
    return getattr(_local, "layer", None) or ""


def inside_named_layer() -> bool:
    """Whether a named module is running (the root module is named "")."""
    return getattr(_local, "layer", None) is not None


class in_layer:
    """Ops inside are attributed to the named layer (numprec.nn.Module.__call__ enters one when
    an observer named the module)."""

    __slots__ = ("name", "_previous")

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self._previous = getattr(_local, "layer", None)
        _local.layer = self.name
        return self

    def __exit__(self, *exc):
        if self._previous is None:
            del _local.layer  # outside every named module again
        else:
            _local.layer = self._previous
        return False
