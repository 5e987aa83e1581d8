"""Watch what fp16 does to a training run: a Monitor around an unchanged training loop.

    python examples/monitoring.py [--steps 30] [--out runs/example-monitor]

Pure fp16 Adam (fp16 weights, fp16 optimizer state, no loss scaling) on the digits: the monitor
counts, per step and per tensor, the events the emulated arithmetic raised (values rounded to
zero, subnormal, overflowed), and names the first op that produced a NaN or inf. The second
moment of Adam (exp_avg_sq = 0.001 * grad^2) underflows to zero in fp16, the update
lr * m / (sqrt(v) + eps) explodes, and the next forward pass overflows.
"""
import argparse

import numpy as np

import numprec
from numprec import nn
from numprec.amp import autocast, get_policy
from numprec.data import load_digits, split_dataset
from numprec.monitor import Monitor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", default=None, help="write tensors/exponents.parquet here")
    args = parser.parse_args(argv)

    numprec.manual_seed(0)
    data = split_dataset(*load_digits(), seed=0)
    policy = get_policy("fp16")
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = numprec.optim.Adam(model.parameters(), lr=1e-3, policy=policy)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    with Monitor(model, optimizer) as monitor:
        for step in range(args.steps):
            index = rng.choice(len(data["train_x"]), 32, replace=False)
            optimizer.zero_grad()
            with autocast(policy):
                loss = loss_fn(model(numprec.Tensor(data["train_x"][index])),
                               data["train_y"][index])
            if not np.isfinite(loss.item()):
                break
            loss.backward()
            optimizer.step()
    table = monitor.table()
    state = table[(table.kind == "state") & (table.stat == "underflow_frac")]
    worst = state.sort_values("value").iloc[-1]
    print(f"steps recorded: {table.step.nunique()}; worst optimizer-state underflow: "
          f"{worst.layer}.{worst.tensor} at step {worst.step}: {worst.value:.1%} of its "
          f"elements rounded to zero")
    first = monitor.first_nonfinite
    if first is not None:
        print(f"first NaN/inf: step {first['step']}, {first['pass']} pass, op {first['op']} in "
              f"layer {first['layer']!r}: {first['reason']}")
    if args.out:
        monitor.save(args.out)
    return monitor


if __name__ == "__main__":
    main()
