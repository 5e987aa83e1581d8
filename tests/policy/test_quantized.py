"""Quantization-aware training in the engine: the int8-qat, mxfp8, mxfp4 and nvfp4 presets and
the straight-through estimators, against references built from exact rationals and from
numprec.quant's public functions (themselves checked against exact references)."""
from fractions import Fraction
import math

import numpy as np
import pytest

import numprec
from numprec import functional as F
from numprec import nn
from numprec.amp import Pass, Policy, autocast, get_policy, policy_from_dict
from numprec.quant import mx_quantize, nvfp4_quantize


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


def int8_codes(values: np.ndarray, axis=None):
    """Symmetric min-max int8 codes and scales, PyTorch's float32 scale, exact rounding."""
    amax = np.abs(values).max() if axis is None else np.abs(values).max(axis=axis)
    scales = np.maximum(np.float32(amax) / np.float32(127.5), np.float32(2.0 ** -23))
    scales = np.atleast_1d(scales).astype(np.float64)
    codes = np.empty(values.shape, dtype=np.int64)
    clipped = np.zeros(values.shape, dtype=bool)
    for index in np.ndindex(values.shape):
        s = scales[0] if axis is None else scales[index[0]]
        r = rne_int(Fraction(float(values[index])) / Fraction(float(s)))
        codes[index] = min(max(r, -128), 127)
        clipped[index] = codes[index] != r
    return codes, scales, clipped


@pytest.fixture
def linear_case():
    numprec.manual_seed(3)
    layer = nn.Linear(40, 5)
    x = numprec.Tensor(np.random.default_rng(9).normal(size=(4, 40)).astype(np.float32),
                       requires_grad=True)
    return layer, x


def test_int8_qat_forward_is_the_exact_int32_sum_times_both_scales(linear_case):
    layer, x = linear_case
    with autocast("int8-qat"):
        y = layer(x)
    qx, sx, _ = int8_codes(x.data)
    qw, sw, _ = int8_codes(layer.weight.data, axis=1)  # one scale per output row of W
    for i in range(4):
        for j in range(5):
            acc = sum(int(qx[i, k]) * int(qw[j, k]) for k in range(40))
            exact = Fraction(acc) * Fraction(sx[0]) * Fraction(sw[j]) + Fraction(
                float(layer.bias.data[j]))
            assert y.data[i, j] == fp32_of(exact), (i, j)


def test_int8_qat_backward_is_the_straight_through_estimator(linear_case):
    layer, x = linear_case
    with autocast("int8-qat"):
        layer(x).sum().backward()
    qx, sx, _ = int8_codes(x.data)
    qw, sw, _ = int8_codes(layer.weight.data, axis=1)
    w_q = qw * sw[:, None]
    x_q = qx * sx[0]
    r32 = lambda v: np.asarray(numprec.round(v, "fp32"))
    # fp32 backward on the dequantized operands, the gradient passed straight through the cast
    np.testing.assert_array_equal(x.grad, r32(r32(np.ones((4, 5)) @ w_q)))
    np.testing.assert_array_equal(layer.weight.grad, r32(r32(np.ones((4, 5)).T @ x_q)))


def test_clipped_ste_zeroes_the_gradient_where_the_quantizer_clipped(linear_case):
    layer, x = linear_case
    values = x.data.copy()
    values[1, 7] = 127.5 * 2.0 ** -5   # the amax: scale 2^-5 exactly, 127.5 rounds to 128
    x = numprec.Tensor(values, requires_grad=True)
    layer.weight.data[2, 3] = 127.5 * 2.0 ** -9  # row 2's amax (the others lie below 0.16)
    policy = get_policy("int8-qat")
    clipped_policy = policy.replace(
        name="int8-qat-clipped",
        forward={"matmul": Pass("int8", "int32", "fp32", scaling="channel", ste="clipped")})
    with autocast(policy):
        layer(x).sum().backward()
    plain = x.grad.copy()
    x.grad = layer.weight.grad = layer.bias.grad = None
    with autocast(clipped_policy):
        layer(x).sum().backward()
    _, _, clipped = int8_codes(x.data)
    assert clipped.sum() == 1 and clipped[1, 7]
    np.testing.assert_array_equal(x.grad, np.where(clipped, 0.0, plain))
    _, _, w_clipped = int8_codes(layer.weight.data, axis=1)
    assert w_clipped[2, 3] and np.all(layer.weight.grad[w_clipped] == 0.0)
    assert np.all(layer.weight.grad[~w_clipped] != 0.0)


@pytest.mark.parametrize("name, fwd", [("mxfp8", "fp8_e4m3fn"), ("mxfp4", "fp4_e2m1fn")])
def test_mx_policies_quantize_along_the_reduction_dimension_padded(linear_case, name, fwd):
    layer, x = linear_case  # K = 40: one full block of 32, one of 8 padded with zeros
    with autocast(name):
        y = layer(x)
    pad = lambda a: np.pad(a, ((0, 0), (0, 24)))
    x_q = mx_quantize(pad(x.data), fwd, axis=-1)[:, :40]
    w_q = mx_quantize(pad(layer.weight.data), fwd, axis=1)[:, :40]
    r32 = lambda v: np.asarray(numprec.round(v, "fp32"))
    np.testing.assert_array_equal(y.data, r32(r32(x_q @ w_q.T + layer.bias.data)))


