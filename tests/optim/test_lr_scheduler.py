"""Learning-rate schedules (PyTorch's closed forms)."""
import math

import numpy as np
import pytest

from numprec import optim
from numprec.nn import Parameter


def lrs(make, steps):
    opt = optim.SGD([Parameter(np.ones(1))], lr=1.0)
    scheduler = make(opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
    return out


def test_step_lr():
    assert lrs(lambda o: optim.StepLR(o, 2, gamma=0.5), 5) == [1, 1, 0.5, 0.5, 0.25, 0.25]


def test_cosine_annealing():
    got = lrs(lambda o: optim.CosineAnnealingLR(o, T_max=4, eta_min=0.1), 4)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_linear_warmup():
    np.testing.assert_allclose(lrs(lambda o: optim.LinearLR(o, 0.25, 1.0, total_iters=3), 4),
                               [0.25, 0.5, 0.75, 1.0, 1.0])


def test_warmup_then_cosine():
    got = lrs(lambda o: optim.WarmupCosineLR(o, warmup_steps=2, total_steps=4), 5)
    np.testing.assert_allclose(got, [0.5, 1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-15)
    with pytest.raises(ValueError, match="total_steps 2 must exceed warmup_steps 2"):
        lrs(lambda o: optim.WarmupCosineLR(o, 2, 2), 1)
