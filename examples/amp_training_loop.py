"""The classic automatic-mixed-precision training loop, written with numprec names.

    python examples/amp_training_loop.py [--steps 200]

autocast runs each op in its policy's formats (fp16 matmuls with fp32 accumulation, fp32
softmax and loss), the optimizer keeps fp32 master weights, and GradScaler scales the loss so
that small gradients survive fp16, skips steps whose gradients overflowed and adapts the scale:
the loop PyTorch's AMP recipe teaches, line for line, but bit-exact emulation on a CPU.
"""
import argparse

import numpy as np

import numprec
from numprec import nn
from numprec.amp import GradScaler, autocast, get_policy
from numprec.data import load_digits, split_dataset


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)

    numprec.manual_seed(0)
    data = split_dataset(*load_digits(), seed=0)
    policy = get_policy("fp16-amp")
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = numprec.optim.Adam(model.parameters(), lr=1e-3, policy=policy)  # fp32 masters
    scaler = GradScaler()
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    skipped = 0
    for step in range(args.steps):
        index = rng.choice(len(data["train_x"]), 32, replace=False)
        x, y = numprec.Tensor(data["train_x"][index]), data["train_y"][index]
        optimizer.zero_grad()
        with autocast(policy):                 # forward in the policy's formats
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()          # backward from the scaled loss
        scaler.step(optimizer)                 # unscale; skip the step on inf/NaN gradients
        skipped += bool(scaler.found_inf(optimizer))
        scaler.update()                        # back off after an overflow, grow when clean
    with numprec.no_grad(), autocast(policy):
        logits = model(numprec.Tensor(data["test_x"]))
    accuracy = float(np.mean(np.argmax(logits.data, axis=1) == data["test_y"]))
    result = {"final_loss": loss.item(), "test_accuracy": accuracy, "skipped_steps": skipped,
              "loss_scale": scaler.get_scale()}
    print(", ".join(f"{k} {v:g}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    main()
