"""The measurements of the vanishing-gradients study: a deep sigmoid or tanh MLP trained for a
few SGD steps on the digits under each precision policy, with a numprec.monitor.Monitor
recording every gradient: per layer, the weight gradient (its norm and zero fraction) and the
backward signal (the gradients of the layer's linear and activation outputs), whose
underflow_frac counts the elements the backward pass's own roundings flushed to zero. A weight
gradient is often zero without an underflow event of its own: the signal reaching it was
flushed in a deeper layer."""
from __future__ import annotations

import numpy as np
import pandas as pd

import numprec
from numprec import nn
from numprec.data import load_digits, split_dataset
from numprec.monitor import Monitor
from numprec.policy import Pass, Policy, get_policy

from ..training_steps import train_steps

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def _uniform_policy(name, fmt, acc="fp32"):
    """Every op in fmt (matmuls accumulating in acc), weights and optimizer state stored in fmt,
    no loss scaling: what pure low-precision training does to the gradients."""
    matmul = {"matmul": Pass(fmt, acc, fmt)}
    return Policy(name, default=Pass(fmt, fmt, fmt), forward=matmul, backward=matmul,
                  master=fmt, optimizer_state=fmt)


def _fp8_unscaled():
    """fp8-hybrid's formats (E4M3 forward, E5M2 backward GEMM operands, fp32 elsewhere) without
    its per-tensor scaling: the raw range of the formats."""
    return Policy("fp8-unscaled", default=Pass("fp32", "fp32", "fp32"),
                  forward={"matmul": Pass("fp8_e4m3fn", "fp32", "fp32")},
                  backward={"matmul": Pass("fp8_e5m2", "fp32", "fp32")},
                  master="fp32", optimizer_state="fp32")


POLICIES = {"fp32": lambda: get_policy("fp32"), "fp16": lambda: get_policy("fp16"),
            "bf16": lambda: _uniform_policy("bf16", "bf16"),
            "fp8-hybrid": lambda: get_policy("fp8-hybrid"), "fp8-unscaled": _fp8_unscaled}


def deep_mlp(depth: int, width: int, activation: str) -> nn.Module:
    """depth Linear layers (64 -> width -> ... -> width -> 10) with the activation between
    them; PyTorch's default initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    act = ACTIVATIONS[activation]
    layers = [nn.Linear(64, width), act()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), act()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def layer_of(name: str) -> int:
    """The depth (1 = next to the input) of a Sequential's Linear named by its position."""
    return int(name.split(".")[-1]) // 2 + 1


def gradient_cell(cell, depth, width, steps, lr, batch, seed) -> pd.DataFrame:
    """Train one (activation, policy) for `steps` SGD steps from the same initial weights and
    batches; per step and layer depth: the weight gradient's norm, zero_frac, underflow_frac and
    exponent range, the underflow_frac of the backward signal (the gradients of the layer's
    linear and activation outputs, summed: events per element), the delayed-scaling scale of
    the layer's incoming gradient (FP8 policies with scaling; NaN otherwise) and the loss."""
    activation, policy_name = cell
    policy = POLICIES[policy_name]()
    data = split_dataset(*load_digits(), seed=seed)
    numprec.manual_seed(seed)
    model = deep_mlp(depth, width, activation)
    optimizer = numprec.optim.SGD(model.parameters(), lr=lr, policy=policy)
    with Monitor(model, optimizer, kinds=("grad", "scale")) as monitor:
        losses = [loss for loss, _, _ in train_steps(model, optimizer, policy, data, steps,
                                                      batch, seed)]
    table = monitor.table()
    scales = table[(table["kind"] == "scale") & (table["stat"] == "scale")
                   & table["tensor"].str.startswith("grad_output")]
    scales = (scales.assign(depth=scales["layer"].map(layer_of))
              .groupby(["step", "depth"])["value"].first().rename("grad_output_scale"))
    table = table[(table["kind"] == "grad") & (table["layer"] != "")]
    table = table.assign(depth=table["layer"].map(layer_of))
    weights = table[table["tensor"] == "weight"].pivot_table(
        index=["step", "depth"], columns="stat", values="value", aggfunc="first")
    signal = (table[table["tensor"].isin(["linear", activation])
                    & (table["stat"] == "underflow_frac")]
              .groupby(["step", "depth"])["value"].sum().rename("signal_underflow_frac"))
    wide = weights.join(signal).join(scales).reset_index()
    wide["signal_underflow_frac"] = wide["signal_underflow_frac"].fillna(0.0)
    wide["loss"] = wide["step"].map(dict(enumerate(losses)))
    wide.insert(0, "policy", policy_name)
    wide.insert(0, "activation", activation)
    keep = ["activation", "policy", "step", "depth", "norm", "zero_frac", "underflow_frac",
            "signal_underflow_frac", "grad_output_scale", "max_exponent", "min_exponent",
            "loss"]
    return wide.reindex(columns=keep).sort_values(["step", "depth"], ignore_index=True)


def by_depth(gradients: pd.DataFrame, step: int) -> pd.DataFrame:
    """One step's gradients per activation, policy and layer depth, with the weight gradient's
    norm relative to fp32's (same activation, depth and step)."""
    frame = gradients[gradients["step"] == step]
    reference = (frame[frame["policy"] == "fp32"].set_index(["activation", "depth"])["norm"]
                 .rename("fp32_norm"))
    frame = frame.join(reference, on=["activation", "depth"])
    frame = frame.assign(norm_vs_fp32=frame["norm"] / frame["fp32_norm"])
    return frame.drop(columns="fp32_norm").reset_index(drop=True)


def decay_rates(depths: pd.DataFrame) -> pd.DataFrame:
    """Per activation and policy (one step's by_depth): the factor by which the gradient norm
    grows per layer from the input towards the output
    (geometric fit of the norm against depth, over the layers with a nonzero norm), and
    where the gradients died: the layers whose weight gradient is entirely zero, and the deepest
    layer whose backward signal lost more than 1% of its elements to underflow."""
    rows = []
    for (activation, policy), group in depths.groupby(["activation", "policy"], sort=False):
        use = group[group["norm"] > 0]
        factor = (float(2.0 ** np.polyfit(use["depth"], np.log2(use["norm"]), 1)[0])
                  if len(use) >= 3 else np.nan)
        dead = group[group["zero_frac"] >= 1.0]
        flushed = group[group["signal_underflow_frac"] > 0.01]
        rows.append(dict(activation=activation, policy=policy, growth_per_layer=factor,
                         first_layer_norm=float(group["norm"].iloc[0]),
                         last_layer_norm=float(group["norm"].iloc[-1]),
                         layers_all_zero=len(dead),
                         shallowest_live_layer=int(use["depth"].min()) if len(use) else 0,
                         deepest_signal_underflow=(int(flushed["depth"].max())
                                                   if len(flushed) else 0),
                         worst_signal_underflow=float(group["signal_underflow_frac"].max()),
                         median_grad_scale=float(group["grad_output_scale"].median()),
                         loss=float(group["loss"].iloc[0])))
    return pd.DataFrame(rows)
