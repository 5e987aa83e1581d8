"""A policy's per-layer passes: one layer's op class in one phase runs in other formats."""
import numpy as np
import pytest

import numprec
from numprec import nn
from numprec.amp import autocast
from numprec.monitor import Monitor
from numprec.policy import Pass, get_policy, policy_from_dict


class TwoLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def _model():
    numprec.manual_seed(3)
    return TwoLinear()


X = np.random.default_rng(0).standard_normal((8, 16))
FP32_MATMUL = Pass("fp32", "fp32", "fp32")


def test_one_layers_forward_matmul_runs_in_its_own_formats():
    fp16 = get_policy("fp16")
    mixed = fp16.with_layer_pass("fc2", "forward", "matmul", FP32_MATMUL)
    model = nn.name_layers(_model())
    with autocast(mixed):
        y = model(numprec.Tensor(X)).data
    # by hand: fc1 under fp16, fc2 under a policy whose matmuls are fp32
    fp32_matmul = fp16.replace(name="fp32-matmul", forward=dict(fp16.forward, matmul=FP32_MATMUL))
    with autocast(fp16):
        h = model.fc1(numprec.Tensor(X))
    with autocast(fp32_matmul):
        expected = model.fc2(h).data
    np.testing.assert_array_equal(y, expected)
    with autocast(fp16):
        plain = model(numprec.Tensor(X)).data
    assert not np.array_equal(y, plain)  # the override changed something


def test_an_override_reaches_the_layers_inside_only():
    fp16 = get_policy("fp16")
    nested = fp16.with_layer_pass("block", "backward", "matmul", FP32_MATMUL)
    assert nested.pass_for("matmul", "backward", "block.0.fc") == FP32_MATMUL
    assert nested.pass_for("matmul", "forward", "block.0.fc") == fp16.pass_for("matmul")
    assert nested.pass_for("matmul", "backward", "blocks") == fp16.pass_for("matmul", "backward")
    assert nested.pass_for("matmul", "backward") == fp16.pass_for("matmul", "backward")
    removed = nested.with_layer_pass("block", "backward", "matmul", None)
    assert dict(removed.layers) == {}


def test_backward_overrides_change_the_gradients_of_that_layer_only():
    fp16 = get_policy("fp16")
    wide = fp16.with_layer_pass("fc1", "backward", "matmul", FP32_MATMUL)
    grads = {}
    for name, policy in (("fp16", fp16), ("wide", wide)):
        model = nn.name_layers(_model())
        with autocast(policy):
            loss = model(numprec.Tensor(X * 1e-3)).sum()
        loss.backward()
        grads[name] = {n: p.grad.copy() for n, p in model.named_parameters()}
    np.testing.assert_array_equal(grads["fp16"]["fc2.weight"], grads["wide"]["fc2.weight"])
    assert not np.array_equal(grads["fp16"]["fc1.weight"], grads["wide"]["fc1.weight"])


def test_an_unnamed_model_under_per_layer_passes_is_refused():
    policy = get_policy("fp16").with_layer_pass("fc2", "forward", "matmul", FP32_MATMUL)
    with pytest.raises(ValueError, match="name_layers"):
        with autocast(policy):
            _model()(numprec.Tensor(X))


def test_a_monitor_keeps_names_it_did_not_give():
    model = nn.name_layers(_model())
    with Monitor(model):
        pass
    assert model.fc2.__dict__["_layer"] == "fc2"
    other = _model()
    with Monitor(other):
        assert other.fc2.__dict__["_layer"] == "fc2"
    assert "_layer" not in other.fc2.__dict__


def test_layers_round_trip_through_dicts_and_are_checked():
    policy = get_policy("fp16").with_layer_pass("fc2", "backward", "matmul", FP32_MATMUL)
    again = policy_from_dict(policy.describe())
    assert again.pass_for("matmul", "backward", "fc2") == FP32_MATMUL
    assert again.pass_for("matmul", "forward", "fc2") == policy.pass_for("matmul", "forward")
    from_file = policy_from_dict({"base": "fp16", "layers": {"fc2": {"matmul": {
        "backward": {"input": "fp32", "acc": "fp32", "output": "fp32"}}}}})
    assert from_file.pass_for("matmul", "backward", "fc2") == FP32_MATMUL
    with pytest.raises(ValueError, match="phase"):
        get_policy("fp16").replace(layers={"fc2": {"sideways": {}}})
    with pytest.raises(ValueError):
        get_policy("fp16").replace(layers={"fc2": {"forward": {"matmulz": FP32_MATMUL}}})
