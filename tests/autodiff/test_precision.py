"""Ops run under the active policy: casts, accumulation, output rounding, promotion, modes."""
import numpy as np
import pytest

import numprec
from numprec import functional as F
from numprec import nn
from numprec.amp import Pass, Policy, autocast, policy_from_dict
from numprec.policy import OpArithmetic


def r(x, fmt, mode="rne"):
    return np.asarray(numprec.round(np.asarray(x, dtype=float), fmt, mode))


def rng_values(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_linear_under_fp16_amp_is_fp16_operands_fp32_accumulation_fp16_output():
    x = numprec.Tensor(rng_values(4, 8).astype(np.float32), requires_grad=True)
    w = numprec.Tensor(rng_values(3, 8, seed=1).astype(np.float32), requires_grad=True)
    b = numprec.Tensor(rng_values(3, seed=2).astype(np.float32), requires_grad=True)
    with autocast("fp16-amp"):
        y = F.linear(x, w, b)
    x16, w16, b16 = (r(t.data, "fp16") for t in (x, w, b))
    expected = r(r(x16 @ w16.T + b16, "fp32"), "fp16")
    assert y.format.name == "fp16"
    np.testing.assert_array_equal(y.data, expected)
    g = r(rng_values(4, 3, seed=3), "fp16")
    y.backward(g)
    np.testing.assert_array_equal(w.grad, r(r(g.T @ x16, "fp32"), "fp16"))
    np.testing.assert_array_equal(x.grad, r(r(g @ w16, "fp32"), "fp16"))
    np.testing.assert_array_equal(b.grad, r(r(g.sum(axis=0), "fp32"), "fp16"))
    assert w.format.name == "fp32"  # master weights stay fp32; their gradients hold fp16 values


def test_autocast_runs_softmax_and_losses_in_fp32():
    logits = numprec.Tensor(rng_values(5, 4).astype(np.float16))
    with autocast():
        probs = F.softmax(logits)
        loss = F.cross_entropy(logits, np.array([0, 1, 2, 3, 0]))
        hidden = F.relu(logits)
    assert probs.format.name == "fp32" and loss.format.name == "fp32"
    assert hidden.format.name == "fp16"  # element-wise ops run in their inputs' format
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    np.testing.assert_array_equal(probs.data, r(np.exp(z) / np.exp(z).sum(1, keepdims=True), "fp32"))


def _mlp_with_everything():
    numprec.manual_seed(3)
    return nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 4))


@pytest.mark.parametrize("policy, fmt", [("fp32", "fp32"), ("fp16", "fp16")])
def test_every_value_of_a_uniform_policy_is_in_its_format(policy, fmt):
    model = _mlp_with_everything()
    x = numprec.Tensor(rng_values(5, 6).astype(np.float32))
    with autocast(policy):
        hidden = model[1](model[0](x)).retain_grad()
        logits = model[3](model[2](hidden))
        loss = F.cross_entropy(logits, np.array([0, 1, 2, 3, 1]))
    loss.backward()
    for values in [hidden.data, logits.data, loss.data, hidden.grad]:
        np.testing.assert_array_equal(values, r(values, fmt))
    for param in model.parameters():
        np.testing.assert_array_equal(param.grad, r(param.grad, fmt))


def test_promotion_outside_autocast_and_gradient_in_each_operands_format():
    a = numprec.Tensor(np.array([1.0 + 2.0 ** -10], np.float16), requires_grad=True)
    b = numprec.Tensor(np.array([1.0 + 2.0 ** -20], np.float32), requires_grad=True)
    c = a * b
    assert c.format.name == "fp32"
    np.testing.assert_array_equal(c.data, r(a.data * b.data, "fp32"))
    c.backward(np.array([1.0]))
    np.testing.assert_array_equal(a.grad, r(b.data, "fp16"))   # the fp16 operand's grad is fp16
    np.testing.assert_array_equal(b.grad, a.data)


