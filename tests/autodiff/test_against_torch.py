"""A whole small network against PyTorch (CPU, float64): loss and every gradient.

PyTorch is an optional test dependency; without it this module is skipped."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional test dependency)")

import numprec  # noqa: E402
from numprec import functional as F  # noqa: E402
from numprec.amp import autocast  # noqa: E402


def _weights():
    rng = np.random.default_rng(0)
    return {"conv_w": rng.normal(0, 0.3, (4, 1, 3, 3)), "conv_b": rng.normal(0, 0.1, 4),
            "fc1_w": rng.normal(0, 0.2, (16, 36)), "fc1_b": rng.normal(0, 0.1, 16),
            "ln_w": rng.normal(1, 0.1, 16), "ln_b": rng.normal(0, 0.1, 16),
            "qkv_w": rng.normal(0, 0.2, (48, 16)), "fc2_w": rng.normal(0, 0.2, (5, 16)),
            "fc2_b": rng.normal(0, 0.1, 5)}


def _forward(lib, p, x, target):
    """The same network written once for both libraries (lib: an adapter namespace)."""
    h = lib.relu(lib.conv2d(x, p["conv_w"], p["conv_b"], stride=1, padding=1))
    h = lib.max_pool2d(h, 2).reshape(x.shape[0], -1)
    h = lib.gelu(lib.layer_norm(lib.linear(h, p["fc1_w"], p["fc1_b"]), 16, p["ln_w"], p["ln_b"]))
    qkv = lib.linear(h, p["qkv_w"])                          # (batch, 48): 3 tokens of 16
    tokens = qkv.reshape(x.shape[0], 3, 16)
    attn = lib.softmax(tokens @ lib.swap(tokens) / 4.0) @ tokens
    logits = lib.linear(lib.tanh(attn.mean(1)), p["fc2_w"], p["fc2_b"])
    return lib.cross_entropy(logits, target) + lib.sigmoid(logits).sum() * 0.01


class _Torch:
    relu, gelu, tanh, sigmoid = torch.relu, torch.nn.functional.gelu, torch.tanh, torch.sigmoid
    conv2d, linear = torch.nn.functional.conv2d, torch.nn.functional.linear
    max_pool2d, cross_entropy = torch.nn.functional.max_pool2d, torch.nn.functional.cross_entropy
    swap = staticmethod(lambda t: t.transpose(-1, -2))
    softmax = staticmethod(lambda t: torch.softmax(t, -1))
    layer_norm = staticmethod(lambda t, n, w, b: torch.nn.functional.layer_norm(t, (n,), w, b))


class _Numprec:
    relu, gelu, tanh, sigmoid, conv2d, linear = F.relu, F.gelu, F.tanh, F.sigmoid, F.conv2d, F.linear
    max_pool2d, cross_entropy, layer_norm = F.max_pool2d, F.cross_entropy, F.layer_norm
    swap = staticmethod(lambda t: t.transpose(0, 2, 1))
    softmax = staticmethod(lambda t: F.softmax(t, -1))


def test_small_network_matches_pytorch_float64():
    weights = _weights()
    rng = np.random.default_rng(1)
    x, target = rng.normal(size=(3, 1, 6, 6)), np.array([0, 4, 2])
    ours = {k: numprec.Tensor(v, requires_grad=True) for k, v in weights.items()}
    with autocast("fp64"):
        loss = _forward(_Numprec, ours, numprec.Tensor(x), target)
    loss.backward()
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in weights.items()}
    ref = _forward(_Torch, theirs, torch.tensor(x, dtype=torch.float64), torch.tensor(target))
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    for name in weights:
        np.testing.assert_allclose(ours[name].grad, theirs[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)
