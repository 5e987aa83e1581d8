"""Train a small model on a dataset under a precision policy, reproducibly.

Same seed and policy give bit-identical metrics: the seed drives parameter initialisation,
batch order, dropout and stochastic rounding. Non-finite training inputs, a non-finite loss, or
non-finite gradients without a loss scaler to skip them stop the run with TrainingStopped; the
last checkpoint written (a good one) is kept.
"""
from __future__ import annotations

import contextlib
import datetime
import os
import sys
from dataclasses import asdict, dataclass

import numpy as np

from .. import nn, optim
from ..amp import GradScaler, StaticLossScaler, autocast, get_policy
from ..autodiff import Tensor, manual_seed, no_grad, observe
from ..formats import get_format
from ..monitor import Monitor
from ..monitor.shadow import SHADOW_MODES, Shadow
from ..policy.streams import set_streams_state, streams_state
from .adjust import AdjustSettings, PrecisionAdjuster
from .manifest import new_manifest, read_manifest, write_manifest
from .resume import load_resume, load_scaler_state, save_resume, scaler_state
from .models import build_model
from .outputs import save_checkpoint, write_json, write_metrics

OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD}


class TrainingStopped(RuntimeError):
    """Training stopped on bad numbers; `step` is where, `checkpoint` the last good one."""

    def __init__(self, message: str, step: int, checkpoint: str | None):
        super().__init__(message)
        self.step, self.checkpoint = step, checkpoint


@dataclass
class TrainConfig:
    model: str = "mlp"
    policy: object = "fp32"
    steps: int = 400
    seed: int = 0
    batch: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    checkpoint_every: int = 50
    loss_scale: object = None  # None: the policy's; "none", "dynamic" or a number overrides it
    monitor: bool = False      # record numprec.monitor tables (tensors/exponents.parquet)
    monitor_every: int = 1
    whatif: tuple = ()         # formats the monitor evaluates every tensor in
    shadow: object = None      # None, "re-anchored" or "free": the float64 shadow
    adjust_precision: bool = False  # promote/demote layers' passes while training (adjust.py)
    adjust_underflow: float = 0.01
    adjust_overflow: float = 0.0
    adjust_patience: int = 50
    adjust_shadow_error: float = 0.01

    def check(self) -> None:
        for name in ("steps", "batch", "checkpoint_every", "monitor_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: "
                             f"{', '.join(OPTIMIZERS)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        parse_loss_scale(self.loss_scale)
        for fmt in self.whatif:
            get_format(fmt)  # an unknown format fails here, before training
        if self.shadow is not None and self.shadow not in SHADOW_MODES:
            raise ValueError(f"unknown shadow mode {self.shadow!r}; valid: "
                             f"{', '.join(SHADOW_MODES)}")
        self.adjust_settings().check()

    def adjust_settings(self) -> AdjustSettings:
        return AdjustSettings(self.adjust_underflow, self.adjust_overflow, self.adjust_patience,
                              self.adjust_shadow_error)


def parse_loss_scale(value):
    """None (the policy's choice), "none", "dynamic", or a positive finite float."""
    if value is None or value in ("none", "dynamic"):
        return value
    try:
        scale = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"loss scale must be a number, 'dynamic' or 'none', got {value!r}") \
            from None
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"loss scale must be positive and finite, got {value!r}")
    return scale


def make_scaler(policy, override=None):
    """The loss scaler of the policy (or of `override`: "none", "dynamic" or a scale)."""
    override = parse_loss_scale(override)
    if override == "none":
        return None
    if override is not None:
        return GradScaler() if override == "dynamic" else StaticLossScaler(float(override))
    if policy.loss_scale == "dynamic":
        return GradScaler()
    if policy.loss_scale is not None:
        return StaticLossScaler(float(policy.loss_scale))
    return None


class BatchStream:
    """Endless batches: a fresh permutation each epoch, the last partial batch dropped. Its
    state (generator, permutation, position) pickles with it: a resumed run draws on."""

    def __init__(self, n: int, batch: int, rng: np.random.Generator):
        self.n, self.batch, self.rng = n, batch, rng
        self.order, self.start = None, n  # no epoch drawn yet

    def __iter__(self):
        return self

    def __next__(self) -> np.ndarray:
        if self.order is None or self.start > self.n - self.batch:
            self.order, self.start = self.rng.permutation(self.n), 0
        index = self.order[self.start:self.start + self.batch]
        self.start += self.batch
        return index


def evaluate(model, images, labels, policy) -> float:
    """Test accuracy under the policy (no graph)."""
    with no_grad(), autocast(policy):
        logits = model(Tensor(images))
    return float(np.mean(np.argmax(logits.data, axis=1) == labels))


def _progress(steps: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=steps, desc="train", unit="step", file=sys.stderr, leave=False)


