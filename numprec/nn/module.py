"""Module and Parameter: containers of parameters and sub-modules (PyTorch-shaped)."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..policy.casting import round_to
from ..autodiff.context import in_layer, inside_named_layer
from ..autodiff.observe import observing
from ..autodiff.tensor import Tensor
from ..formats import get_format
from ..policy.context import current_policy


def name_layers(model) -> "Module":
    """Name every module of `model` by its path (`fc1`, `block.0.attn`; the model itself "") so
    that the ops it runs are attributed to it: a policy's per-layer passes need the names (a
    monitor gives them for as long as it watches). Returns the model."""
    for name, module in model.named_modules():
        module.__dict__["_layer"] = name
    return model


class Parameter(Tensor):
    """A Tensor that a Module registers as learnable (requires_grad by default)."""

    def __init__(self, data, requires_grad: bool = True, format=None):
        super().__init__(data, requires_grad=requires_grad, format=format)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


class Module:
    """Base class: assign Parameters and Modules as attributes; override forward()."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called "
                                 f"(call super().__init__() first in {type(self).__name__})")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        for table in ("_parameters", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        # named modules (`_layer`: name_layers, or an observer) attribute the ops inside to
        # themselves, for observers and for a policy's per-layer passes
        layer = self.__dict__.get("_layer")
        per_layer = current_policy().layers
        if layer is None:
            # a model with parameters must be named for its layers' passes to apply (a loss
            # module outside the model runs in no layer, which is right)
            if (per_layer and not inside_named_layer()
                    and next(iter(self.parameters()), None) is not None):
                raise ValueError(
                    f"the policy {current_policy().name!r} has per-layer passes (for "
                    f"{', '.join(sorted(per_layer))}) but this model's layers have no names: "
                    "call numprec.nn.name_layers(model) first")
            return self.forward(*args, **kwargs)
        if not (per_layer or observing()):
            return self.forward(*args, **kwargs)
        with in_layer(layer):
            return self.forward(*args, **kwargs)

    # --- traversal -----------------------------------------------------------------------------
    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (module for _, module in self.named_modules())

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self, prefix: str = ""):
        seen = set()
        for path, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{path}.{name}" if path else name), param

    def parameters(self):
        return (param for _, param in self.named_parameters())

    # --- state ---------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter's values (float64 arrays), by dotted name."""
        return OrderedDict((name, param.data.copy()) for name, param in self.named_parameters())

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Load values into the parameters (rounded to each parameter's format)."""
        own = dict(self.named_parameters())
        if strict:
            missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
            if missing or unexpected:
                raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                               f"{unexpected}")
        for name, values in state.items():
            if name not in own:
                continue
            values = np.asarray(values.data if isinstance(values, Tensor) else values, float)
            if values.shape != own[name].shape:
                raise ValueError(f"load_state_dict: {name} has shape {values.shape}, the "
                                 f"parameter has shape {own[name].shape}")
            own[name].data = round_to(values.copy(), own[name].format)

    def train(self, mode: bool = True) -> "Module":
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None

    def to(self, fmt) -> "Module":
        """Store every parameter (and gradient) in `fmt`, rounding to nearest even."""
        fmt = get_format(fmt)
        for param in self.parameters():
            param.data = round_to(param.data, fmt)
            if param.grad is not None:
                param.grad = round_to(param.grad, fmt)
            param.format = fmt
        return self

    def float(self) -> "Module":
        return self.to("fp32")

    def half(self) -> "Module":
        return self.to("fp16")

    def bfloat16(self) -> "Module":
        return self.to("bf16")

    def double(self) -> "Module":
        return self.to("fp64")

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + (")" if not lines else "\n" + "\n".join(lines) + "\n)")


class Sequential(Module):
    """Modules applied in order."""

    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes Modules, got {type(module).__name__} at "
                                f"position {index}")
            setattr(self, str(index), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __iter__(self):
        return iter(self._modules.values())
