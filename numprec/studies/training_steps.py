"""The training loop the training studies share: batches of the digits drawn by one seeded
generator, a forward under the policy, a (scaled) backward and the optimizer step."""
from __future__ import annotations

import numpy as np

import numprec
from numprec import nn
from numprec.amp import autocast


def train_steps(model, optimizer, policy, data, steps: int, batch: int, seed: int,
                scaler=None) -> list:
    """Train `steps` steps; per step (loss, the loss scale it used, whether the scaler skipped
    it). The same seed draws the same batches in every run."""
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        index = rng.choice(len(data["train_x"]), batch, replace=False)
        optimizer.zero_grad()
        with autocast(policy):
            loss = loss_fn(model(numprec.Tensor(data["train_x"][index])), data["train_y"][index])
        if scaler is None:
            loss.backward()
            optimizer.step()
            out.append((float(loss.data), 1.0, False))
            continue
        scale, before = float(scaler.get_scale()), optimizer.step_count
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        out.append((float(loss.data), scale, optimizer.step_count == before))  # skipped
    return out


__all__ = ["train_steps"]
