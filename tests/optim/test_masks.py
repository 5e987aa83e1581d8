"""Pruning masks that the optimizer keeps applied (numprec.quant.sparsity makes them)."""
import numpy as np
import pytest

import numprec
from numprec import nn, optim
from numprec.amp import get_policy
from numprec.quant.sparsity import magnitude_mask, nm_mask


def _train(optimizer_cls, policy, steps=5, **kw):
    numprec.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    opt = optimizer_cls(model.parameters(), lr=0.05, policy=policy, **kw)
    weight = model[0].weight
    mask = nm_mask(weight.data, 2, 4, axis=1)  # 2:4 along the reduction dimension
    opt.set_mask(weight, mask)
    assert (weight.data[~mask] == 0).all()
    rng = np.random.default_rng(1)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        x = numprec.Tensor(rng.standard_normal((6, 8)))
        y = rng.integers(0, 4, size=6)
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        assert np.abs(weight.grad[~mask]).sum() > 0  # the pruned weights do get gradients
        opt.step()
    return model, opt, weight, mask


@pytest.mark.parametrize("optimizer_cls, kw", [(optim.SGD, {"momentum": 0.9}),
                                               (optim.Adam, {}), (optim.AdamW, {})])
@pytest.mark.parametrize("policy", [None, "fp16-amp", "fp16", "bf16-amp"])
def test_pruned_weights_stay_zero_through_updates(optimizer_cls, kw, policy):
    model, opt, weight, mask = _train(optimizer_cls, policy and get_policy(policy), **kw)
    assert (weight.data[~mask] == 0).all() and not np.signbit(weight.data[~mask]).any()
    assert (weight.data[mask] != 0).all()
    assert (model[2].weight.data != 0).all()  # unmasked parameters are untouched


def test_masks_survive_state_dict_and_can_be_removed():
    model, opt, weight, mask = _train(optim.Adam, None, steps=2)
    state = opt.state_dict()
    fresh = optim.Adam(model.parameters(), lr=0.05)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.masks[weight], mask)
    fresh.set_mask(weight, None)
    assert weight not in fresh.masks


def test_mask_errors():
    p = nn.Parameter(np.ones((2, 4)))
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="boolean array of the parameter's shape"):
        opt.set_mask(p, np.ones((4, 2), dtype=bool))
    with pytest.raises(ValueError, match="not a parameter of this optimizer"):
        opt.set_mask(nn.Parameter(np.ones(2)), np.ones(2, dtype=bool))
    opt.set_mask(p, magnitude_mask(np.arange(8.0).reshape(2, 4), 0.5))
    assert p.data.tolist() == [[0, 0, 0, 0], [1, 1, 1, 1]]
