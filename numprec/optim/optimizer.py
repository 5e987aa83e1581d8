"""Optimizer base: parameter groups, storage formats, and the rounded weight update.

Each update is a fused-kernel model: the new state and weight are computed in float64 from the
stored (rounded) values and rounded once each to their storage format, with the policy's
`update_mode` (so rne and sr updates, and update stagnation, can be compared). Without a policy a
parameter is stored in its own format, its state too, and rounding is rne (PyTorch's behaviour).
With a policy, parameters are moved to its `master` format and state kept in `optimizer_state`.
"""
from __future__ import annotations

import numpy as np

from ..policy import Policy
from ..policy.casting import counting, round_to
from ..autodiff.observe import StateRecord, WeightRecord, notify, observing, step_ended
from ..autodiff.tensor import Tensor
from ..ops.flags import Flags
from ..formats import get_format


class Optimizer:
    def __init__(self, params, defaults: dict, policy: Policy | None = None):
        if policy is not None and not isinstance(policy, Policy):
            raise TypeError(f"policy must be a numprec Policy (numprec.amp.get_policy(name) "
                            f"makes one from a name), got {type(policy).__name__}")
        self.policy = policy
        self.defaults = defaults
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups = []
        for group in groups:
            self.add_param_group(group)
        self.state = {}
        self.step_count = 0
        self.masks = {}  # param -> boolean mask (True: kept): pruned weights stay zero

    def add_param_group(self, group: dict) -> None:
        params = list(group["params"])
        for param in params:
            if not isinstance(param, Tensor) or not param.is_leaf:
                raise TypeError(f"optimizers take leaf Tensors, got {type(param).__name__}")
            if self.policy is not None:
                master = get_format(self.policy.master)
                param.data = round_to(param.data, master)
                param.format = master
        unknown = sorted(set(group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(f"unknown optimizer option(s) {', '.join(unknown)}; valid: "
                             f"{', '.join(sorted(self.defaults))}")
        self.param_groups.append(dict(self.defaults, **dict(group, params=params)))

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none or param.grad is None:
                    param.grad = None
                else:
                    param.grad = np.zeros_like(param.grad)

    def set_mask(self, param, mask) -> None:
        """Keep `param` sparse: every stored update of it zeroes the weights where mask is False
        (numprec.quant.sparsity makes masks), and the weight is masked now. mask=None removes
        it."""
        if not any(param is p for g in self.param_groups for p in g["params"]):
            raise ValueError("set_mask: the tensor is not a parameter of this optimizer")
        if mask is None:
            self.masks.pop(param, None)
            return
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != np.shape(param.data):
            raise ValueError(f"set_mask: the mask must be a boolean array of the parameter's "
                             f"shape {np.shape(param.data)}, got {mask.dtype} {mask.shape}")
        self.masks[param] = mask.copy()
        param.data = np.where(mask, param.data, 0.0)  # +0.0: exact in every format

    def step(self, closure=None):
        """One update of every parameter that has a gradient."""
        loss = closure() if closure is not None else None
        self.step_count += 1
        # inf and NaN gradients (a run without loss scaling that overflowed) are results here:
        # the update carries them into the stored values, whose roundings count them
        with np.errstate(all="ignore"):
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        self._update(param, np.asarray(param.grad, dtype=np.float64), group,
                                     self.state.setdefault(param, {}))
        step_ended(self, skipped=False)
        return loss

    def _update(self, param, grad, group, state) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    # --- storage -------------------------------------------------------------------------------
    @property
    def _mode(self) -> str:
        return "rne" if self.policy is None else self.policy.update_mode

    def _seed(self) -> int:
        return 0 if self.policy is None else self.policy.seed

    def store_state(self, values: np.ndarray, param, name: str = "state") -> np.ndarray:
        """values rounded to the optimizer-state format (name: the state's key, for observers)."""
        fmt = param.format if self.policy is None else get_format(self.policy.optimizer_state)
        if not observing():
            return round_to(values, fmt, self._mode, self._seed())
        flags = Flags()
        with counting(flags):
            stored = round_to(values, fmt, self._mode, self._seed())
        notify(StateRecord(param, name, np.asarray(values, dtype=np.float64), stored, fmt, flags))
        return stored

    def store_weight(self, param, values: np.ndarray) -> None:
        """The updated weight (float64 values) rounded once to the parameter's format (pruned
        weights, where a mask is set, stored as zero)."""
        mask = self.masks.get(param) if self.masks else None
        if mask is not None:
            values = np.where(mask, values, 0.0)
        if not observing():
            param.data = round_to(values, param.format, self._mode, self._seed())
            return
        old, flags = param.data, Flags()
        with counting(flags):
            param.data = round_to(values, param.format, self._mode, self._seed())
        notify(WeightRecord(param, old, np.asarray(values, dtype=np.float64), param.data, flags))

    def state_dict(self) -> dict:
        index = {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}
        return {"state": {index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                         for k, v in s.items()} for p, s in self.state.items()},
                "param_groups": [{k: v for k, v in g.items() if k != "params"}
                                 for g in self.param_groups],
                "step_count": self.step_count,
                "masks": {index[id(p)]: m.copy() for p, m in self.masks.items()}}

    def load_state_dict(self, state: dict) -> None:
        params = [p for g in self.param_groups for p in g["params"]]
        if len(state["param_groups"]) != len(self.param_groups):
            raise ValueError("load_state_dict: the number of parameter groups differs")
        for group, saved in zip(self.param_groups, state["param_groups"]):
            group.update(saved)
        self.state = {params[int(i)]: dict(s) for i, s in state["state"].items()}
        self.step_count = state.get("step_count", 0)
        self.masks = {params[int(i)]: np.asarray(m, dtype=np.bool_).copy()
                      for i, m in state.get("masks", {}).items()}
