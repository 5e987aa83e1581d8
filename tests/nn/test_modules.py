"""numprec.nn: registration, state, modes, formats, and the composite blocks."""
import numpy as np
import pytest

import numprec
from numprec import nn
from numprec.amp import autocast


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(6, 2, bias=False)

    def forward(self, x):
        return self.fc2(self.drop(numprec.relu(self.fc1(x))))


def test_parameters_are_registered_in_order_with_dotted_names():
    numprec.manual_seed(0)
    model = TwoLayer()
    assert [name for name, _ in model.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert all(p.requires_grad and p.format.name == "fp32" for p in model.parameters())
    bound = 1 / np.sqrt(4)
    assert np.all(np.abs(model.fc1.weight.data) <= bound)
    np.testing.assert_array_equal(model.fc1.weight.data,
                                  np.float32(model.fc1.weight.data).astype(float))


def test_module_without_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Broken"):
        Broken()


def test_state_dict_round_trip_and_checks():
    numprec.manual_seed(0)
    source, target = TwoLayer(), TwoLayer()
    target.load_state_dict(source.state_dict())
    for a, b in zip(source.parameters(), target.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    state = source.state_dict()
    state["fc1.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"fc1.weight has shape \(3, 3\), the parameter has shape \(6, 4\)"):
        target.load_state_dict(state)
    with pytest.raises(KeyError, match="missing keys \\['fc2.weight'\\]"):
        target.load_state_dict({k: v for k, v in source.state_dict().items() if k != "fc2.weight"})


def test_train_and_eval_switch_dropout():
    numprec.manual_seed(0)
    model = TwoLayer()
    x = numprec.Tensor(np.ones((8, 4), np.float32))
    model.eval()
    assert not model.drop.training
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    assert not np.array_equal(model(x).data, model(x).data)


def test_format_conversion_rounds_parameters():
    numprec.manual_seed(0)
    model = TwoLayer().half()
    for p in model.parameters():
        assert p.format.name == "fp16"
        np.testing.assert_array_equal(p.data, np.float16(p.data).astype(float))
    model.to("bf16")
    assert {p.format.name for p in model.parameters()} == {"bf16"}


def test_sequential_indexing_and_repr():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU)
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in repr(seq)
    with pytest.raises(TypeError, match="Sequential takes Modules"):
        nn.Sequential(nn.ReLU(), "relu")


def test_causal_self_attention_ignores_future_tokens():
    numprec.manual_seed(1)
    attn = nn.MultiheadSelfAttention(8, 2, causal=True)
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    changed = x.copy()
    changed[:, 3:] += 1.0
    out, out_changed = attn(numprec.Tensor(x)), attn(numprec.Tensor(changed))
    assert out.shape == (2, 5, 8)
    np.testing.assert_array_equal(out.data[:, :3], out_changed.data[:, :3])
    assert not np.array_equal(out.data[:, 3:], out_changed.data[:, 3:])
    with pytest.raises(ValueError, match="embed_dim 8 is not divisible by num_heads 3"):
        nn.MultiheadSelfAttention(8, 3)


def _numeric_grad(loss_of, param, h=1e-6):
    grad = np.zeros_like(param.data)
    for i in range(param.data.size):
        saved = param.data.reshape(-1)[i]
        values = []
        for delta in (h, -h):
            param.data.reshape(-1)[i] = saved + delta
            values.append(loss_of().item())
        param.data.reshape(-1)[i] = saved
        grad.reshape(-1)[i] = (values[0] - values[1]) / (2 * h)
    return grad


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.TransformerEncoderBlock(4, 2, mlp_ratio=2, causal=True), (2, 3, 4)),
    (lambda: nn.ResidualBlock(2), (1, 2, 4, 4)),
    (lambda: nn.Sequential(nn.Embedding(5, 3), nn.Flatten(), nn.Tanh(), nn.Linear(6, 2),
                           nn.Sigmoid()), None),
])
def test_blocks_backpropagate_exact_gradients_in_fp64(make, shape):
    numprec.manual_seed(2)
    block = make().double()
    rng = np.random.default_rng(3)
    x = numprec.Tensor(rng.standard_normal(shape)) if shape else numprec.Tensor(np.array([[0, 4], [2, 2]]))
    weights = rng.standard_normal(block(x).shape)

    def loss_of():
        with autocast("fp64"):
            return (block(x) * weights).sum()
    loss_of().backward()
    for name, param in block.named_parameters():
        np.testing.assert_allclose(param.grad, _numeric_grad(loss_of, param), rtol=1e-5,
                                   atol=1e-8, err_msg=name)


def test_losses_and_pooling_modules():
    logits = numprec.Tensor(np.array([[2.0, 0.0], [0.0, 1.0]]))
    ce = nn.CrossEntropyLoss(reduction="sum")(logits, np.array([0, 1]))
    np.testing.assert_allclose(ce.item(), np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0)))
    mse = nn.MSELoss()(numprec.Tensor(np.array([1.0, 3.0])), numprec.Tensor(np.array([0.0, 0.0])))
    assert mse.item() == 5.0
    image = numprec.Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(image).data.ravel(), [5, 7, 13, 15])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(image).data.ravel(), [2.5, 4.5, 10.5, 12.5])


def test_losses_and_poolings_are_siblings_not_subclasses_of_each_other():
    assert not issubclass(nn.MSELoss, nn.CrossEntropyLoss)
    assert not issubclass(nn.AvgPool2d, nn.MaxPool2d)
    assert nn.MSELoss(reduction="sum").reduction == "sum"
    pool = nn.AvgPool2d(2, stride=1, padding=1)
    assert (pool.kernel_size, pool.stride, pool.padding) == (2, 1, 1)
