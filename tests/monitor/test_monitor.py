"""Monitor statistics against statistics computed by hand on small tensors."""
import numpy as np
import pandas as pd
import pytest

import numprec
from numprec import functional as F
from numprec import nn, optim
from numprec.amp import GradScaler, Pass, Policy, autocast, get_policy
from numprec.monitor import KINDS, STATS, Monitor, whatif_names
from numprec.quant import e8m0_decode, mx_encode, mx_quantize


def r(x, fmt, saturate=False):
    return np.asarray(numprec.round(np.asarray(x, dtype=float), fmt, saturate=saturate))


def stat(table, layer, tensor, kind, name, step=0):
    rows = table[(table.step == step) & (table.layer == layer) & (table.tensor == tensor)
                 & (table.kind == kind) & (table.stat == name)]
    assert len(rows) == 1, (layer, tensor, kind, name, step, len(rows))
    return float(rows.value.iloc[0])


class OneLayer(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.fc = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        self.fc.weight.data = np.asarray(weight, dtype=np.float64)

    def forward(self, x):
        return self.fc(x)


WEIGHT = np.array([[1e-9, 0.5, -2.0, 3e-6], [70000.0, 1.0, 0.0, -1e-3]])
X = np.array([[1.0, 2.0, 1e-8, 4.0], [0.5, -1.0, 2.0, 1e-3]])


def run_one_step(policy="fp16-amp", whatif=(), **monitor_options):
    model = OneLayer(WEIGHT)
    opt = optim.SGD(model.parameters(), lr=0.5, policy=get_policy(policy))
    with Monitor(model, opt, whatif=whatif, **monitor_options) as monitor:
        opt.zero_grad()
        with autocast(policy):
            out = model(numprec.Tensor(X.astype(np.float32)))
            loss = F.mse_loss(out, np.zeros((2, 2)))
        loss.backward()
        opt.step()
    return monitor, model, out


def test_weight_statistics_are_those_of_the_cast_weight():
    monitor, _, _ = run_one_step()
    table = monitor.table()
    w16 = r(WEIGHT, "fp16")  # fp32 master weights, cast to fp16 by the linear op
    size = WEIGHT.size
    finite = w16[np.isfinite(w16)]
    assert stat(table, "fc", "weight", "weight", "zero_frac") == np.count_nonzero(w16 == 0) / size
    assert stat(table, "fc", "weight", "weight", "inf_count") == 1  # 70000 > fp16 max
    assert stat(table, "fc", "weight", "weight", "amax") == np.max(np.abs(finite))
    assert stat(table, "fc", "weight", "weight", "norm") == pytest.approx(
        np.linalg.norm(finite), rel=1e-15)
    # 1e-9 underflows to zero; 3e-6 becomes subnormal; 70000 overflows
    assert stat(table, "fc", "weight", "weight", "underflow_frac") == 1 / size
    assert stat(table, "fc", "weight", "weight", "subnormal_frac") == 1 / size
    assert stat(table, "fc", "weight", "weight", "overflow_frac") == 1 / size
    nonzero = np.abs(finite[finite != 0])
    assert stat(table, "fc", "weight", "weight", "min_exponent") == np.floor(
        np.log2(nonzero.min()))
    assert stat(table, "fc", "weight", "weight", "max_exponent") == np.floor(
        np.log2(nonzero.max()))


def test_the_input_and_the_activation_are_recorded_with_their_events():
    monitor, _, out = run_one_step()
    table = monitor.table()
    x16 = r(X, "fp16")
    assert stat(table, "fc", "input", "activation", "underflow_frac") == 1 / X.size  # 1e-8
    assert stat(table, "fc", "input", "activation", "amax") == 4.0
    assert stat(table, "fc", "linear", "activation", "inf_count") == np.count_nonzero(
        np.isinf(out.data))
    assert stat(table, "fc", "linear", "activation", "nan_count") == np.count_nonzero(
        np.isnan(out.data))
    assert np.all(np.isfinite(x16) | (X == 0))


def test_the_exponent_histogram_counts_every_finite_nonzero_value():
    monitor, _, _ = run_one_step()
    hist = monitor.histograms()
    w = hist[(hist.layer == "fc") & (hist.tensor == "weight") & (hist.kind == "weight")]
    w16 = r(WEIGHT, "fp16")
    values = np.abs(w16[np.isfinite(w16) & (w16 != 0)])
    expected = pd.Series(np.floor(np.log2(values)).astype(int)).value_counts().sort_index()
    assert dict(zip(w.exponent, w["count"])) == dict(expected)


def test_gradients_updates_and_master_weights():
    model = OneLayer(np.array([[1.0, 256.0, 0.0, 2.0]]))
    policy = Policy("bf16-store", default=Pass("fp32", "fp32", "fp32"), master="bf16",
                    optimizer_state="fp32")
    opt = optim.SGD(model.parameters(), lr=1.0, policy=policy)
    grad = np.array([[2.0 ** -10, 2.0 ** -10, 1e-3, -0.5]])  # -lr*grad: the update target
    with Monitor(model, opt) as monitor:
        opt.zero_grad()
        with autocast(policy):
            out = model(numprec.Tensor(np.ones((1, 4), dtype=np.float32)))
        out.backward(np.ones((1, 1)))
        model.fc.weight.grad = grad  # the gradient the update sees
        old = model.fc.weight.data.copy()
        opt.step()
    table = monitor.table()
    new = model.fc.weight.data
    # 1 - 2**-10 and 256 - 2**-10 are within half an ulp of bf16: both stay (stagnate)
    np.testing.assert_array_equal(new, r(old - grad, "bf16"))
    assert stat(table, "fc", "weight", "update", "stagnation_frac") == 2 / 4
    assert stat(table, "fc", "weight", "update", "amax") == np.max(np.abs(new - old))
    assert stat(table, "fc", "weight", "master", "amax") == 256.0
    assert stat(table, "fc", "weight", "grad", "amax") == 1.0  # d out / d w = the input
    assert set(table.kind) >= {"weight", "activation", "grad", "update", "master", "run"}


def test_each_steps_update_statistics_are_that_steps_change():
    # the update's new - old goes into a buffer reused from step to step: every step's row must
    # be of its own change
    numprec.manual_seed(5)
    model = nn.Sequential(nn.Linear(6, 5))
    opt = optim.SGD(model.parameters(), lr=0.5, policy=get_policy("fp16"))
    weight = model[0].weight
    rng = np.random.default_rng(5)
    changes = []
    with Monitor(model, opt) as monitor:
        for _ in range(4):
            opt.zero_grad()
            x = numprec.Tensor(rng.standard_normal((3, 6)))
            (model(x) * model(x)).sum().backward()
            old = weight.data.copy()
            opt.step()
            changes.append(weight.data - old)
    table = monitor.table()
    rows = table[(table.tensor == "weight") & (table.kind == "update")]
    for step, change in enumerate(changes):
        at = rows[rows.step == step].set_index("stat").value
        assert at["amax"] == np.max(np.abs(change))
        assert at["norm"] == pytest.approx(np.linalg.norm(change), rel=1e-13)
        assert at["zero_frac"] == np.mean(change == 0.0)


def test_kernel_counted_events_equal_re_rounding_the_exact_values():
    numprec.manual_seed(4)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    opt = optim.Adam(model.parameters(), lr=1e-2, policy=get_policy("fp16"))
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 8)) * 1e-4).astype(np.float32)
    records = []

    class Keep:
        active = True

        def notify(self, record):
            records.append(record)

    keeper = Keep()
    with Monitor(model, opt) as monitor:
        numprec.autodiff.observe.add_observer(keeper)
        with autocast("fp16"):
            out = model(numprec.Tensor(x))
        numprec.autodiff.observe.remove_observer(keeper)
    table = monitor.table()
    forward = [rec for rec in records if isinstance(rec, numprec.autodiff.observe.ForwardRecord)]
    for rec in forward:
        if rec.op_class is None:
            continue
        exact, rounded = np.asarray(rec.exact), rec.output.data
        zeroed = np.count_nonzero((exact != 0) & (rounded == 0))
        name = rec.op
        assert stat(table, rec.layer, name, "activation", "underflow_frac") * rounded.size == \
            zeroed
    assert out.format.name == "fp16"


