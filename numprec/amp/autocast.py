"""`autocast`: run the enclosed ops under a precision policy (PyTorch's autocast, generalised)."""
from __future__ import annotations

import contextlib

from ..policy import DEFAULT_AUTOCAST, NATIVE, current_policy, get_policy, using_policy

_DTYPE_PRESETS = {"fp16": "fp16-amp", "float16": "fp16-amp", "half": "fp16-amp",
                  "bf16": "bf16-amp", "bfloat16": "bf16-amp"}


class autocast(contextlib.ContextDecorator):
    """`with autocast(policy):` runs the ops inside under `policy` (a preset name such as
    "fp16-amp" (the default), "bf16-amp", "fp8-hybrid", a Policy, a dict or a TOML/JSON file).
    dtype="bf16" picks the matching autocast preset, as in torch.autocast; enabled=False runs
    the block in the tensors' own formats. Backward passes use the policy the forward ran under.
    """

    def __init__(self, policy=None, enabled: bool = True, *, dtype=None):
        if policy is not None and dtype is not None:
            raise ValueError("autocast: give a policy or a dtype, not both")
        if dtype is not None:
            key = str(dtype).lower()
            if key not in _DTYPE_PRESETS:
                raise ValueError(f"autocast: unsupported dtype {dtype!r}; valid: "
                                 f"{', '.join(_DTYPE_PRESETS)}")
            policy = _DTYPE_PRESETS[key]
        self.policy = get_policy(DEFAULT_AUTOCAST if policy is None else policy)
        self.enabled = bool(enabled)
        self._contexts = []

    def __enter__(self):
        context = using_policy(self.policy if self.enabled else NATIVE)
        self._contexts.append(context)
        return context.__enter__()

    def __exit__(self, *exc):
        return self._contexts.pop().__exit__(*exc)


def get_autocast_policy():
    """The policy ops run under right now."""
    return current_policy()
