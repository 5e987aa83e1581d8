"""The measurements of the quantization study: the digits MLP and the small CNN trained in fp32,
then quantized after training (PTQ: integer codes per tensor or per channel at 8 to 2 bits with
calibrated activations, MX and NVFP4 blocks), trained with quantization from the start (QAT:
the same schemes in the forward pass, the straight-through estimator, fp32 backward and master
weights), pruned by magnitude (one shot, and gradually with the cubic schedule and masks the
optimizer keeps, 2:4 as well) alone and combined with int8, and quantized one layer at a time
(sensitivity)."""
from __future__ import annotations

import numpy as np
import pandas as pd

import numprec
from numprec.data import load_digits, split_dataset
from numprec.policy import get_policy, quantized_pass, quantized_policy
from numprec.quant import (apply_mask, cubic_sparsity, magnitude_mask, nm_mask, sparsity_of,
                           storage_bytes)
from numprec.training import build_model
from numprec.training.loop import evaluate
from numprec.training.ptq import gemm_layers, layer_sensitivity, post_training_quantize

from ..training_steps import train_steps

# (kind, bits, granularity): the quantization schemes compared
INT_BITS = (8, 6, 4, 3, 2)
SCHEMES = ([("int", b, "channel") for b in INT_BITS] + [("int", b, "tensor") for b in INT_BITS]
           + [("mx", 8, "block"), ("mx", 6, "block"), ("mx", 4, "block"), ("nvfp4", 4, "block")])
OBSERVERS = ("minmax", "percentile", "mse", "kl")
STORAGE_FORMATS = ("fp32", "bf16", "fp8_e4m3fn", "int8", "fp4_e2m1fn")
LR = 3e-3


def scheme_label(kind: str, bits: int, granularity: str) -> str:
    if kind == "int":
        return f"int{bits} per {granularity}"
    return f"mxfp{bits}" if kind == "mx" else "nvfp4"


def family(kind: str, granularity: str) -> str:
    return {"int": f"int per {granularity}", "mx": "MX blocks", "nvfp4": "NVFP4 blocks"}[kind]


def scheme_policy(kind: str, bits: int, granularity: str):
    return quantized_policy(kind, bits, granularity if kind == "int" else "channel")


def digits(seed: int) -> dict:
    return split_dataset(*load_digits(), seed=seed)


def trained(model_name: str, steps: int, batch: int, seed: int, policy="fp32", data=None):
    """A model trained from numprec.manual_seed(seed) with Adam under `policy`."""
    data = digits(seed) if data is None else data
    policy = get_policy(policy) if isinstance(policy, str) else policy
    numprec.manual_seed(seed)
    model = build_model(model_name)
    optimizer = numprec.optim.Adam(model.parameters(), lr=LR)
    losses = [loss for loss, _, _ in train_steps(model, optimizer, policy, data, steps, batch,
                                                  seed)]
    return model, optimizer, losses, data


def ptq_cell(model_name: str, steps: int, batch: int, seed: int, calibration: int) -> pd.DataFrame:
    """Train in fp32, then evaluate every scheme after training (integer schemes calibrated on
    `calibration` training images with each observer)."""
    model, _, losses, data = trained(model_name, steps, batch, seed)
    base = evaluate(model, data["test_x"], data["test_y"], "fp32")
    calib = data["train_x"][:calibration]
    rows = [dict(model=model_name, method="fp32", scheme="fp32", family="fp32", bits=32,
                 observer="", accuracy=base, final_loss=float(np.mean(losses[-10:])))]
    for kind, bits, gran in SCHEMES:
        policy = scheme_policy(kind, bits, gran)
        for observer in (OBSERVERS if kind == "int" else ("",)):
            post_training_quantize(model, policy, calib, observer=observer or "minmax",
                                   **({"bins": 512} if observer == "kl" else {}))
            rows.append(dict(model=model_name, method="PTQ", scheme=scheme_label(kind, bits, gran),
                             family=family(kind, gran), bits=bits, observer=observer,
                             accuracy=evaluate(model, data["test_x"], data["test_y"], policy),
                             final_loss=np.nan))
    return pd.DataFrame(rows)


def qat_cell(model_name: str, scheme, steps: int, batch: int, seed: int) -> pd.DataFrame:
    """Train from the start under the scheme's quantized policy (the same initial weights and
    batches as fp32); activations quantized per batch (min-max), as they were in training."""
    kind, bits, gran = scheme
    policy = scheme_policy(kind, bits, gran)
    model, _, losses, data = trained(model_name, steps, batch, seed, policy)
    return pd.DataFrame([dict(model=model_name, method="QAT",
                              scheme=scheme_label(kind, bits, gran), family=family(kind, gran),
                              bits=bits, observer="minmax",
                              accuracy=evaluate(model, data["test_x"], data["test_y"], policy),
                              final_loss=float(np.mean(losses[-10:])))])


def _prune(model, sparsity: float, structured: bool) -> dict:
    """Masks of the GEMM weights: magnitude per layer, or 2:4 along the reduction axis."""
    masks = {}
    modules = dict(model.named_modules())
    for name in gemm_layers(model):
        weight = modules[name].weight
        flat = weight.data.reshape(weight.data.shape[0], -1)
        if structured:
            mask = nm_mask(flat, 2, 4, axis=1) if flat.shape[1] % 4 == 0 else np.ones_like(
                flat, dtype=bool)
        else:
            mask = magnitude_mask(flat, sparsity)
        masks[name] = mask.reshape(weight.data.shape)
    return masks