def test_python_numbers_enter_in_fp32_so_a_loss_scale_does_not_overflow_fp16():
    x = numprec.Tensor(np.array([0.001, 2.0], np.float16))
    scaled = x * 65536.0  # 65536 itself exceeds fp16's max
    np.testing.assert_array_equal(scaled.data, r(x.data * 65536.0, "fp16"))
    assert np.isfinite(scaled.data[0]) and scaled.data[1] == np.inf


def test_float64_fast_path_is_used_only_where_it_is_correctly_rounded():
    def kernel(input_fmt, output_fmt, mode="rne"):
        spec = Pass(input_fmt, output_fmt, output_fmt)
        return OpArithmetic(spec, [numprec.get_format(input_fmt)], Policy("p", mode=mode))
    assert kernel("fp16", "fp16")._float64_is_correct("add")
    assert kernel("fp16", "fp32")._float64_is_correct("div")
    assert not kernel("fp32", "fp16")._float64_is_correct("add")  # operands wider: double rounding
    assert not kernel("fp16", "fp16", "rtz")._float64_is_correct("add")
    assert not kernel("fp64", "fp64", "rna")._float64_is_correct("mul")
    assert kernel("fp64", "fp64")._float64_is_correct("mul")


def test_directed_modes_use_numprecs_correctly_rounded_arithmetic(monkeypatch):
    calls = []

    def fake_add(a, b, fmt, mode="rne", seed=None, flags=None):
        calls.append((numprec.get_format(fmt).name, mode))
        return np.asarray(numprec.round(a + b, fmt, mode))
    monkeypatch.setattr(numprec.ops, "add", fake_add, raising=False)
    x = numprec.Tensor(np.array([1.0, 3.0], np.float16))
    with autocast(Policy("rtz16", default=Pass("fp16", "fp16", "fp16"), mode="rtz")):
        x + 2.0 ** -12
    with autocast("fp16"):
        x + 2.0 ** -12     # both operands are fp16 values: float64 then one rounding is exact
        x + 0.1            # 0.1 enters as an fp32 value, wider than fp16: needs numprec.add
    assert calls == [("fp16", "rtz"), ("fp16", "rne")]


@pytest.mark.parametrize("mode", ["rtz", "rup", "rto"])
def test_directed_mode_arithmetic_is_numprecs_correctly_rounded_result(monkeypatch, mode):
    arith = pytest.importorskip("numprec.ops.arith")
    for name in ("add", "sub", "mul", "div"):
        monkeypatch.setattr(numprec.ops, name, getattr(arith, name), raising=False)
    a = numprec.Tensor(rng_values(50).astype(np.float32))
    b = numprec.Tensor(rng_values(50, seed=1).astype(np.float32))
    with autocast(Policy("directed", default=Pass("fp32", "fp32", "bf16"), mode=mode)):
        results = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}
    for name, tensor in results.items():
        expected = getattr(arith, name)(a.data, b.data, "bf16", mode=mode)
        np.testing.assert_array_equal(tensor.data, expected, err_msg=name)


def test_accumulation_orders_other_than_fp64_go_through_numprec_matmul(monkeypatch):
    policy = policy_from_dict({"name": "pairwise", "base": "fp32",
                               "classes": {"matmul": {"order": "pairwise", "acc": "fp16"}}})
    a, b = numprec.Tensor(rng_values(2, 3).astype(np.float32)), numprec.Tensor(rng_values(3, 2).astype(np.float32))
    seen = {}

    def fake_matmul(x, y, *, acc, order, mode, **kw):
        seen.update(acc=acc.name, order=order, mode=mode)
        return np.asarray(numprec.round(x @ y, acc))
    monkeypatch.setattr(numprec.ops, "matmul", fake_matmul, raising=False)
    with autocast(policy):
        out = a @ b
    assert seen == {"acc": "fp16", "order": "pairwise", "mode": "rne"}
    np.testing.assert_array_equal(out.data, r(a.data @ b.data, "fp16"))


