"""A monitored training step on backend="gpu" counts the same events, and gives the same
tables, as on the CPU. Needs a usable numba.cuda: run by test_gpu_sim.py under the simulator
(small model, few steps)."""
import numpy as np
import pandas as pd
import pytest

import numprec
from numprec import functional as F
from numprec import nn, optim
from numprec.amp import GradScaler, autocast, get_policy
from numprec.monitor import Monitor


def _monitored_steps(backend, policy_name, steps=2):
    previous = numprec.get_backend()
    numprec.set_backend(backend)
    try:
        numprec.manual_seed(3)
        model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
        policy = get_policy(policy_name)
        opt = optim.Adam(model.parameters(), lr=1e-2, policy=policy)
        scaler = GradScaler(init_scale=2.0 ** 12) if policy_name.endswith("amp") else None
        rng = np.random.default_rng(0)
        x = (rng.standard_normal((4, 6)) * 1e-3).astype(np.float32)  # small: events happen
        y = rng.integers(0, 3, 4)
        with Monitor(model, opt, scaler) as monitor:
            for _ in range(steps):
                opt.zero_grad()
                with autocast(policy):
                    loss = F.cross_entropy(model(numprec.Tensor(x)), y)
                if scaler is None:
                    loss.backward()
                    opt.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
        return monitor.table(), monitor.histograms(), [p.data.copy() for p in model.parameters()]
    finally:
        numprec.set_backend(previous)


@pytest.mark.parametrize("policy", ["fp16", "fp16-amp", "bf16-amp", "fp8-hybrid"])
def test_monitor_tables_match_between_backends(policy):
    cpu_table, cpu_hist, cpu_params = _monitored_steps("cpu", policy)
    gpu_table, gpu_hist, gpu_params = _monitored_steps("gpu", policy)
    pd.testing.assert_frame_equal(cpu_table, gpu_table)
    pd.testing.assert_frame_equal(cpu_hist, gpu_hist)
    for a, b in zip(cpu_params, gpu_params):
        assert np.array_equal(a.view(np.int64), b.view(np.int64))
    events = cpu_table[cpu_table.stat.isin(["underflow_frac", "subnormal_frac",
                                            "inexact_frac"])]
    assert (events.value > 0).any()  # the comparison covers events that happened
