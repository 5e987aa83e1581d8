"""Training step time of the engine under each precision preset, against its own fp32 preset and
against PyTorch CPU float32 (when PyTorch is installed).

    numprec bench training [--steps 40] [--warmup 5] [--rounds 3] [--out reports]

One step = zero_grad, forward under autocast(policy), cross-entropy, (scaled) backward, optimizer
(Adam) step and scaler update, on batches of 32 digit images; the MLP (64-256-10) and the small
CNN of numprec.training.models. Reports the median step time (and the 10th/90th percentiles), the
ratio to the engine's fp32 preset and to PyTorch CPU float32. Targets: the engine's fp32 step at
most 2x PyTorch's, fp16-amp at most 3x. The cases take turns over several rounds (each round
times every case, from a fresh model), so that a slow spell of a shared machine weighs on all of
them alike rather than on whichever case it fell in.
Writes reports/bench_training.csv and reports/bench_training.md (atomically).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

import numprec
from numprec.studies.bench.common import atomic_write_text, engine_step, machine_notes
from numprec import nn
from numprec.amp import PRESETS, get_policy
from numprec.data import load_digits, split_dataset
from numprec.training import build_model, make_scaler

MODELS = ("mlp", "cnn")
TARGETS = {"fp32": 2.0, "fp16-amp": 3.0}  # the engine's step / PyTorch CPU float32's


def _batches(data, count, batch=32, seed=0):
    rng = np.random.default_rng(seed)
    index = [rng.choice(len(data["train_x"]), batch, replace=False) for _ in range(count)]
    return [(data["train_x"][i], data["train_y"][i]) for i in index]


def time_engine(model_name, policy_name, batches, warmup):
    """Per-step wall times (seconds) of the numprec engine; non-finite losses are timed too
    (the fp16 preset diverges on this task)."""
    policy = get_policy(policy_name)
    numprec.manual_seed(0)
    model = build_model(model_name)
    optimizer = numprec.optim.Adam(model.parameters(), lr=1e-3, policy=policy)
    scaler = make_scaler(policy)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for step, (x, y) in enumerate(batches):
        start = time.perf_counter()
        engine_step(model, optimizer, scaler, loss_fn, policy, x, y)
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return np.array(times)


def time_torch(model_name, batches, warmup):
    """Per-step wall times of the same model in PyTorch CPU float32, or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    if model_name == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 10))
        shape = (-1, 64)
    else:
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(64, 10))
        shape = (-1, 1, 8, 8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for step, (x, y) in enumerate(batches):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x).reshape(shape)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return np.array(times)


def run(steps: int, warmup: int, rounds: int = 1) -> pd.DataFrame:
    """Every case (PyTorch when installed, then each preset) timed `rounds` times in turn, steps
    timed steps after warmup untimed ones each time; the statistics pool every round's steps."""
    data = split_dataset(*load_digits(), seed=0)
    rows = []
    for model_name in MODELS:
        batches = _batches(data, steps + warmup)
        cases = ["pytorch-fp32"] + list(PRESETS)
        times = {case: [] for case in cases}
        for _ in range(rounds):
            for case in cases:
                if case == "pytorch-fp32":
                    measured = time_torch(model_name, batches, warmup)
                    if measured is None:
                        continue
                else:
                    measured = time_engine(model_name, case, batches, warmup)
                times[case].append(measured * 1e3)
        for case in cases:
            if not times[case]:
                continue  # (no PyTorch here)
            pooled = np.concatenate(times[case])
            rows.append(dict(model=model_name, policy=case, steps=pooled.size,
                             median_ms=float(np.median(pooled)),
                             p10_ms=float(np.percentile(pooled, 10)),
                             p90_ms=float(np.percentile(pooled, 90))))
    frame = pd.DataFrame(rows)
    for model_name in MODELS:
        mine = frame.model == model_name
        fp32 = frame.loc[mine & (frame.policy == "fp32"), "median_ms"].iloc[0]
        frame.loc[mine, "vs_fp32"] = frame.loc[mine, "median_ms"] / fp32
        torch_rows = frame.loc[mine & (frame.policy == "pytorch-fp32"), "median_ms"]
        frame.loc[mine, "vs_pytorch"] = (frame.loc[mine, "median_ms"] / torch_rows.iloc[0]
                                         if len(torch_rows) else np.nan)
    return frame


def markdown(frame: pd.DataFrame, notes: str, torch_available: bool) -> str:
    lines = ["# Training step time under precision policies", "",
             f"Machine: {notes}; Python {platform.python_version()}, NumPy {np.__version__}.",
             "One step: forward under the policy, cross-entropy, (scaled) backward, Adam, scaler "
             "update; batch 32 of 8x8 digits. Median of the timed steps of every round "
             "(p10-p90 beside it); the cases take turns, round after round.",
             ""]
    if not torch_available:
        lines += ["PyTorch is not installed here, so the PyTorch CPU float32 column could not be "
                  "measured (install torch and rerun to fill it).", ""]
    lines += ["| model | policy | median ms/step | p10-p90 ms | vs engine fp32 | vs PyTorch fp32 |",
              "|---|---|---:|---:|---:|---:|"]
    for row in frame.itertuples():
        vs_torch = "n/a" if np.isnan(row.vs_pytorch) else f"{row.vs_pytorch:.2f}x"
        lines.append(f"| {row.model} | {row.policy} | {row.median_ms:.2f} | "
                     f"{row.p10_ms:.2f}-{row.p90_ms:.2f} | {row.vs_fp32:.2f}x | {vs_torch} |")
    lines += ["", "## Targets: the engine's step against PyTorch CPU float32", ""]
    for policy_name, bound in TARGETS.items():
        for model_name in MODELS:
            ratio = frame.loc[(frame.model == model_name) & (frame.policy == policy_name),
                              "vs_pytorch"].iloc[0]
            verdict = ("not measured (no PyTorch)" if np.isnan(ratio) else
                       "met" if ratio <= bound else "NOT met")
            shown = "n/a" if np.isnan(ratio) else f"{ratio:.2f}x"
            lines.append(f"- {policy_name}, {model_name}: {shown} (target <= {bound:g}x): "
                         f"{verdict}")
    lines += ["", "Notes: every op of every preset but fp64 rounds its inputs and outputs through "
              "numprec's emulated kernels, so even the fp32 preset pays for emulation; fp64 "
              "rounds nothing. The fp16 preset diverges on this task (pure-fp16 Adam); its steps "
              "are timed all the same. The machine is shared, so absolute times vary between "
              "runs; the ratios come from the same run.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="numprec bench training",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps per case (default 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times every case is timed, in turn (default 3)")
    parser.add_argument("--out", default="reports", help="output folder (default reports)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--steps and --rounds must be >= 1 and --warmup >= 0")
    notes = machine_notes()
    frame = run(args.steps, args.warmup, args.rounds)
    torch_available = bool((frame.policy == "pytorch-fp32").any())
    atomic_write_text(os.path.join(args.out, "bench_training.csv"), frame.to_csv(index=False))
    text = markdown(frame, notes, torch_available)
    atomic_write_text(os.path.join(args.out, "bench_training.md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