def sparsity_cell(model_name: str, target, steps: int, finetune: int, batch: int, seed: int,
                  calibration: int) -> pd.DataFrame:
    """Prune the fp32 model to `target` ("2:4" or a fraction) in one shot, and gradually while
    fine-tuning (`finetune` steps, cubic schedule, the optimizer keeping the masks); evaluate
    each in fp32 and with int8 PTQ (per channel, min-max); and the bytes the one-shot pruned
    GEMM weights take dense, as CSR, COO and (where 2:4 sparse) the 2:4 layout, in each of
    STORAGE_FORMATS (rows of table "storage"; the accuracies are table "sparsity")."""
    structured = target == "2:4"
    sparsity = 0.5 if structured else float(target)
    model, optimizer, _, data = trained(model_name, steps, batch, seed)
    int8 = quantized_policy("int", 8, "channel")
    modules = dict(model.named_modules())
    dense = {name: modules[name].weight.data.copy() for name in gemm_layers(model)}
    rows = []

    def record(method):
        weights = [modules[name].weight.data for name in dense]
        measured = float(sum(sparsity_of(w) * w.size for w in weights)
                         / sum(w.size for w in weights))
        for precision, policy in (("fp32", get_policy("fp32")), ("int8", int8)):
            post_training_quantize(model, policy, data["train_x"][:calibration])
            rows.append(dict(model=model_name, method=method, target=str(target),
                             sparsity=sparsity, measured_sparsity=measured,
                             precision=precision,
                             accuracy=evaluate(model, data["test_x"], data["test_y"], policy)))

    for name, mask in _prune(model, sparsity, structured).items():  # one shot
        modules[name].weight.data[...] = apply_mask(dense[name], mask)
    record("one-shot")
    storage = []
    for fmt in STORAGE_FORMATS:  # the pruned GEMM weights' bytes in each layout
        totals = {"dense": 0, "csr": 0, "coo": 0, "2:4": 0}
        for name in dense:
            weight = modules[name].weight.data
            sizes = storage_bytes(weight.reshape(weight.shape[0], -1), fmt)
            for layout in totals:
                totals[layout] = (None if totals[layout] is None or sizes[layout] is None
                                  else totals[layout] + sizes[layout])
        storage.append(dict(model=model_name, target=str(target), sparsity=sparsity,
                            format=fmt, **{f"{k}_bytes": (np.nan if v is None else v)
                                           for k, v in totals.items()}))
    for name in dense:  # back to the dense weights, then prune gradually while training
        modules[name].weight.data[...] = dense[name]
    rng_seed = seed + 1
    fp32 = get_policy("fp32")
    chunk = max(1, finetune // 10)
    for start in range(0, finetune, chunk):
        level = sparsity if structured else cubic_sparsity(start, final=sparsity, begin=0,
                                                           end=max(1, finetune - chunk))
        for name, mask in _prune(model, level, structured).items():
            optimizer.set_mask(modules[name].weight, mask)
        train_steps(model, optimizer, fp32, data, min(chunk, finetune - start), batch,
                    rng_seed + start)
    record("gradual + fine-tune")
    return pd.concat([pd.DataFrame(rows).assign(table="sparsity"),
                      pd.DataFrame(storage).assign(table="storage")], ignore_index=True)


def sensitivity_cell(model_name: str, steps: int, batch: int, seed: int,
                     calibration: int) -> pd.DataFrame:
    """One layer at a time in int4 and int2 (per channel, calibrated min-max), the rest fp32."""
    model, _, _, data = trained(model_name, steps, batch, seed)
    frames = []
    for bits in (4, 2):
        table = layer_sensitivity(model, quantized_pass("int", bits, "channel"), data,
                                  calibration_x=data["train_x"][:calibration])
        frames.append(table.assign(model=model_name, scheme=f"int{bits} per channel"))
    return pd.concat(frames, ignore_index=True)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per model and scheme: fp32 accuracy, PTQ (min-max and the best observer) and QAT."""
    rows = []
    for model_name, group in results.groupby("model", sort=False):
        base = float(group[group["method"] == "fp32"]["accuracy"].iloc[0])
        for scheme, part in group[group["method"] != "fp32"].groupby("scheme", sort=False):
            ptq = part[part["method"] == "PTQ"]
            qat = part[part["method"] == "QAT"]
            minmax = ptq[ptq["observer"].isin(["minmax", ""])]["accuracy"]
            rows.append(dict(model=model_name, scheme=scheme, fp32=base,
                             ptq_minmax=float(minmax.iloc[0]) if len(minmax) else np.nan,
                             ptq_best=float(ptq["accuracy"].max()) if len(ptq) else np.nan,
                             best_observer=(ptq.loc[ptq["accuracy"].idxmax(), "observer"]
                                            if len(ptq) else ""),
                             qat=float(qat["accuracy"].iloc[0]) if len(qat) else np.nan))
    return pd.DataFrame(rows)
