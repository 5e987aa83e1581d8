"""Backend selection: which kernel set ("cpu" or "gpu") an op runs on."""
from __future__ import annotations

import importlib
import os

BACKENDS = ("cpu", "gpu")
_default = None


def _check(name) -> str:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)}")
    return name


def set_backend(name: str) -> None:
    """Set the process-wide default backend (overrides NUMPREC_BACKEND)."""
    global _default
    _default = _check(name)


def get_backend() -> str:
    if _default is not None:
        return _default
    raw = _environment_value()
    named = _FROM_ENVIRONMENT.get(raw)
    if named is None:  # (every op asks: each value of the variable is checked once)
        text = os.fsdecode(raw) if isinstance(raw, bytes) else raw
        named = _FROM_ENVIRONMENT[raw] = _check((text or "cpu").strip().lower() or "cpu")
    return named


_FROM_ENVIRONMENT = {}  # a value of NUMPREC_BACKEND (None: unset) -> the backend it names
# os.environ's own dict of encoded names and values on POSIX, read directly: its Mapping.get
# costs more than a small op's rounding
_ENVIRON = getattr(os.environ, "_data", None) if os.name == "posix" else None


def _environment_value():
    """NUMPREC_BACKEND as it is now (bytes on POSIX), or None where it is unset."""
    if isinstance(_ENVIRON, dict):
        return _ENVIRON.get(b"NUMPREC_BACKEND")
    return os.environ.get("NUMPREC_BACKEND")


def kernels(backend=None):
    """The kernel set of a backend (numprec.kernels.<name>.kernel_set()): a namespace of the
    array entry points numprec.kernels.ENTRY_POINTS, with one signature on every backend. The
    GPU's raises a clear error where neither a GPU nor the CUDA simulator is usable. A target's
    kernels are imported on first use."""
    name = _check(backend) if backend is not None else get_backend()
    kernel_set = _KERNEL_SETS.get(name)
    if kernel_set is None:  # (the GPU's is not kept: whether it can run may change)
        kernel_set = importlib.import_module(f"numprec.kernels.{name}").kernel_set()
        if name == "cpu":
            _KERNEL_SETS[name] = kernel_set
    return kernel_set


_KERNEL_SETS = {}  # backend name -> its kernel set, once made (every op of every step asks)


def entry_point(kernels, name):
    """The kernel set's entry point `name`, or a clear error if that backend lacks it (a target
    under construction may not have every entry point yet)."""
    function = getattr(kernels, name, None)
    if function is None:
        raise NotImplementedError(f"backend {kernels.name!r} has no {name} kernel; use "
                                  "backend='cpu'")
    return function
