"""What monitoring costs: the training step with and without a numprec.monitor.Monitor.

    numprec bench monitor [--steps 30] [--rounds 5] [--out reports]

The step of numprec bench training (batch 32 of 8x8 digits, Adam, the policy's loss scaler) on
the MLP and the CNN, under fp16-amp and fp32: unmonitored, monitored every step with the
default statistics (events, value statistics, exponent histograms, stagnation; no what-if, no
shadow), and monitored with what-if e4m3 (for information). The cases take their steps in turn,
one step each (in an order that rotates from batch to batch), `steps` per round, so that a
shared machine's load spreads over all of them alike; the median step time over all rounds is
reported. Target: default monitoring <= 1.30x the unmonitored step.
Writes reports/bench_monitor.csv and reports/bench_monitor.md (atomically).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time

import numpy as np
import pandas as pd

import numprec
from numprec import nn
from numprec.amp import get_policy
from numprec.data import load_digits, split_dataset
from numprec.monitor import Monitor
from numprec.studies.bench.common import atomic_write_text, engine_step, machine_notes
from numprec.training import build_model, make_scaler

MODELS = ("mlp", "cnn")
POLICIES = ("fp16-amp", "fp32")
CASES = {"unmonitored": None, "monitored": (), "monitored + what-if e4m3": ("e4m3",)}
TARGET = 1.30


class _Case:
    """One model training under one policy, with or without a monitor."""

    def __init__(self, model_name, policy_name, whatif):
        self.policy = get_policy(policy_name)
        numprec.manual_seed(0)
        self.model = build_model(model_name)
        self.optimizer = numprec.optim.Adam(self.model.parameters(), lr=1e-3, policy=self.policy)
        self.scaler = make_scaler(self.policy)
        self.loss_fn = nn.CrossEntropyLoss()
        self.monitor = None if whatif is None else Monitor(self.model, self.optimizer,
                                                           self.scaler, whatif=whatif)

    def steps(self, batches) -> list:
        times = []
        with self.monitor if self.monitor is not None else contextlib.nullcontext():
            for x, y in batches:
                start = time.perf_counter()
                engine_step(self.model, self.optimizer, self.scaler, self.loss_fn, self.policy,
                            x, y)
                times.append(time.perf_counter() - start)
        return times


def run(steps: int, rounds: int) -> pd.DataFrame:
    data = split_dataset(*load_digits(), seed=0)
    rng = np.random.default_rng(0)
    batches = [(data["train_x"][i], data["train_y"][i]) for i in
               (rng.choice(len(data["train_x"]), 32, replace=False) for _ in range(steps))]
    rows = []
    for model_name in MODELS:
        for policy_name in POLICIES:
            cases = {name: _Case(model_name, policy_name, whatif)
                     for name, whatif in CASES.items()}
            for case in cases.values():
                case.steps(batches[:3])  # compile and warm up
            times = {name: [] for name in cases}
            names = list(cases)
            for _ in range(rounds):
                for k, batch in enumerate(batches):  # step by step in turn: a load burst hits
                    # every case; the order rotates, so that each case follows each other one
                    # (a what-if step leaves colder caches behind than an unmonitored one)
                    for name in names[k % len(names):] + names[:k % len(names)]:
                        times[name] += cases[name].steps([batch])
            plain = float(np.median(times["unmonitored"]))
            for name, measured in times.items():
                median = float(np.median(measured))
                # each step against the unmonitored step on the same batch, taken next to it: a
                # slow spell of a shared machine hits both, and cancels in the ratio
                paired = np.asarray(measured) / np.asarray(times["unmonitored"])
                rows.append(dict(model=model_name, policy=policy_name, case=name,
                                 steps=len(measured), median_ms=median * 1e3,
                                 p10_ms=float(np.percentile(measured, 10)) * 1e3,
                                 p90_ms=float(np.percentile(measured, 90)) * 1e3,
                                 vs_unmonitored=median / plain,
                                 paired_ratio=float(np.median(paired))))
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, notes: str) -> str:
    lines = ["# What monitoring costs", "",
             f"Machine: {notes}; Python {platform.python_version()}, NumPy {np.__version__}.",
             "One step: forward under the policy, cross-entropy, (scaled) backward, Adam, scaler "
             "update; batch 32 of 8x8 digits. The cases take their steps in turn, one step "
             "each, in an order that rotates from batch to batch; median over all steps "
             "(p10-p90 in brackets); `monitored` records every step with the default "
             "statistics.", "",
             "`vs unmonitored`: the ratio of the medians; `paired`: the median over steps of each "
             "step's time over the unmonitored step on the same batch, taken next to it (robust "
             "to a shared machine's slow spells).", "",
             "| model | policy | case | median ms/step | p10-p90 ms | vs unmonitored | paired |",
             "|---|---|---|---:|---:|---:|---:|"]
    for row in frame.itertuples():
        lines.append(f"| {row.model} | {row.policy} | {row.case} | {row.median_ms:.2f} | "
                     f"{row.p10_ms:.2f}-{row.p90_ms:.2f} | {row.vs_unmonitored:.2f}x | "
                     f"{row.paired_ratio:.2f}x |")
    lines += ["", f"## Target: default monitoring <= {TARGET:.2f}x the unmonitored step", "",
              "Met when both estimates are at most the target."]
    for row in frame[frame.case == "monitored"].itertuples():
        worst = max(row.vs_unmonitored, row.paired_ratio)
        verdict = "met" if worst <= TARGET else "NOT met"
        lines.append(f"- {row.model}, {row.policy}: {row.vs_unmonitored:.2f}x, paired "
                     f"{row.paired_ratio:.2f}x ({verdict})")
    lines += ["", "Where the time goes: while a monitor watches, every op counts the flags of "
              "its roundings and reports a record (engine side); the monitor attributes each "
              "record to a tensor and, at the end of the step, sums the events in one compiled "
              "call and computes the value statistics and exponent histograms of every recorded "
              "tensor (about 6 arrays per parameter: weight, master, update, gradient, two "
              "optimizer states) in one compiled pass shared out among numba's threads. "
              "What-if formats round every recorded tensor twice more per format (unscaled and "
              "scaled). The machine is shared, so absolute times vary between runs; the ratios "
              "come from steps taken in turn, so that load bursts hit every case.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="numprec bench monitor",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per round (default 30)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of steps (default 5)")
    parser.add_argument("--out", default="reports", help="output folder (default reports)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        parser.error("--steps and --rounds must be >= 1")
    notes = machine_notes()
    frame = run(args.steps, args.rounds)
    atomic_write_text(os.path.join(args.out, "bench_monitor.csv"), frame.to_csv(index=False))
    text = markdown(frame, notes)
    atomic_write_text(os.path.join(args.out, "bench_monitor.md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
