"""GradScaler against a float32 transcription of torch.amp.GradScaler on injected inf/NaN
streams, plus its usage rules; StaticLossScaler."""
import numpy as np
import pytest

import numprec
from numprec import optim
from numprec.amp import GradScaler, StaticLossScaler
from numprec.nn import Parameter

from scaler_reference import ReferenceScaler


def stream(seed, steps):
    """Per step: 'ok', 'inf' or 'nan', and a gradient pattern."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["ok", "ok", "ok", "inf", "nan"], steps)
    return [(kind, rng.standard_normal(3) * 10.0 ** rng.integers(-6, 3)) for kind in kinds]


def corrupt(grad, kind):
    grad = grad.copy()
    if kind == "inf":
        grad[1] = -np.inf
    elif kind == "nan":
        grad[0] = np.nan
    return grad


@pytest.mark.parametrize("seed, interval, init", [(0, 3, 2.0 ** 16), (1, 1, 3.0e38),
                                                   (2, 5, 0.1), (3, 2, 1.0)])
def test_dynamic_scaler_matches_pytorch_semantics_on_injected_overflow(seed, interval, init):
    params = [Parameter(np.array([1.0, 2.0, 3.0], np.float32)),
              Parameter(np.array([0.5, -0.5, 0.25], np.float32))]
    opt = optim.SGD(params, lr=0.5)
    scaler = GradScaler(init_scale=init, growth_interval=interval)
    reference = ReferenceScaler(init_scale=init, growth_interval=interval)
    assert scaler.get_scale() == init  # before the first scale(): the init value as given
    for kind, base in stream(seed, 60):
        loss = (params[0] * 1.0).sum()
        with np.errstate(over="ignore"):  # scaled values may overflow float32: under test
            expected_loss = np.float32(loss.item() * np.float64(reference.scale))
            assert scaler.scale(loss).item() == expected_loss
            raw = [corrupt(np.float32(base * reference.scale).astype(float), kind),
                   np.float32(base[::-1] * reference.scale).astype(float)]
        for param, grad in zip(params, raw):
            param.grad = grad.copy()
        before = [p.data.copy() for p in params]
        scaler.unscale_(opt)
        expected_grads, found = reference.unscale(raw)
        for param, grad in zip(params, expected_grads):
            np.testing.assert_array_equal(param.grad, grad.astype(float))
        scaler.step(opt)
        for param, old, grad in zip(params, before, expected_grads):
            if found:
                np.testing.assert_array_equal(param.data, old)   # step skipped
            else:
                np.testing.assert_array_equal(param.data, np.float32(old - 0.5 * grad.astype(float)))
        scaler.update()
        reference.update(found)
        assert scaler.get_scale() == float(reference.scale)
        assert scaler.get_growth_tracker() == reference.tracker
        assert np.isfinite(scaler.get_scale())


def test_defaults_are_pytorchs():
    scaler = GradScaler()
    assert (scaler.get_scale(), scaler.get_growth_factor(), scaler.get_backoff_factor(),
            scaler.get_growth_interval()) == (65536.0, 2.0, 0.5, 2000)


def _one_param_setup(fmt="fp32"):
    param = Parameter(np.array([1.0]), format=fmt)
    return param, optim.SGD([param], lr=0.1)


def test_usage_rules_raise_like_pytorch():
    param, opt = _one_param_setup()
    scaler = GradScaler()
    with pytest.raises(RuntimeError, match="Attempted update but _scale is None"):
        scaler.update()
    scaler.scale(param.sum())
    param.grad = np.array([1.0])
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)"):
        scaler.unscale_(opt)
    scaler.update()
    param.grad = None
    with pytest.raises(RuntimeError, match="No inf checks were recorded for this optimizer"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: None)
    with pytest.raises(ValueError, match="The growth factor must be > 1.0"):
        GradScaler(growth_factor=1.0)


def test_fp16_gradients_are_refused_as_in_pytorch():
    param, opt = _one_param_setup("fp16")
    scaler = GradScaler()
    scaler.scale(param.sum())
    param.grad = np.array([1.0])
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        scaler.step(opt)


def test_update_with_a_new_scale_and_state_dict_round_trip():
    param, opt = _one_param_setup()
    scaler = GradScaler(growth_interval=10)
    scaler.scale(param.sum())
    scaler.update(0.1)
    assert scaler.get_scale() == float(np.float32(0.1))
    state = scaler.state_dict()
    other = GradScaler()
    other.load_state_dict(state)
    assert other.get_scale() == float(np.float32(0.1)) and other.get_growth_interval() == 10
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        other.load_state_dict(GradScaler(enabled=False).state_dict())


def test_disabled_scaler_is_a_pass_through():
    param, opt = _one_param_setup()
    scaler = GradScaler(enabled=False)
    loss = param.sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
    param.grad = np.array([np.inf])
    scaler.step(opt)  # steps even on inf: no checks when disabled
    assert np.isinf(param.data[0])


def test_scaled_backward_then_step_recovers_the_unscaled_gradient():
    param = Parameter(np.array([0.75, -1.5], np.float32))
    opt = optim.SGD([param], lr=1.0)
    scaler = GradScaler(init_scale=1024.0)
    scaler.scale((param * param).sum()).backward()
    np.testing.assert_array_equal(param.grad, 2 * 1024.0 * np.array([0.75, -1.5]))
    scaler.step(opt)
    np.testing.assert_array_equal(param.data, np.array([0.75, -1.5]) * -1.0)


def test_static_scaler_keeps_its_scale_allows_fp16_and_counts_skips():
    param, opt = _one_param_setup("fp16")
    scaler = StaticLossScaler(256.0)
    assert scaler.scale(param.sum()).item() == 256.0
    param.grad = np.array([512.0])
    scaler.step(opt)
    scaler.update()
    assert param.data[0] == float(np.float16(1.0 - 0.1 * (512.0 / 256.0)))
    param.grad = np.array([np.inf])
    scaler.step(opt)
    scaler.update()
    assert scaler.skipped_steps == 1 and np.isfinite(param.data[0])
    assert scaler.get_scale() == 256.0
    with pytest.raises(ValueError, match="scale must be a positive number"):
        StaticLossScaler(0.0)


def test_scale_accepts_lists_of_tensors():
    scaler = GradScaler(init_scale=4.0)
    a, b = numprec.Tensor(np.array([1.0], np.float32)), numprec.Tensor(np.array([2.0], np.float32))
    scaled = scaler.scale([a, b])
    assert isinstance(scaled, list) and [t.item() for t in scaled] == [4.0, 8.0]
    with pytest.raises(ValueError, match="outputs must be a Tensor"):
        scaler.scale(3.0)


@pytest.mark.parametrize("scale", [-1.0, 0.0, float("inf"), float("nan"), 1e39, 1e-50])
def test_a_scale_that_is_not_a_positive_float32_is_refused(scale):
    with pytest.raises(ValueError, match="init_scale must be a positive number finite in float32"):
        GradScaler(init_scale=scale)
    with pytest.raises(ValueError, match="scale must be a positive number"):
        StaticLossScaler(scale)
    scaler = GradScaler()
    scaler.scale(Parameter(np.ones(1)))
    with pytest.raises(ValueError, match="new_scale must be a positive number finite in float32"):
        scaler.update(scale)


def test_a_zero_or_negative_backoff_factor_is_refused():
    with pytest.raises(ValueError, match="The backoff factor must be > 0"):
        GradScaler(backoff_factor=0.0)
    with pytest.raises(TypeError, match="init_scale must be a positive number, got str"):
        GradScaler(init_scale="65536")