def train(config: TrainConfig, data: dict, out: str | None = None, progress: bool = False,
          argv=None, resume: bool = False, data_spec: str | None = None) -> dict:
    """Run the training; returns the summary. With `out`, the run directory gets run.json (the
    manifest), summary.json, metrics.parquet, checkpoint.npz (the parameters), resume.pkl
    (everything a resumed run needs) and, with config.monitor, tensors.parquet and
    exponents.parquet; a run that stops on non-finite numbers writes them all (up to the step
    it reached) and raises TrainingStopped naming the first op that produced a NaN or inf.
    resume=True continues the run in `out` from its last checkpoint: the result is bit-identical
    to a run that was never interrupted."""
    config.check()
    policy = get_policy(config.policy)
    manual_seed(config.seed)
    model = build_model(config.model)
    optimizer = OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr, policy=policy)
    scaler = make_scaler(policy, config.loss_scale)
    loss_fn = nn.CrossEntropyLoss()
    batches = BatchStream(len(data["train_x"]), config.batch, np.random.default_rng(config.seed))
    checkpoint = os.path.join(out, "checkpoint.npz") if out else None
    manifest, saved = None, None
    if resume:
        if not out:
            raise ValueError("resume needs the run directory (out)")
        saved = load_resume(out)
        model.load_state_dict(saved["params"])
        optimizer.load_state_dict(saved["optimizer"])
        load_scaler_state(scaler, saved["scaler"])
        batches = saved["batches"]
        set_streams_state(saved["streams"])
        manifest = read_manifest(out)
        manifest["resumed"] = manifest.get("resumed", []) + [
            {"from_step": saved["step"], "command_line": list(argv or []), "at": _now()}]
        manifest["status"] = "running"
        write_manifest(out, manifest)
    elif out:
        os.makedirs(out, exist_ok=True)
        manifest = new_manifest(_plain(config), argv)
        manifest["data"] = data_spec
        write_manifest(out, manifest)
    monitor = None
    if config.adjust_precision:
        nn.name_layers(model)  # per-layer passes need the layers' names
    if config.monitor or config.adjust_precision:
        monitor = Monitor(model, optimizer, scaler, every=config.monitor_every,
                          whatif=config.whatif)
        monitor.step_count = 1  # the loop counts steps from 1
        if saved is not None:
            monitor.load_state_dict(saved["monitor"])
    shadow = None
    if config.shadow is not None:
        shadow = Shadow(model, optimizer, scaler, mode=config.shadow)
        shadow.step_count = 1
        if saved is not None:
            shadow.load_state_dict(saved["shadow"])
    adjuster = None
    if config.adjust_precision:
        adjuster = PrecisionAdjuster(policy, monitor, config.adjust_settings(), shadow)
        if saved is not None:
            adjuster.load_state_dict(saved["adjuster"])
    rows, skipped, last_good, loss_value, bar = [], 0, None, float("nan"), \
        _progress(config.steps, progress)
    first_step = 1
    if saved is not None:
        rows, skipped, last_good, loss_value = (list(saved["rows"]), saved["skipped"],
                                                saved["last_good"], saved["loss_value"])
        first_step = saved["step"] + 1
        if bar is not None:
            bar.update(saved["step"])
    summary = {"policy": policy.name, "model": config.model, "config": _plain(config),
               "requested_steps": config.steps,
               "loss_scaler": type(scaler).__name__ if scaler is not None else None}
    stopped = None
    try:
        with contextlib.ExitStack() as watching:
            for observer in (monitor, shadow):
                if observer is not None:
                    watching.enter_context(observer)
            if adjuster is not None:
                observe.add_observer(adjuster)
                watching.callback(observe.remove_observer, adjuster)
            try:
                for step in range(first_step, config.steps + 1):
                    now = adjuster.policy if adjuster is not None else policy
                    loss_value, found_inf, batch = _one_step(step, data, batches, model,
                                                             loss_fn, optimizer, scaler, now,
                                                             last_good)
                    if adjuster is not None:
                        adjuster.after_step(step)
                    if shadow is not None and shadow.mode == "free":
                        shadow.twin_step(*batch, loss_fn)
                    skipped += found_inf
                    rows += [(step, "loss", loss_value), (step, "skipped", float(found_inf)),
                             (step, "loss_scale", scaler.get_scale() if scaler else 1.0),
                             (step, "lr", optimizer.param_groups[0]["lr"])]
                    if checkpoint and (step % config.checkpoint_every == 0
                                       or step == config.steps):
                        save_checkpoint(checkpoint, model, step)
                        last_good = f"{checkpoint} (step {step})"
                        save_resume(out, {
                            "step": step, "params": model.state_dict(),
                            "optimizer": optimizer.state_dict(),
                            "scaler": scaler_state(scaler), "batches": batches,
                            "streams": streams_state(), "rows": rows, "skipped": skipped,
                            "last_good": last_good, "loss_value": loss_value,
                            "monitor": monitor.state_dict() if monitor is not None else None,
                            "shadow": shadow.state_dict() if shadow is not None else None,
                            "adjuster": (adjuster.state_dict() if adjuster is not None
                                         else None)})
                    if bar is not None:
                        bar.update(1)
                        if step % 10 == 0:
                            bar.set_postfix(loss=f"{loss_value:.4f}", skipped=skipped)
            except TrainingStopped as stop:
                stopped = stop
    finally:
        if bar is not None:
            bar.close()
    first = monitor.first_nonfinite if monitor is not None else None
    scale = scaler.get_scale() if scaler else 1.0
    if adjuster is not None:
        summary.update(precision_switches=len(adjuster.switches), **adjuster.storage())
    if stopped is None:
        final = adjuster.policy if adjuster is not None else policy
        accuracy = evaluate(model, data["test_x"], data["test_y"], final)
        rows.append((config.steps, "test_accuracy", accuracy))
        summary.update(status="ok", steps=config.steps, final_loss=loss_value,
                       test_accuracy=accuracy, skipped_steps=skipped, final_loss_scale=scale,
                       first_nonfinite=first)
    else:
        if first is not None:
            stopped = TrainingStopped(f"{stopped}; {describe_nonfinite(first)}", stopped.step,
                                      stopped.checkpoint)
        summary.update(status="stopped", message=str(stopped), steps=stopped.step - 1,
                       final_loss=loss_value, test_accuracy=None, skipped_steps=skipped,
                       final_loss_scale=scale, last_good_checkpoint=stopped.checkpoint,
                       first_nonfinite=first)
    if out:
        _write_outputs(out, summary, rows)
        if monitor is not None:
            monitor.save(out)
        if shadow is not None:
            shadow.save(out)
        if adjuster is not None:
            adjuster.save(out)
        manifest.update(status=summary["status"], first_nonfinite=first,
                        finished=_now(), outputs=sorted(os.listdir(out)))
        write_manifest(out, manifest)
    if stopped is not None:
        raise stopped
    return summary


