"""The float64 shadow: exact zeros under fp64, hand-checked errors, and a run left untouched."""
import numpy as np
import pandas as pd
import pytest

import numprec
from numprec import functional as F
from numprec import nn, optim
from numprec.amp import autocast, get_policy
from numprec.data.digits import load_digits, split_dataset
from numprec.monitor.shadow import Shadow, rel_error
from numprec.training import TrainConfig, train


@pytest.fixture(scope="module")
def data():
    return split_dataset(*load_digits(), seed=0)


@pytest.mark.parametrize("mode", ["re-anchored", "free"])
def test_every_shadow_error_is_exactly_zero_under_fp64(data, tmp_path, mode):
    train(TrainConfig(policy="fp64", steps=5, shadow=mode), data, out=str(tmp_path))
    table = pd.read_parquet(tmp_path / "shadow.parquet")
    assert len(table) > 0 and set(table.kind) >= {"activation", "grad", "weight", "update"}
    assert (table.value == 0.0).all()


@pytest.mark.parametrize("mode", ["re-anchored", "free"])
def test_the_shadow_does_not_change_the_run(data, tmp_path, mode):
    config = dict(policy="fp16-amp", steps=6, monitor=True)
    train(TrainConfig(**config), data, out=str(tmp_path / "plain"))
    train(TrainConfig(**config, shadow=mode), data, out=str(tmp_path / "shadowed"))
    for name in ("metrics.parquet", "tensors.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "plain" / name),
                                      pd.read_parquet(tmp_path / "shadowed" / name))


def test_re_anchored_error_of_a_linear_is_its_own_rounding():
    numprec.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 4))
    x = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    with Shadow(model) as shadow:
        with autocast("fp16-amp"):
            out = model(numprec.Tensor(x))
    table = shadow.table()
    w, b = model[0].weight.data, model[0].bias.data
    exact = x.astype(np.float64) @ w.T + b  # float64 on the same (uncast) operands
    row = table[(table.layer == "0") & (table.kind == "activation")]
    assert len(row) == 1 and row.op.iloc[0] == "linear"
    expected = np.linalg.norm(out.data - exact) / np.linalg.norm(exact)
    assert row.value.iloc[0] == pytest.approx(expected, rel=1e-12)
    assert 0 < expected < 2 * numprec.get_format("fp16").u


def test_rel_error_edge_cases():
    assert rel_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert rel_error([1.0, 0.0], [0.0, 0.0]) == float("inf")
    assert rel_error([np.inf, 1.0], [1.0, 1.0]) == float("inf")
    assert rel_error([np.inf, 1.0], [np.inf, 2.0]) == pytest.approx(0.5)


def test_bad_shadow_arguments_name_the_problem():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="unknown shadow mode"):
        Shadow(model, mode="fixed")
    with pytest.raises(ValueError, match="needs the optimizer"):
        Shadow(model, mode="free")
    with pytest.raises(ValueError, match="unknown shadow mode"):
        TrainConfig(shadow="exact").check()


def test_free_twin_trains_beside_the_run():
    numprec.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, policy=get_policy("bf16-amp"))
    x, y = np.ones((2, 4)), np.array([0, 2])
    with Shadow(model, opt, mode="free") as shadow:
        for _ in range(3):
            opt.zero_grad()
            with autocast("bf16-amp"):
                loss = F.cross_entropy(model(numprec.Tensor(x)), y)
            loss.backward()
            opt.step()
            shadow.twin_step(x, y, F.cross_entropy)
    table = shadow.table()
    assert sorted(set(table.step)) == [0, 1, 2]
    weights = table[(table.kind == "weight") & (table.tensor == "weight")].sort_values("step")
    assert (weights.value > 0).all()  # bf16 compute: the run drifts from its float64 twin
