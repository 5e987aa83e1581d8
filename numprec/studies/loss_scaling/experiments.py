"""The measurements of the loss-scaling study: one deep sigmoid MLP trained under fp16-amp
(fp16 GEMMs with fp32 accumulation, fp32 master weights) with each loss scale, and in fp32 for
reference, with a monitor every few steps."""
from __future__ import annotations

import numpy as np
import pandas as pd

import numprec
from numprec.amp import GradScaler, StaticLossScaler, get_policy
from numprec.data import load_digits, split_dataset
from numprec.monitor import Monitor
from numprec.training.loop import evaluate

from ..training_steps import train_steps
from ..vanishing_gradients.experiments import deep_mlp, layer_of

SCALES = ("1", "2^3", "2^7", "2^10", "2^15", "dynamic")


def make_scaler(setting: str):
    """The scaler of a setting: a static scale 2^k (never changes; a step with inf/NaN
    gradients is skipped), or torch's dynamic GradScaler (2^16 at the start, halved on an
    overflow, doubled after 2000 good steps)."""
    if setting == "dynamic":
        return GradScaler()
    if setting == "none":
        return None
    exponent = 0 if setting == "1" else int(setting.split("^")[1])
    return StaticLossScaler(2.0 ** exponent)


def training_cell(cell, depth, width, steps, every, lr, batch, seed):
    """Train one setting (policy, scale) from the same initial weights and batches. Returns
    (per-step rows: loss, loss scale, skipped; per recorded step and layer: the weight
    gradient's zero fraction and the backward signal's underflow_frac; the final test
    accuracy)."""
    policy_name, setting = cell
    policy = get_policy(policy_name)
    data = split_dataset(*load_digits(), seed=seed)
    numprec.manual_seed(seed)
    model = deep_mlp(depth, width, "sigmoid")
    optimizer = numprec.optim.Adam(model.parameters(), lr=lr, policy=policy)
    scaler = make_scaler(setting)
    with Monitor(model, optimizer, scaler, every=every, kinds=("grad", "grad_scaled")) as monitor:
        steps_rows = [dict(step=step, loss=loss, loss_scale=scale, skipped=skipped)
                      for step, (loss, scale, skipped) in enumerate(
                          train_steps(model, optimizer, policy, data, steps, batch, seed,
                                      scaler))]
    accuracy = evaluate(model, data["test_x"], data["test_y"], policy)
    label = "fp32" if policy_name == "fp32" else setting
    runs = pd.DataFrame(steps_rows).assign(setting=label, test_accuracy=accuracy)
    return runs, _layer_rows(monitor.table(), label)


def _layer_rows(table, label):
    grads = table[table["kind"].isin(["grad", "grad_scaled"]) & (table["layer"] != "")]
    grads = grads.assign(depth=grads["layer"].map(layer_of))
    weight = grads[(grads["tensor"] == "weight") & (grads["stat"] == "zero_frac")
                   & (grads["kind"] == "grad")]
    weight = weight.groupby(["step", "depth"])["value"].first().rename("weight_zero_frac")
    signal = grads[grads["tensor"].isin(["linear", "sigmoid"])
                   & (grads["stat"] == "underflow_frac")]
    signal = signal.groupby(["step", "depth"])["value"].sum().rename("signal_underflow_frac")
    overflow = grads[grads["stat"] == "overflow_frac"]
    overflow = overflow.groupby(["step", "depth"])["value"].sum().rename("overflow_frac")
    frame = pd.concat([weight, signal, overflow], axis=1).reset_index()
    return frame.fillna({"signal_underflow_frac": 0.0, "overflow_frac": 0.0}).assign(
        setting=label)


def summary(runs: pd.DataFrame, layers: pd.DataFrame, tail: int) -> pd.DataFrame:
    """Per setting: the mean loss of the last `tail` steps, the test accuracy, skipped steps,
    the last scale, over the recorded steps the median number of layers whose weight gradient
    is entirely zero and the largest signal underflow, and the first step whose running mean
    loss (10 steps) is 0.1 below the starting loss (-1: never; the initial plateau)."""
    rows = []
    start = float(runs.loc[runs["step"] < 10, "loss"].mean())  # every run starts the same
    for setting, group in runs.groupby("setting", sort=False):
        layer = layers[layers["setting"] == setting]
        smooth = group["loss"].rolling(10, min_periods=10).mean()
        left = group["step"][smooth < start - 0.1]
        dead = (layer.assign(dead=layer["weight_zero_frac"] >= 1.0)
                .groupby("step")["dead"].sum())
        rows.append(dict(setting=setting,
                         final_loss=float(group["loss"].tail(tail).mean()),
                         test_accuracy=float(group["test_accuracy"].iloc[0]),
                         skipped_steps=int(group["skipped"].sum()),
                         final_scale=float(group["loss_scale"].iloc[-1]),
                         dead_layers_median=float(dead.median()) if len(dead) else np.nan,
                         dead_layers_max=int(dead.max()) if len(dead) else 0,
                         worst_signal_underflow=float(layer["signal_underflow_frac"].max()),
                         mean_weight_zero_frac=float(layer["weight_zero_frac"].mean()),
                         plateau_exit_step=int(left.iloc[0]) if len(left) else -1))
    return pd.DataFrame(rows)
