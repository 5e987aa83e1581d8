"""Post-training quantization of a trained model, and per-layer sensitivity (docs/quantization.md,
"Post-training quantization").

Post-training quantization runs a trained model under a quantized policy
(`numprec.policy.quantized_policy`): its weights are quantized as it runs (per output channel or
per tensor, or in MX / NVFP4 blocks), its fp32 master weights stay as they are. Integer
activations need a range: `calibrate` runs calibration batches in fp32, an observer of
numprec.quant (minmax, moving-minmax, percentile, mse, kl) watches the input of every GEMM
layer, and the resulting static quantization steps are kept in the layers' scaling states
(`set_static_scales`), where the integer casts use them instead of each batch's own min-max.
Block formats scale every block from its own amax as it runs, so they need no calibration.

`layer_sensitivity` quantizes one layer at a time (a per-layer Pass, everything else in the
base policy) and measures the accuracy each loses.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..amp import autocast
from ..autodiff import Tensor, no_grad
from ..autodiff.observe import add_observer, remove_observer
from ..formats import get_format
from ..nn import name_layers
from ..policy import STATIC_SCALE, Pass, Policy, StaticScale, get_policy
from ..quant import make_observer
from .loop import evaluate

GEMM_OPS = ("linear", "conv2d", "matmul")


def gemm_layers(model) -> list:
    """Names of the model's layers that hold GEMM weights (Linear, Conv2d), in order."""
    name_layers(model)
    return [name for name, module in model.named_modules()
            if name and hasattr(module, "fp8_states") and hasattr(module, "weight")]


class _InputWatcher:
    """An engine observer that feeds the input of every GEMM op of the named layers to a
    calibration observer per layer."""

    def __init__(self, layers, observer: str, params: dict):
        self.active = True
        self.observers = {name: make_observer(observer, **params) for name in layers}

    def notify(self, record):
        if getattr(record, "op", None) in GEMM_OPS and record.layer in self.observers \
                and hasattr(record, "inputs"):
            self.observers[record.layer].observe(record.inputs[0])


def calibrate(model, batches, *, bits: int = 8, observer: str = "minmax", policy="fp32",
              **observer_params) -> dict:
    """Static quantization steps of every GEMM layer's input, from calibration batches run
    under `policy` (fp32 by default): {layer: StaticScale}. Symmetric signed `bits`-bit codes;
    the step is PyTorch's symmetric min-max formula applied to the range the observer chose."""
    layers = gemm_layers(model)
    if not layers:
        raise ValueError("calibrate: the model has no Linear or Conv2d layer")
    watcher = _InputWatcher(layers, observer, observer_params)
    policy = get_policy(policy) if isinstance(policy, str) else policy
    count = 0
    add_observer(watcher)
    try:
        with no_grad(), autocast(policy):
            for batch in batches:
                model(batch if isinstance(batch, Tensor) else Tensor(np.asarray(batch)))
                count += 1
    finally:
        remove_observer(watcher)
    if not count:
        raise ValueError("calibrate: no calibration batches")
    scales = {}
    for name, obs in watcher.observers.items():
        if obs.gran is None:  # the layer never ran
            continue
        step, _ = obs.qparams(bits, True, "symmetric")
        amax = float(np.float32(step) * np.float32((2 ** bits - 1) / 2))
        scales[name] = StaticScale(float(step), amax)
    return scales


def set_static_scales(model, scales: dict) -> None:
    """Keep calibrated input steps in the layers' scaling states (integer casts use them)."""
    modules = dict(model.named_modules())
    for name, scale in scales.items():
        if name not in modules or not hasattr(modules[name], "fp8_states"):
            raise ValueError(f"set_static_scales: the model has no GEMM layer {name!r}")
        if not isinstance(scale, StaticScale):
            raise TypeError(f"set_static_scales: {name}: expected a StaticScale, got {scale!r}")
        modules[name].fp8_states[("input", STATIC_SCALE)] = scale


def clear_static_scales(model) -> None:
    """Forget calibrated steps: integer casts go back to each batch's min-max."""
    for _, module in model.named_modules():
        states = getattr(module, "fp8_states", None)
        if states:
            states.pop(("input", STATIC_SCALE), None)


def _is_integer(policy: Policy) -> bool:
    return policy.pass_for("matmul").scaling in ("channel", "tensor") or any(
        spec.scaling in ("channel", "tensor") for override in policy.layers.values()
        for spec in override.get("forward", {}).values())


def post_training_quantize(model, policy: Policy, calibration_x, *, observer: str = "minmax",
                           batch: int = 256, **observer_params) -> dict:
    """Prepare `model` to run under the quantized `policy`: for integer policies, calibrate
    the input steps on `calibration_x` (in batches) and keep them in the layers; returns the
    steps ({} for block formats, which scale as they run)."""
    clear_static_scales(model)
    if not _is_integer(policy):
        return {}
    specs = [policy.pass_for("matmul")] + [
        spec for override in policy.layers.values() for spec in override.get("forward", {}).values()]
    bits = max(get_format(spec.input).nbits for spec in specs
               if spec.scaling in ("channel", "tensor"))
    x = np.asarray(calibration_x)
    batches = [x[i:i + batch] for i in range(0, len(x), batch)]
    scales = calibrate(model, batches, bits=bits, observer=observer, **observer_params)
    set_static_scales(model, scales)
    return scales


def layer_sensitivity(model, quant_pass: Pass, data: dict, *, base="fp32",
                      calibration_x=None, observer: str = "minmax") -> pd.DataFrame:
    """Quantize one GEMM layer at a time (its forward matmul Pass `quant_pass`, the rest in
    `base`) and measure the test accuracy: one row per layer with the accuracy, the base
    accuracy and the drop. data: test_x, test_y (and train_x for calibration when
    calibration_x is None)."""
    base = get_policy(base) if isinstance(base, str) else base
    layers = gemm_layers(model)
    reference = evaluate(model, data["test_x"], data["test_y"], base)
    rows = []
    for layer in layers:
        policy = base.with_layer_pass(layer, "forward", "matmul", quant_pass).replace(
            name=f"{base.name}+{layer}")
        calib = data["train_x"][:512] if calibration_x is None else calibration_x
        post_training_quantize(model, policy, calib, observer=observer)
        accuracy = evaluate(model, data["test_x"], data["test_y"], policy)
        rows.append(dict(layer=layer, accuracy=accuracy, base_accuracy=reference,
                         drop=reference - accuracy))
    clear_static_scales(model)
    return pd.DataFrame(rows)