def test_what_if_statistics_equal_rounding_the_tensor_for_real():
    monitor, model, _ = run_one_step(whatif=("e4m3", "bf16"))
    table = monitor.table()
    master = WEIGHT.astype(np.float32).astype(np.float64)  # fp32 master weights
    for fmt in ("fp8_e4m3fn", "bf16"):
        names = dict(zip(("underflow_frac", "overflow_frac", "clipping_frac", "rel_error",
                          "sqnr_db"), whatif_names(fmt, False)))
        q = r(master, fmt, saturate=True)
        fmax = numprec.get_format(fmt).max
        size = master.size
        assert stat(table, "fc", "weight", "weight", names["underflow_frac"]) == \
            np.count_nonzero((master != 0) & (q == 0)) / size
        assert stat(table, "fc", "weight", "weight", names["clipping_frac"]) == \
            np.count_nonzero(np.abs(master) > fmax) / size
        err = np.linalg.norm(q - master) / np.linalg.norm(master)
        assert stat(table, "fc", "weight", "weight", names["rel_error"]) == pytest.approx(
            err, rel=1e-12)
        sqnr = 10 * np.log10(np.sum(master ** 2) / np.sum((q - master) ** 2))
        assert stat(table, "fc", "weight", "weight", names["sqnr_db"]) == pytest.approx(sqnr)
    # scaled: per-tensor scale fmax / amax in float32, dequantized with float32(1 / scale)
    fmax = numprec.get_format("e4m3").max
    scale = float(np.float32(fmax / np.max(np.abs(master))))
    q = r(master * scale, "e4m3", saturate=True) * float(np.float32(1 / scale))
    name = whatif_names("e4m3", True)[0]
    assert stat(table, "fc", "weight", "weight", name) == \
        np.count_nonzero((master != 0) & (q == 0)) / master.size
    assert name == "whatif_fp8_e4m3fn_scaled_underflow_frac"
    # per block: MX blocks of 32 along the last axis, zero-padded, E8M0 floor scales
    names = dict(zip(("underflow_frac", "overflow_frac", "clipping_frac", "rel_error",
                      "sqnr_db"), whatif_names("e4m3", "block")))
    width = master.shape[-1]
    padded = np.pad(master, ((0, 0), (0, (-width) % 32)))
    q = mx_quantize(padded, "e4m3")[:, :width]
    codes, scales = mx_encode(padded, "e4m3")
    limit = (448.0 * np.repeat(e8m0_decode(scales), 32, axis=1))[:, :width]
    assert stat(table, "fc", "weight", "weight", names["underflow_frac"]) == \
        np.count_nonzero((master != 0) & (q == 0)) / master.size
    assert stat(table, "fc", "weight", "weight", names["clipping_frac"]) == \
        np.count_nonzero(np.abs(master) > limit) / master.size
    assert stat(table, "fc", "weight", "weight", names["rel_error"]) == pytest.approx(
        np.linalg.norm(q - master) / np.linalg.norm(master), rel=1e-12)
    assert "whatif_bf16_block_rel_error" in table["stat"].values


