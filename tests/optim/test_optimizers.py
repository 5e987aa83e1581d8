"""Optimizers against PyTorch's update formulas (float64), storage formats, update rounding."""
import math

import numpy as np
import pytest

import numprec
from numprec import optim
from numprec.amp import get_policy
from numprec.nn import Parameter

FP64 = get_policy("fp64")


def run(opt_factory, grads, start):
    param = Parameter(np.array(start, dtype=float))
    opt = opt_factory([param])
    history = []
    for grad in grads:
        param.grad = np.array(grad, dtype=float)
        opt.step()
        history.append(param.data.copy())
    return history, opt


GRADS = [[0.5, -1.0], [0.25, 2.0], [-1.0, 0.5], [0.1, 0.1]]


def test_sgd_momentum_nesterov_weight_decay_follow_pytorch():
    lr, mom, wd = 0.1, 0.9, 0.01
    history, _ = run(lambda p: optim.SGD(p, lr, momentum=mom, weight_decay=wd, nesterov=True,
                                         policy=FP64), GRADS, [1.0, -2.0])
    w, buf = np.array([1.0, -2.0]), None
    for grad, got in zip(GRADS, history):
        d = np.array(grad) + wd * w
        buf = d if buf is None else mom * buf + d
        w = w - lr * (d + mom * buf)
        np.testing.assert_allclose(got, w, rtol=1e-15)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_adam_and_adamw_follow_pytorch(cls):
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    history, opt = run(lambda p: cls(p, lr, (b1, b2), eps, wd, policy=FP64), GRADS, [1.0, -2.0])
    w, m, v = np.array([1.0, -2.0]), 0.0, 0.0
    for t, (grad, got) in enumerate(zip(GRADS, history), start=1):
        g = np.array(grad)
        if cls is optim.AdamW:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
        w = w - lr / (1 - b1 ** t) * m / denom
        np.testing.assert_allclose(got, w, rtol=1e-14)
    assert opt.state_dict()["state"][0]["step"] == len(GRADS)


def test_storage_formats_follow_the_policy():
    param = Parameter(np.array([0.1, 1.0 / 3.0]))
    opt = optim.Adam([param], lr=1e-3, policy=get_policy("fp16"))
    assert param.format.name == "fp16"
    np.testing.assert_array_equal(param.data, np.float16([0.1, 1.0 / 3.0]).astype(float))
    param.grad = np.array([1e-3, -2e-3])
    opt.step()
    state = opt.state[param]
    for values in (param.data, state["exp_avg"], state["exp_avg_sq"]):
        np.testing.assert_array_equal(values, np.float16(values).astype(float))


def test_without_a_policy_parameters_keep_their_format():
    param = Parameter(np.array([1.0], np.float32))
    opt = optim.SGD([param], lr=2.0 ** -30)
    param.grad = np.array([1.0])
    opt.step()
    assert param.format.name == "fp32" and param.data[0] == 1.0  # the update is below fp32's ulp


@pytest.mark.parametrize("mode", ["rne", "sr"])
def test_update_stagnation_under_rne_and_not_under_sr(mode):
    """Adding 1 repeatedly in fp16 stops at 2048 under round-to-nearest (REFERENCE.md)."""
    policy = get_policy("fp16").replace(update_mode=mode, seed=4)
    param = Parameter(np.array([2040.0] * 64), format="fp16")
    opt = optim.SGD([param], lr=1.0, policy=policy)
    numprec.manual_seed(0)
    for _ in range(40):
        param.grad = np.full(64, -1.0)
        opt.step()
    if mode == "rne":
        assert np.all(param.data == 2048.0)
    else:  # unbiased: 2040 + 40 on average; fp16's grid there is 2 wide
        assert abs(param.data.mean() - 2080.0) < 4.0 and param.data.max() > 2048.0


def test_optimizer_argument_checks():
    param = Parameter(np.ones(2))
    with pytest.raises(TypeError, match="numprec.amp.get_policy"):
        optim.SGD([param], policy="fp16")
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="betas must be two numbers"):
        optim.Adam([param], betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        optim.SGD([param], nesterov=True)


def test_zero_grad_and_param_groups():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.SGD([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.data, [0.5, 0.5])
    np.testing.assert_allclose(b.data, [0.9, 0.9])
    opt.zero_grad()
    assert a.grad is None and b.grad is None
