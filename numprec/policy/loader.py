"""Policies by name, from a dict, or from a TOML / JSON file.

A policy dict (the same keys in TOML or JSON):

    name = "my-policy"
    base = "fp16-amp"          # optional: start from a preset (or another policy)
    mode = "sr"                # rounding mode of every op; seed seeds stochastic rounding
    seed = 1
    update_mode = "sr"         # rounding of the optimizer's weight update
    master = "fp32"            # parameter storage; optimizer_state = "fp32"
    loss_scale = "dynamic"     # "none", "dynamic" or a number
    [default]                  # Pass fields of every class not named below
    input = "promote"
    [classes.matmul]           # fields for both passes ...
    acc = "fp16"
    [classes.matmul.backward]  # ... or for one pass
    input = "fp8_e5m2"
    [layers.fc2.matmul.backward]  # one layer's pass (and the layers inside it), the same way
    input = "fp32"

Pass fields: input, acc, output (format names or "promote"), order (fp64, sequential, pairwise,
blocked, kahan, fused), block (blocked only), fused_terms and fused_width (fused only), scaling
(none, current, delayed, channel, mx, nvfp4; matmul class only; channel in forward passes only),
ste (none, clipped; with channel, mx or nvfp4).
"""
from __future__ import annotations

import json
import os
from dataclasses import replace

from .policy import OP_CLASSES, PASS_FIELDS, Pass, Policy, check_op_class
from .presets import PRESETS

_TOP_KEYS = ("name", "base", "mode", "update_mode", "seed", "master", "optimizer_state",
             "loss_scale", "amax_history_len", "fp8_margin", "default", "classes", "layers")
_STORAGE_KEYS = _TOP_KEYS[2:10]


def preset_names() -> list:
    return list(PRESETS)


def get_policy(spec) -> Policy:
    """A Policy from a Policy, a preset name, a dict, or a path to a .toml / .json file."""
    if isinstance(spec, Policy):
        return spec
    if isinstance(spec, dict):
        return policy_from_dict(spec)
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if text in PRESETS:
            return PRESETS[text]
        if text.lower().endswith((".toml", ".json")):
            return policy_from_file(text)
        raise ValueError(f"unknown policy {text!r}; valid presets: {', '.join(PRESETS)} "
                         "(or a path to a .toml / .json policy file)")
    raise TypeError(f"policy must be a Policy, a preset name, a dict or a file path, got "
                    f"{type(spec).__name__}")


def policy_from_file(path) -> Policy:
    """Load a policy from a TOML or JSON file (the dict layout of policy_from_dict)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"policy file {path!r} does not exist")
    if path.lower().endswith(".toml"):
        import tomllib
        with open(path, "rb") as handle:
            try:
                data = tomllib.load(handle)
            except tomllib.TOMLDecodeError as err:
                raise ValueError(f"policy file {path!r} is not valid TOML: {err}") from None
    elif path.lower().endswith(".json"):
        with open(path, encoding="utf-8") as handle:
            try:
                data = json.load(handle)
            except json.JSONDecodeError as err:
                raise ValueError(f"policy file {path!r} is not valid JSON: {err}") from None
    else:
        raise ValueError(f"policy file {path!r} must end in .toml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"policy file {path!r} must hold a table/object of policy fields")
    data.setdefault("name", os.path.splitext(os.path.basename(path))[0])
    return policy_from_dict(data)


def _reject_unknown(names, valid, where: str, noun: str) -> None:
    unknown = sorted(set(names) - set(valid))
    if unknown:
        raise ValueError(f"{where}: unknown {noun}(s) {', '.join(unknown)}; valid {noun}s: "
                         f"{', '.join(valid)}")


def _pass(fields: dict, base: Pass, where: str) -> Pass:
    if not isinstance(fields, dict):
        raise TypeError(f"{where} must be a table of Pass fields, got {type(fields).__name__}")
    _reject_unknown(fields, PASS_FIELDS, where, "field")
    values = dict(fields)
    for name in ("scaling", "ste"):
        if isinstance(values.get(name), str) and values[name].lower() == "none":
            values[name] = None
    return replace(base, **values).validate(where)


def policy_from_dict(data: dict) -> Policy:
    """Build a Policy from a plain dict (see the module docstring for the layout)."""
    if not isinstance(data, dict):
        raise TypeError(f"policy_from_dict takes a dict, got {type(data).__name__}")
    _reject_unknown(data, _TOP_KEYS, "policy", "key")
    name = data.get("name", "custom")
    where = f"policy {name!r}"
    base = get_policy(data["base"]) if "base" in data else Policy("base")
    default = _pass(data.get("default", {}), base.default, f"{where}.default")
    classes = data.get("classes", {})
    if not isinstance(classes, dict):
        raise TypeError(f"{where}.classes must be a table of op classes")
    forward, backward = {}, {}
    for cls in OP_CLASSES:
        # classes the base names keep its passes; the others follow the (new) default
        forward[cls], backward[cls] = base.forward.get(cls, default), base.backward.get(cls, default)
    for cls, entry in classes.items():
        check_op_class(cls, where)
        if not isinstance(entry, dict):
            raise TypeError(f"{where}.classes.{cls} must be a table of Pass fields")
        shared = {k: v for k, v in entry.items() if k not in ("forward", "backward")}
        for phase, table in (("forward", forward), ("backward", backward)):
            merged = dict(shared, **entry.get(phase, {}))
            table[cls] = _pass(merged, table[cls], f"{where}.classes.{cls}.{phase}")
    storage = {key: getattr(base, key) for key in _STORAGE_KEYS}
    storage.update({key: data[key] for key in _STORAGE_KEYS if key in data})
    if "mode" in data and "update_mode" not in data:
        storage["update_mode"] = None  # follows the new mode
    if isinstance(storage["loss_scale"], str) and storage["loss_scale"].lower() == "none":
        storage["loss_scale"] = None
    layers = data.get("layers", {})
    if not isinstance(layers, dict):
        raise TypeError(f"{where}.layers must be a table of layer names")
    overrides = {layer: {phase: dict(t) for phase, t in override.items()}
                 for layer, override in base.layers.items()}
    for layer, entries in layers.items():
        if not isinstance(entries, dict):
            raise TypeError(f"{where}.layers.{layer} must be a table of op classes")
        for cls, entry in entries.items():
            check_op_class(cls, f"{where}.layers.{layer}")
            if not isinstance(entry, dict):
                raise TypeError(f"{where}.layers.{layer}.{cls} must be a table of Pass fields")
            shared = {k: v for k, v in entry.items() if k not in ("forward", "backward")}
            for phase, table in (("forward", forward), ("backward", backward)):
                if not shared and phase not in entry:
                    continue  # this layer keeps the class's pass in that phase
                merged = dict(shared, **entry.get(phase, {}))
                overrides.setdefault(layer, {}).setdefault(phase, {})[cls] = _pass(
                    merged, table[cls], f"{where}.layers.{layer}.{cls}.{phase}")
    return Policy(name, default=default, forward=forward, backward=backward, layers=overrides,
                  **storage)
