"""How observers name what they see: layers by module path, parameters by (layer, name), op
outputs by the op's name in its layer, numbered when it repeats in a step (`relu`, `relu#2`)."""
from __future__ import annotations

import weakref


def parameter_names(model) -> dict:
    """id(parameter) -> (layer, name): `fc1.weight` is ("fc1", "weight"), a root one ("", name)."""
    return {id(param): tuple(name.rpartition(".")[::2])
            for name, param in model.named_parameters()}


def name_layers(modules) -> list:
    """Give each module its dotted name: the ops it runs are attributed to it. Returns the
    modules that had none (numprec.nn.name_layers names for good: those keep theirs)."""
    named = []
    for name, module in modules:
        if "_layer" not in module.__dict__:
            module.__dict__["_layer"] = name
            named.append((name, module))
    return named


def unname_layers(modules) -> None:
    """Take back the names name_layers gave."""
    for _, module in modules:
        module.__dict__.pop("_layer", None)


class OpNames:
    """One step's names of op outputs, and the tensors they were given to."""

    __slots__ = ("_counts", "_tags")

    def __init__(self):
        self._counts, self._tags = {}, {}

    def next_name(self, layer: str, op: str) -> str:
        """The name of the next output of op in layer this step: op, then op#2, op#3, ..."""
        count = self._counts.get((layer, op), 0) + 1
        self._counts[(layer, op)] = count
        return op if count == 1 else f"{op}#{count}"

    def tag(self, tensor, layer: str, name: str) -> None:
        self._tags[id(tensor)] = (weakref.ref(tensor), layer, name)

    def identity(self, tensor, layer: str, params: dict | None = None) -> tuple:
        """(layer, name) of a tensor: a parameter (of `params`, id -> (layer, name); None: the
        caller looked), a tagged op output, or else an input of `layer`."""
        if params is not None:
            found = params.get(id(tensor))
            if found is not None:
                return found
        tag = self._tags.get(id(tensor))
        if tag is not None and tag[0]() is tensor:
            return tag[1], tag[2]
        return layer, "input"


__all__ = ["parameter_names", "name_layers", "unname_layers", "OpNames"]
