"""The measurements of the update-stagnation study: the digits MLP trained with plain SGD (no
optimizer state, so the weight update is the only rounding that stores anything) with its
weights stored in bf16 or fp16 and the update rounded to nearest-even or stochastically, with
and without fp32 master weights, against fp32; a monitor records stagnation_frac (the fraction
of weights an update meant to change that storage left unchanged) for every parameter."""
from __future__ import annotations

import numpy as np
import pandas as pd

import numprec
from numprec.data import load_digits, split_dataset
from numprec.monitor import Monitor
from numprec.policy import Pass, Policy, get_policy
from numprec.training import build_model
from numprec.training.loop import evaluate

from ..training_steps import train_steps


def policy_for(storage: str, update_mode: str, master: bool) -> Policy:
    """Compute in `storage` (matmuls accumulating in fp32); weights stored in `storage`, or in
    fp32 master weights; the weight update rounded with `update_mode`. No loss scaling."""
    if storage == "fp32":
        return get_policy("fp32")
    matmul = {"matmul": Pass(storage, "fp32", storage)}
    name = f"{storage}-{update_mode}" + ("-master" if master else "")
    return Policy(name, default=Pass(storage, storage, storage), forward=matmul,
                  backward=matmul, update_mode=update_mode,
                  master="fp32" if master else storage, optimizer_state="fp32")


def label(storage: str, update_mode: str, master: bool) -> str:
    if storage == "fp32":
        return "fp32"
    return f"{storage} {update_mode}" + (" + fp32 master" if master else "")


def training_cell(cell, steps, every, lr, batch, seed):
    """Train one configuration (storage, update mode, master) from the same initial weights
    and batches. Returns (per step: loss; per recorded step and parameter: stagnation_frac and
    the parameter's size; the final test accuracy in every row)."""
    storage, update_mode, master = cell
    policy = policy_for(storage, update_mode, master)
    name = label(storage, update_mode, master)
    data = split_dataset(*load_digits(), seed=seed)
    numprec.manual_seed(seed)
    model = build_model("mlp")
    sizes = {pname: int(np.size(p.data)) for pname, p in model.named_parameters()}
    optimizer = numprec.optim.SGD(model.parameters(), lr=lr, policy=policy)
    with Monitor(model, optimizer, every=every, kinds=("update",)) as monitor:
        losses = [loss for loss, _, _ in train_steps(model, optimizer, policy, data, steps,
                                                      batch, seed)]
    accuracy = evaluate(model, data["test_x"], data["test_y"], policy)
    runs = pd.DataFrame({"config": name, "step": np.arange(steps), "loss": losses,
                         "test_accuracy": accuracy})
    table = monitor.table()
    stag = table[(table["kind"] == "update") & (table["stat"] == "stagnation_frac")]
    params = stag.assign(parameter=stag["layer"] + "." + stag["tensor"])
    params = params.assign(size=params["parameter"].map(sizes), config=name)
    params = params.rename(columns={"value": "stagnation_frac"})
    return runs, params[["config", "step", "parameter", "size", "stagnation_frac"]]


def stagnation_by_step(params: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and recorded step: stagnation_frac over all weights (each parameter
    weighted by its size)."""
    weighted = params.assign(stuck=params["stagnation_frac"] * params["size"])
    grouped = weighted.groupby(["config", "step"], sort=False)[["stuck", "size"]].sum()
    return (grouped["stuck"] / grouped["size"]).rename("stagnation_frac").reset_index()


def summary(runs, by_step, tail: int) -> pd.DataFrame:
    """Per configuration: the mean loss of the last `tail` steps, the test accuracy, and the
    mean and last stagnated fraction."""
    rows = []
    for config, group in runs.groupby("config", sort=False):
        stag = by_step[by_step["config"] == config]["stagnation_frac"]
        rows.append(dict(config=config, final_loss=float(group["loss"].tail(tail).mean()),
                         test_accuracy=float(group["test_accuracy"].iloc[0]),
                         mean_stagnation=float(stag.mean()),
                         last_stagnation=float(stag.iloc[-1]) if len(stag) else np.nan))
    return pd.DataFrame(rows)