def test_mxfp8_backward_quantizes_the_output_gradient_in_e5m2_blocks(linear_case):
    layer, x = linear_case
    g = np.random.default_rng(2).normal(size=(4, 5))
    with autocast("mxfp8"):
        y = layer(x)
        (y * numprec.Tensor(g)).sum().backward()
    pad = lambda a: np.pad(a, ((0, 0), (0, (-a.shape[1]) % 32)))
    g32 = np.asarray(numprec.round(g, "fp32"))
    g_q = mx_quantize(pad(g32), "fp8_e5m2", axis=-1)[:, :5]
    w_q = mx_quantize(pad(layer.weight.data), "fp8_e4m3fn", axis=1)[:, :40]
    r32 = lambda v: np.asarray(numprec.round(v, "fp32"))
    np.testing.assert_array_equal(x.grad, r32(r32(g_q @ w_q)))


def test_nvfp4_policy_uses_nvfp4_blocks_of_16(linear_case):
    layer, x = linear_case
    with autocast("nvfp4"):
        y = layer(x)
    pad = lambda a: np.pad(a, ((0, 0), (0, 8)))  # 40 -> 48 = 3 blocks of 16
    x_q = nvfp4_quantize(pad(x.data), axis=-1)[:, :40]
    w_q = nvfp4_quantize(pad(layer.weight.data), axis=1)[:, :40]
    r32 = lambda v: np.asarray(numprec.round(v, "fp32"))
    np.testing.assert_array_equal(y.data, r32(r32(x_q @ w_q.T + layer.bias.data)))


def test_conv2d_blocks_run_along_the_channels():
    numprec.manual_seed(4)
    conv = nn.Conv2d(3, 2, 3, bias=False)
    x = numprec.Tensor(np.random.default_rng(5).normal(size=(2, 3, 5, 5)).astype(np.float32))
    with autocast("mxfp8"):
        y = conv(x)
    padc = lambda a: np.pad(a, ((0, 0), (0, 29), (0, 0), (0, 0)))
    x_q = mx_quantize(padc(x.data), "fp8_e4m3fn", axis=1)[:, :3]
    w_q = mx_quantize(padc(conv.weight.data), "fp8_e4m3fn", axis=1)[:, :3]
    with autocast("fp32"):
        ref = F.conv2d(numprec.Tensor(x_q), numprec.Tensor(w_q))
    np.testing.assert_array_equal(y.data, ref.data)
    with autocast("int8-qat"):  # integer codes through im2col: per output channel weights
        yi = conv(x)
    qx, sx, _ = int8_codes(x.data)
    qw, sw, _ = int8_codes(conv.weight.data.reshape(2, -1), axis=1)
    acc = F.conv2d(numprec.Tensor(qx.astype(np.float64)),
                   numprec.Tensor(qw.reshape(2, 3, 3, 3).astype(np.float64))).data
    expected = [fp32_of(Fraction(int(acc[n, o, i, j])) * Fraction(sx[0]) * Fraction(sw[o]))
                for n, o, i, j in np.ndindex(acc.shape)]
    assert yi.data.reshape(-1).tolist() == expected


def test_qat_trains_and_nonfinite_values_pass_through():
    numprec.manual_seed(0)
    rng = np.random.default_rng(0)
    x = numprec.Tensor(rng.normal(size=(64, 16)))
    target = numprec.Tensor(x.data @ rng.normal(size=(16, 1)))
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = numprec.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        with autocast("int8-qat"):
            loss = F.mse_loss(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
    assert losses[-1] < 0.2 * losses[0]
    bad = numprec.Tensor(np.array([[np.nan] + [1.0] * 15]))
    for name in ("int8-qat", "mxfp8", "nvfp4"):
        with autocast(name):
            assert np.isnan(model(bad).data).all()


@pytest.mark.parametrize("spec, match", [
    ({"classes": {"matmul": {"backward": {"input": "int8", "scaling": "channel"}}}},
     "integer codes .* apply to the forward products"),
    ({"classes": {"matmul": {"input": "fp8_e4m3fn", "scaling": "channel"}}},
     "scaling='channel' needs a signed integer input format"),
    ({"classes": {"matmul": {"input": "q3.4", "scaling": "channel"}}},
     "needs a signed integer input format"),
    ({"classes": {"matmul": {"input": "e4m3", "scaling": "nvfp4"}}},
     "scaling='nvfp4' needs input format fp4_e2m1fn"),
    ({"classes": {"matmul": {"input": "uint8", "scaling": "mx"}}},
     "scaling='mx' needs a signed element format"),
    ({"classes": {"matmul": {"input": "e4m3", "scaling": "current", "ste": "clipped"}}},
     "ste applies to quantized operands"),
    ({"classes": {"matmul": {"input": "e4m3", "scaling": "mx", "ste": "soft"}}},
     "unknown straight-through estimator 'soft'"),
    ({"classes": {"matmul": {"input": "e4m3", "scaling": "block"}}}, "unknown scaling 'block'"),
])
def test_bad_quantized_passes_name_the_problem(spec, match):
    with pytest.raises(ValueError, match=match):
        policy_from_dict(spec)


def test_policy_files_and_describe_round_trip_the_new_fields():
    policy = policy_from_dict({"name": "q", "classes": {"matmul": {
        "forward": {"input": "int4", "acc": "int32", "output": "fp32", "scaling": "channel",
                    "ste": "clipped"}}}})
    assert policy.pass_for("matmul").ste == "clipped"
    assert policy.pass_for("matmul", "backward").scaling is None
    again = policy_from_dict(policy.describe())
    assert again.pass_for("matmul") == policy.pass_for("matmul")
    assert isinstance(get_policy("nvfp4"), Policy)
