"""Train a small model on a dataset under a precision policy, reproducibly.

Same seed and policy give bit-identical metrics: the seed drives parameter initialisation,
batch order, dropout and stochastic rounding. Non-finite training inputs, a non-finite loss, or
non-finite gradients without a loss scaler to skip them stop the run with TrainingStopped; the
last checkpoint written (a good one) is kept.
"""
from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass

import numpy as np

from .. import nn, optim
from ..amp import GradScaler, StaticLossScaler, autocast, get_policy
from ..autodiff import Tensor, manual_seed, no_grad
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

    def check(self) -> None:
        for name in ("steps", "batch", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: "
                             f"{', '.join(OPTIMIZERS)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")


def make_scaler(policy):
    if policy.loss_scale == "dynamic":
        return GradScaler()
    if policy.loss_scale is not None:
        return StaticLossScaler(float(policy.loss_scale))
    return None


def _batches(n: int, batch: int, rng: np.random.Generator):
    """Endless batches: a fresh permutation each epoch, the last partial batch dropped."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch + 1, batch):
            yield order[start:start + batch]


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


def train(config: TrainConfig, data: dict, out: str | None = None, progress: bool = False) -> dict:
    """Run the training; returns the summary (also written to out/summary.json with
    out/metrics.parquet and out/checkpoint.npz when `out` is given)."""
    config.check()
    policy = get_policy(config.policy)
    manual_seed(config.seed)
    model = build_model(config.model)
    optimizer = OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr, policy=policy)
    scaler = make_scaler(policy)
    loss_fn = nn.CrossEntropyLoss()
    batches = _batches(len(data["train_x"]), config.batch, np.random.default_rng(config.seed))
    checkpoint = os.path.join(out, "checkpoint.npz") if out else None
    rows, skipped, last_good, loss_value, bar = [], 0, None, float("nan"), \
        _progress(config.steps, progress)
    summary = {"policy": policy.name, "model": config.model, "config": _plain(config),
               "requested_steps": config.steps}
    try:
        for step in range(1, config.steps + 1):
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
            found_inf = _backward_and_step(loss, optimizer, scaler, step, last_good)
            skipped += found_inf
            rows += [(step, "loss", loss_value), (step, "skipped", float(found_inf)),
                     (step, "loss_scale", scaler.get_scale() if scaler else 1.0),
                     (step, "lr", optimizer.param_groups[0]["lr"])]
            if checkpoint and (step % config.checkpoint_every == 0 or step == config.steps):
                save_checkpoint(checkpoint, model, step)
                last_good = f"{checkpoint} (step {step})"
            if bar is not None:
                bar.update(1)
                if step % 10 == 0:
                    bar.set_postfix(loss=f"{loss_value:.4f}", skipped=skipped)
        accuracy = evaluate(model, data["test_x"], data["test_y"], policy)
        rows.append((config.steps, "test_accuracy", accuracy))
        summary.update(status="ok", steps=config.steps, final_loss=loss_value,
                       test_accuracy=accuracy, skipped_steps=skipped,
                       final_loss_scale=scaler.get_scale() if scaler else 1.0)
    except TrainingStopped as stop:
        summary.update(status="stopped", message=str(stop), steps=stop.step - 1,
                       final_loss=loss_value, test_accuracy=None, skipped_steps=skipped,
                       final_loss_scale=scaler.get_scale() if scaler else 1.0,
                       last_good_checkpoint=stop.checkpoint)
        if out:
            _write_outputs(out, summary, rows)
        raise
    finally:
        if bar is not None:
            bar.close()
    if out:
        _write_outputs(out, summary, rows)
    return summary


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
    return values
