"""Post-training quantization: calibration with each observer, static steps used by the integer
casts, block formats without calibration, per-layer sensitivity."""
from fractions import Fraction
import math

import numpy as np
import pytest

import numprec
from numprec import nn
from numprec.amp import autocast
from numprec.policy import STATIC_SCALE, StaticScale, quantized_pass, quantized_policy
from numprec.quant import make_observer
from numprec.training.ptq import (calibrate, clear_static_scales, gemm_layers,
                                  layer_sensitivity, post_training_quantize, set_static_scales)


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(numprec.functional.relu(self.fc1(x)))


def rne_int(t: Fraction) -> int:
    lo = math.floor(t)
    d = t - lo
    return lo + 1 if d > Fraction(1, 2) or (d == Fraction(1, 2) and lo % 2) else lo


def fp32_of(value: Fraction) -> float:
    """value rounded to float32, nearest even (normal range)."""
    if value == 0:
        return 0.0
    mag = abs(value)
    e = mag.numerator.bit_length() - mag.denominator.bit_length()
    while Fraction(2) ** e > mag:
        e -= 1
    while Fraction(2) ** (e + 1) <= mag:
        e += 1
    ulp = Fraction(2) ** (e - 23)
    out = float(rne_int(mag / ulp) * ulp)
    return out if value > 0 else -out


def reference_linear(x_codes, x_step, layer, bits, per_channel):
    """The exact int8 linear: integer codes summed, times both steps, plus bias, to float32."""
    qmax = 2 ** (bits - 1) - 1
    w = layer.weight.data
    amax = np.abs(w).max(axis=1) if per_channel else np.full(w.shape[0], np.abs(w).max())
    w_step = np.maximum(np.float32(amax) / np.float32((2 ** bits - 1) / 2),
                        np.float32(2.0 ** -23)).astype(np.float64)
    out = []
    for j in range(w.shape[0]):
        qw = [min(max(rne_int(Fraction(float(v)) / Fraction(float(w_step[j]))), -qmax - 1), qmax)
              for v in w[j]]
        acc = sum(c * q for c, q in zip(x_codes, qw))
        out.append(fp32_of(Fraction(acc) * Fraction(x_step) * Fraction(float(w_step[j]))
                           + Fraction(float(layer.bias.data[j]))))
    return out


@pytest.fixture
def model():
    numprec.manual_seed(1)
    return TwoLayer()


def test_calibration_watches_every_gemm_input(model):
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(16, 6)) * 3 for _ in range(3)]
    scales = calibrate(model, batches, bits=8)
    assert gemm_layers(model) == ["fc1", "fc2"] and set(scales) == {"fc1", "fc2"}
    # fc1 sees the batches themselves (cast to fp32): the running min-max over all three
    seen = np.concatenate([np.asarray(numprec.round(b, "fp32")) for b in batches])
    expected, _ = make_observer("minmax").observe(seen).qparams(8, True, "symmetric")
    assert scales["fc1"].step == float(expected)
    assert isinstance(scales["fc2"], StaticScale) and scales["fc2"].step > 0
    with pytest.raises(ValueError, match="no calibration batches"):
        calibrate(model, [])


@pytest.mark.parametrize("observer", ["minmax", "moving-minmax", "percentile", "mse", "kl"])
def test_every_observer_calibrates(model, observer):
    rng = np.random.default_rng(1)
    batches = [rng.standard_t(3, size=(32, 6)) for _ in range(2)]
    params = {"bins": 256} if observer == "kl" else {}
    scales = calibrate(model, batches, bits=4, observer=observer, **params)
    assert all(s.step > 0 and np.isfinite(s.step) for s in scales.values())


def test_static_step_replaces_the_batch_min_max(model):
    x = np.array([[0.5, -0.25, 2.0, 0.1, -1.0, 0.75]])
    set_static_scales(model, {"fc1": StaticScale(2.0 ** -4, 8.0)})
    policy = quantized_policy("int", 8, "channel")
    with autocast(policy):
        y = model.fc1(numprec.Tensor(x))
    # the input's codes with step 1/16: exact multiples, 2.0 -> 32 (not the min-max 127)
    codes = [rne_int(Fraction(v) * 16) for v in x[0]]
    assert codes == [8, -4, 32, 2, -16, 12]
    assert y.data[0].tolist() == reference_linear(codes, 2.0 ** -4, model.fc1, 8, True)
    clear_static_scales(model)
    assert ("input", STATIC_SCALE) not in model.fc1.fp8_states
    with pytest.raises(ValueError, match="no GEMM layer 'fc9'"):
        set_static_scales(model, {"fc9": StaticScale(1.0, 1.0)})
    with pytest.raises(ValueError, match="positive and finite"):
        StaticScale(0.0, 1.0)


def test_post_training_quantize_calibrates_integer_policies_only(model):
    x = np.random.default_rng(2).normal(size=(100, 6))
    scales = post_training_quantize(model, quantized_policy("int", 4, "tensor"), x, batch=32)
    assert set(scales) == {"fc1", "fc2"}
    assert model.fc1.fp8_states[("input", STATIC_SCALE)] is scales["fc1"]
    assert post_training_quantize(model, quantized_policy("mx", 4), x) == {}
    assert ("input", STATIC_SCALE) not in model.fc1.fp8_states  # cleared for block formats


def test_per_tensor_weights_share_one_scale(model):
    x = numprec.Tensor(np.random.default_rng(3).normal(size=(4, 6)))
    with autocast(quantized_policy("int", 3, "tensor")):
        y = model.fc1(x)
    values = np.asarray(numprec.round(x.data, "fp32"))
    x_step = float(np.float32(np.abs(values).max()) / np.float32(3.5))  # 3 bits: (3 + 4) / 2
    for row in range(4):
        codes = [min(max(rne_int(Fraction(float(v)) / Fraction(x_step)), -4), 3)
                 for v in values[row]]
        assert y.data[row].tolist() == reference_linear(codes, x_step, model.fc1, 3, False)


def test_sensitivity_quantizes_one_layer_at_a_time(model):
    rng = np.random.default_rng(4)
    data = {"train_x": rng.normal(size=(64, 6)), "test_x": rng.normal(size=(64, 6)),
            "test_y": rng.integers(0, 3, size=64)}
    table = layer_sensitivity(model, quantized_pass("int", 2), data)
    assert table["layer"].tolist() == ["fc1", "fc2"]
    assert np.allclose(table["drop"], table["base_accuracy"] - table["accuracy"])
    # quantizing fc1 alone is what the row says: the same accuracy as a policy with that layer
    from numprec.training.loop import evaluate
    policy = numprec.policy.get_policy("fp32").with_layer_pass(
        "fc1", "forward", "matmul", quantized_pass("int", 2))
    post_training_quantize(model, policy, data["train_x"])
    assert table["accuracy"][0] == evaluate(model, data["test_x"], data["test_y"], policy)


def test_quantized_policy_names_and_errors():
    assert quantized_policy("int", 8).name == "int8-channel"
    assert quantized_policy("mx", 6).pass_for("matmul").input == "fp6_e2m3fn"
    assert quantized_policy("nvfp4", 4).pass_for("matmul").scaling == "nvfp4"
    for args, match in [(("int", 1), "bits in 2..16"), (("mx", 5), "8, 6 or 4"),
                        (("nvfp4", 8), "4 bits"), (("fp", 8), "unknown quantization kind"),
                        (("int", 8, "row"), "unknown granularity")]:
        with pytest.raises(ValueError, match=match):
            quantized_policy(*args)