def test_every_start_end_include_and_kinds_filter_what_is_recorded():
    numprec.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = numprec.Tensor(np.ones((2, 4)))
    with Monitor(model, opt, every=2, start=1, end=6, include=r"^0\.", kinds=["weight", "grad",
                                                                         "run"]) as monitor:
        for _ in range(8):
            opt.zero_grad()
            F.mse_loss(model(x), np.zeros((2, 2))).backward()
            opt.step()
    table = monitor.table()
    assert sorted(set(table.step)) == [1, 3, 5]
    assert set(table.kind) == {"weight", "grad", "run"}
    assert set(table[table.kind != "run"].layer) == {"0"}
    assert monitor.step_count == 8


def test_bad_arguments_name_the_problem():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="unknown kind"):
        Monitor(model, kinds=["weights"])
    with pytest.raises(ValueError, match="every"):
        Monitor(model, every=0)
    with pytest.raises(ValueError, match="include"):
        Monitor(model, include="(")
    with pytest.raises(ValueError, match="unknown format"):
        Monitor(model, whatif=["fp7"])
    with pytest.raises(TypeError, match="Module"):
        Monitor(object())
    assert set(KINDS) >= {"weight", "activation", "grad", "grad_scaled", "update", "state",
                          "master", "run", "scale"}
    assert {"underflow_frac", "stagnation_frac", "tiny_frac"} <= set(STATS)