def test_accumulation_models_of_numprec_ops_run_forward_and_backward(monkeypatch):
    accumulate = pytest.importorskip("numprec.ops.accumulate")
    monkeypatch.setattr(numprec.ops, "matmul", accumulate.matmul, raising=False)
    monkeypatch.setattr(numprec.ops, "sum", accumulate.sum, raising=False)
    policy = policy_from_dict({"name": "blocked16", "base": "fp16-amp", "classes": {
        "matmul": {"acc": "fp16", "order": "blocked", "block": 4},
        "reduction": {"acc": "bf16", "order": "sequential"}}})
    x = numprec.Tensor(rng_values(3, 16).astype(np.float32), requires_grad=True)
    w = numprec.Tensor(rng_values(16, 2, seed=1).astype(np.float32), requires_grad=True)
    with autocast(policy):
        y = x @ w
        total = F.sum(y.float() * 1.0)
    x16, w16 = r(x.data, "fp16"), r(w.data, "fp16")
    expected = accumulate.matmul(x16, w16, acc="fp16", order="blocked", block=4)
    np.testing.assert_array_equal(y.data, expected)
    np.testing.assert_array_equal(total.data, accumulate.sum(y.data.ravel(), "bf16",
                                                             order="sequential"))
    total.backward()
    ones = np.ones((3, 2))  # the sum's gradient, through the fp32 cast back to fp16
    np.testing.assert_array_equal(w.grad, accumulate.matmul(x16.T, ones, acc="fp16",
                                                            order="blocked", block=4))
    with pytest.raises(ValueError, match="block applies only to order='blocked'"):
        policy_from_dict({"classes": {"matmul": {"order": "pairwise", "block": 4}}})


def test_stochastic_rounding_is_reproducible_from_the_seed():
    policy = Policy("sr16", default=Pass("fp16", "fp16", "fp16"), mode="sr", seed=11)
    x = numprec.Tensor(np.full(64, 1.0 + 2.0 ** -13))  # between two fp16 neighbours

    def run(seed):
        numprec.manual_seed(seed)
        with autocast(policy):
            return (x * 1.0).data, (x * 1.0).data
    first, second = run(5)
    again_first, again_second = run(5)
    other, _ = run(6)
    np.testing.assert_array_equal(first, again_first)
    np.testing.assert_array_equal(second, again_second)
    assert not np.array_equal(first, second)   # every rounding draws its own stream
    assert not np.array_equal(first, other)
    assert set(np.unique(first)) == {1.0, 1.0 + 2.0 ** -10}


def test_fp8_hybrid_linear_uses_delayed_per_tensor_scaling():
    numprec.manual_seed(0)
    layer = nn.Linear(8, 4)
    x_values = rng_values(3, 8).astype(np.float32) * 100.0
    x = numprec.Tensor(x_values)
    with autocast("fp8-hybrid"):
        first = layer(x)
        second = layer(x)
    state = layer.fp8_states[("input", "fp8_e4m3fn")]
    amax = float(np.abs(x.data).max())
    expected_scale = float(r(r(448.0 / amax, "fp32"), "fp32"))
    assert state.scale == expected_scale and list(state.history) == [amax, amax]
    # first call: scale 1.0 (saturating at 448); second: the scale from the first call's amax
    w_scale = layer.fp8_states[("weight", "fp8_e4m3fn")]
    w_amax = float(np.abs(layer.weight.data).max())
    w_q = np.asarray(numprec.round(layer.weight.data * float(r(448.0 / w_amax, "fp32")), "e4m3",
                                   saturate=True)) * float(r(1.0 / float(r(448.0 / w_amax, "fp32")), "fp32"))
    x_q = np.asarray(numprec.round(x.data * expected_scale, "e4m3", saturate=True)) * \
        float(r(1.0 / expected_scale, "fp32"))
    b32 = layer.bias.data
    np.testing.assert_array_equal(second.data, r(x_q @ w_q.T + b32, "fp32"))
    x_first = np.asarray(numprec.round(x.data, "e4m3", saturate=True))
    w_first = np.asarray(numprec.round(layer.weight.data, "e4m3", saturate=True))
    np.testing.assert_array_equal(first.data, r(x_first @ w_first.T + b32, "fp32"))
    assert w_scale.scale == float(r(448.0 / w_amax, "fp32"))