def describe_nonfinite(first: dict) -> str:
    """One sentence for a monitor's first_nonfinite."""
    where = f"layer {first['layer']!r}" if first["layer"] else "outside the model's layers"
    return (f"first NaN/inf at step {first['step']}, {first['pass']} pass, op {first['op']} in "
            f"{where} (tensor {first['tensor']}): {first['reason']}")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _one_step(step, data, batches, model, loss_fn, optimizer, scaler, policy, last_good):
    """One optimizer step: (loss, whether the scaler skipped it)."""
    index = next(batches)
    x, y = data["train_x"][index], data["train_y"][index]
    if not np.all(np.isfinite(x)):
        rows_bad = np.flatnonzero(~np.all(np.isfinite(x.reshape(len(x), -1)), axis=1))
        raise TrainingStopped(
            f"NaN/inf in the training inputs at step {step} (dataset rows "
            f"{index[rows_bad][:5].tolist()}); training stopped", step, last_good)
    optimizer.zero_grad()
    with autocast(policy):
        loss = loss_fn(model(Tensor(x)), y)
    loss_value = loss.item()
    if not np.isfinite(loss_value):
        raise TrainingStopped(f"the loss became {loss_value} at step {step} (the forward "
                              f"pass overflowed or diverged); training stopped",
                              step, last_good)
    return loss_value, _backward_and_step(loss, optimizer, scaler, step, last_good), (x, y)


def _backward_and_step(loss, optimizer, scaler, step, last_good) -> bool:
    """Backward and update; True when the step was skipped for inf/NaN gradients."""
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        found = bool(scaler.found_inf(optimizer))
        scaler.update()
        return found
    loss.backward()
    for group in optimizer.param_groups:
        for param in group["params"]:
            if param.grad is not None and not np.all(np.isfinite(param.grad)):
                raise TrainingStopped(f"non-finite gradients at step {step} and the policy has "
                                      "no loss scaler to skip them; training stopped",
                                      step, last_good)
    optimizer.step()
    return False


def _write_outputs(out: str, summary: dict, rows: list) -> None:
    write_metrics(os.path.join(out, "metrics.parquet"), rows)
    write_json(os.path.join(out, "summary.json"), summary)


def _plain(config: TrainConfig) -> dict:
    values = asdict(config)
    values["policy"] = values["policy"] if isinstance(values["policy"], str) else \
        get_policy(values["policy"]).name
    values["whatif"] = [get_format(fmt).name for fmt in values["whatif"]]
    return values
