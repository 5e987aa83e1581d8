"""The first NaN or inf is located: step, pass, op, layer, tensor and why."""
import numpy as np

import numprec
from numprec import functional as F
from numprec import nn, optim
from numprec.amp import get_policy, autocast
from numprec.monitor import Monitor


def _model(scale):
    numprec.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    model[2].weight.data = model[2].weight.data * scale
    return model


def _step(model, opt, x, policy="fp16"):
    opt.zero_grad()
    with autocast(policy):
        loss = F.mse_loss(model(numprec.Tensor(x)), np.zeros((2, 2)))
    loss.backward()
    opt.step()


def test_a_forward_overflow_is_located_at_its_op_and_layer():
    model = _model(1e5)  # layer 2's weights are fine in fp32, its product overflows fp16
    opt = optim.SGD(model.parameters(), lr=0.0, policy=get_policy("fp16"))
    x = np.full((2, 4), 3.0)
    with Monitor(model, opt) as monitor:
        _step(model, opt, x)
    first = monitor.first_nonfinite
    assert first["step"] == 0 and first["pass"] == "forward"
    assert first["layer"] == "2" and first["op"] == "linear"
    assert first["reason"].startswith("overflow")


def test_an_update_overflow_is_located_in_the_update_pass():
    model = _model(1.0)
    opt = optim.SGD(model.parameters(), lr=1e9, policy=get_policy("fp16"))
    x = np.full((2, 4), 0.5)
    with Monitor(model, opt) as monitor:
        _step(model, opt, x)
    first = monitor.first_nonfinite
    assert first["pass"] == "update" and first["op"] == "store_weight"
    assert first["reason"].startswith("overflow: the new weight")
    assert "fp16's max 65504" in first["reason"]


def test_a_backward_overflow_is_located_in_the_backward_pass():
    model = _model(1.0)
    opt = optim.SGD(model.parameters(), lr=0.0, policy=get_policy("fp16"))
    x = np.full((2, 4), 0.5)
    with Monitor(model, opt) as monitor:
        opt.zero_grad()
        with autocast("fp16"):
            out = model(numprec.Tensor(x))
        out.backward(np.full((2, 2), 60000.0))  # fine in fp16; its products are not
        opt.step()
    first = monitor.first_nonfinite
    assert first["pass"] == "backward" and first["step"] == 0
    assert first["layer"] == "2"


def test_a_clean_run_has_no_first_nonfinite():
    model = _model(1.0)
    opt = optim.SGD(model.parameters(), lr=0.01, policy=get_policy("fp16"))
    with Monitor(model, opt) as monitor:
        _step(model, opt, np.full((2, 4), 0.5))
    assert monitor.first_nonfinite is None