def _amp_steps(steps, init_scale, monitor_kwargs=None):
    numprec.manual_seed(2)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    policy = get_policy("fp16-amp")
    opt = optim.Adam(model.parameters(), lr=1e-3, policy=policy)
    scaler = GradScaler(init_scale=init_scale, growth_interval=2)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 3, 8)
    with Monitor(model, opt, scaler, **(monitor_kwargs or {})) as monitor:
        for _ in range(steps):
            opt.zero_grad()
            with autocast(policy):
                loss = F.cross_entropy(model(numprec.Tensor(x)), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
    return monitor, scaler


def test_run_rows_hold_loss_scale_and_skipped_steps():
    monitor, _ = _amp_steps(3, 2.0 ** 30)  # 2**30 times the loss overflows fp16: skipped
    table = monitor.table()
    run = table[table.kind == "run"].pivot(index="step", columns="stat", values="value")
    assert list(run.index) == [0, 1, 2]
    assert run.loc[0, "loss_scale"] == 2.0 ** 30 and run.loc[0, "skipped"] == 1.0
    assert run.loc[1, "loss_scale"] == 2.0 ** 29
    assert np.all(np.isfinite(run["loss"]))
    # a scaled backward pass: the parameters' gradients are grad_scaled, then grad unscaled
    assert {"grad", "grad_scaled"} <= set(table.kind)
    assert "update" not in set(table.kind)  # every step overflowed and was skipped
    assert monitor.first_nonfinite is not None
    assert monitor.first_nonfinite["pass"] == "backward"
    assert monitor.first_nonfinite["step"] == 0


def test_scaled_and_unscaled_gradients_differ_by_the_scale():
    monitor, _ = _amp_steps(1, 2.0 ** 4)
    table = monitor.table()
    scaled = stat(table, "2", "weight", "grad_scaled", "amax")
    unscaled = stat(table, "2", "weight", "grad", "amax")
    assert scaled == pytest.approx(unscaled * 16, rel=1e-3)
    assert monitor.first_nonfinite is None


def test_saved_files_read_back_as_the_tables(tmp_path):
    monitor, _ = _amp_steps(2, 2.0 ** 4)
    paths = monitor.save(tmp_path)
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["tensors.parquet", "exponents.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "tensors.parquet"),
                                  monitor.table())
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "exponents.parquet"),
                                  monitor.histograms())


def test_tensorboard_export_writes_an_event_file(tmp_path):
    monitor, _ = _amp_steps(2, 2.0 ** 4)
    monitor.save(tmp_path, tensorboard=True)
    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 1000


def test_a_monitor_restored_from_its_state_continues_the_same_table():
    whole, _ = _amp_steps(4, 2.0 ** 4)
    first, _ = _amp_steps(2, 2.0 ** 4)
    state = first.state_dict()
    again = Monitor(nn.Linear(2, 2))
    again.load_state_dict(state)
    pd.testing.assert_frame_equal(again.table(), first.table())
    assert again.step_count == 2
    assert set(whole.table().step) == {0, 1, 2, 3}


class RowSums(nn.Module):
    def forward(self, x):
        return x.sum(axis=1)


def test_swamped_frac_counts_the_rows_whose_accumulation_lost_a_term():
    rows = np.array([[1.0] + [2.0 ** -12] * 15,   # every small term lost against 1 in fp16
                     [1.0] + [2.0 ** -9] * 15,    # kept: 2^-9 is above half an ulp of 1
                     [2.0 ** -12] * 16])          # small against small: kept
    policy = Policy("fp16-acc", default=Pass("fp16", "fp16", "fp16", order="sequential"))
    model = RowSums()
    with Monitor(model) as monitor:
        with autocast(policy):
            out = model(numprec.Tensor(rows.astype(np.float16), requires_grad=True))
        monitor.step()
    table = monitor.table()
    assert stat(table, "", "sum", "activation", "swamped_frac") == 1 / 3
    flags = numprec.Flags()
    numprec.sum(rows, "fp16", order="sequential", flags=flags)
    assert flags.swamped == 1 and out.data[0] == 1.0


def test_fp8_delayed_scaling_states_are_recorded_with_their_amax_history():
    numprec.manual_seed(5)
    model = nn.Sequential(nn.Linear(8, 4))
    policy = get_policy("fp8-hybrid")
    opt = optim.SGD(model.parameters(), lr=0.01, policy=policy)
    x = np.random.default_rng(2).standard_normal((4, 8)).astype(np.float32)
    with Monitor(model, opt) as monitor:
        for _ in range(3):
            opt.zero_grad()
            with autocast(policy):
                F.mse_loss(model(numprec.Tensor(x)), np.zeros((4, 4))).backward()
            opt.step()
    table = monitor.table()
    scale = table[table.kind == "scale"]
    assert set(scale.stat) == {"scale", "amax", "amax_last"} and set(scale.layer) == {"0"}
    states = model[0].fp8_states
    for (role, fmt), state in states.items():
        rows = scale[(scale.tensor == f"{role}.{fmt}") & (scale.step == 2)]
        got = dict(zip(rows.stat, rows.value))
        assert got == {"scale": state.scale, "amax": state.amax, "amax_last": state.history[-1]}
    assert len(states) >= 2  # the input and the weight of the linear
