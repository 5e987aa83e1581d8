"""The engine reports each op to observers, with the flags its own kernels counted."""
import numpy as np
import pytest

import numprec
from numprec import functional as F
from numprec import nn, optim
from numprec.amp import GradScaler, StaticLossScaler, autocast
from numprec.autodiff import observe


class Recorder:
    """An observer that keeps the records (tests only: a monitor reads them in notify)."""

    def __init__(self):
        self.active, self.records = True, []

    def notify(self, record):
        self.records.append(record)

    def of(self, kind):
        return [r for r in self.records if isinstance(r, kind)]


@pytest.fixture
def recorder():
    rec = Recorder()
    observe.add_observer(rec)
    yield rec
    observe.remove_observer(rec)


def r(x, fmt):
    return np.asarray(numprec.round(np.asarray(x, dtype=float), fmt))


def zeroed(exact, rounded):
    return int(np.count_nonzero((np.asarray(exact) != 0) & (np.asarray(rounded) == 0)))


def test_an_observer_needs_notify_and_active():
    with pytest.raises(TypeError, match="notify"):
        observe.add_observer(object())


def test_no_observer_means_no_observing():
    assert not observe.observing()


def test_inactive_observer_sees_nothing(recorder):
    recorder.active = False
    assert not observe.observing()
    x = numprec.Tensor(np.ones(3, dtype=np.float16))
    x * 2.0
    assert recorder.records == []


def test_forward_flags_are_the_events_of_rounding_the_exact_result(recorder):
    a = np.array([1e-4, 3e-5, 1.0, 2e-8, -1e-8, 0.0, 6e4, 1e-3])
    b = np.array([1e-4, 1e-3, 1.0, 1.0, 1.0, 5.0, 2.0, 1e-5])
    x = numprec.Tensor(a.astype(np.float16))
    y = numprec.Tensor(b.astype(np.float16))
    with autocast("fp16"):
        z = x * y
    (rec,) = recorder.of(observe.ForwardRecord)
    assert rec.op == "mul" and rec.output is z and rec.operands == (x, y)
    exact = r(a, "fp16") * r(b, "fp16")
    np.testing.assert_array_equal(rec.exact, exact)
    np.testing.assert_array_equal(z.data, r(exact, "fp16"))
    assert rec.flags.zeroed == zeroed(exact, z.data) == 2  # 2e-8 was zero as an fp16 input
    assert rec.flags.overflow == int(np.count_nonzero(np.isinf(z.data))) == 1
    subnormal = (z.data != 0) & (np.abs(z.data) < 2.0 ** -14) & np.isfinite(z.data)
    assert rec.flags.subnormal == int(np.count_nonzero(subnormal)) > 0
    # the operands were fp16 already: nothing was rounded on the way in
    assert rec.cast_flags == (None, None) and rec.input_formats == (None, None)


def test_cast_flags_count_what_the_cast_to_the_input_format_lost(recorder):
    a = np.array([1e-9, 1e-6, 1.0, 1e5, -2e-8], dtype=np.float32)
    x = numprec.Tensor(a)
    w = numprec.Tensor(np.ones((5, 2), dtype=np.float32))
    with autocast("fp16-amp"):
        x @ w
    (rec,) = recorder.of(observe.ForwardRecord)
    assert rec.input_formats[0].name == "fp16"
    cast = r(a, "fp16")
    np.testing.assert_array_equal(rec.inputs[0], cast)
    assert rec.cast_flags[0].zeroed == zeroed(a, cast) == 2
    assert rec.cast_flags[0].overflow == 1


def test_layers_are_named_by_the_observer(recorder):
    numprec.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    for name, module in model.named_modules():
        module._layer = name
    x = numprec.Tensor(np.ones((2, 4), dtype=np.float32))
    with autocast("fp16-amp"):
        F.cross_entropy(model(x), np.array([0, 1]))
    layers = [(rec.layer, rec.op) for rec in recorder.of(observe.ForwardRecord)]
    assert ("0", "linear") in layers or ("0", "matmul") in layers
    assert {layer for layer, _ in layers} >= {"0", "1", "2", ""}
    assert layers[-1][0] == ""  # the loss runs outside the model


def _train(steps, scaler_kind, observer=None, lr=1e-2):
    numprec.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=lr, policy=numprec.amp.get_policy("fp16-amp"))
    scaler = {"dynamic": GradScaler(init_scale=2.0 ** 20), "static": StaticLossScaler(2.0 ** 4),
              None: None}[scaler_kind]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 6)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    if observer is not None:
        observe.add_observer(observer)
    try:
        for _ in range(steps):
            opt.zero_grad()
            with autocast("fp16-amp"):
                loss = F.cross_entropy(model(numprec.Tensor(x)), y)
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
    finally:
        if observer is not None:
            observe.remove_observer(observer)
    return model, opt


@pytest.mark.parametrize("scaler_kind", [None, "dynamic", "static"])
def test_observing_does_not_change_a_single_bit(scaler_kind):
    plain, plain_opt = _train(4, scaler_kind)
    rec = Recorder()
    watched, watched_opt = _train(4, scaler_kind, rec)
    for p, q in zip(plain.parameters(), watched.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    for p, q in zip(plain.parameters(), watched.parameters()):
        s, t = plain_opt.state[p], watched_opt.state[q]
        np.testing.assert_array_equal(s["exp_avg_sq"], t["exp_avg_sq"])
    assert rec.of(observe.BackwardRecord) and rec.of(observe.GradRecord)


def test_updates_and_state_are_reported_with_their_flags():
    rec = Recorder()
    model, opt = _train(2, None, rec)
    weights = rec.of(observe.WeightRecord)
    states = rec.of(observe.StateRecord)
    params = list(model.parameters())
    assert len(weights) == 2 * len(params)
    assert {s.name for s in states} == {"exp_avg", "exp_avg_sq"}
    for w in weights:
        np.testing.assert_array_equal(w.new, r(w.target, w.param.format.name))
        assert w.flags.zeroed == zeroed(w.target, w.new)
    for s in states:
        np.testing.assert_array_equal(s.new, r(s.target, s.fmt.name))
        assert s.flags.zeroed == zeroed(s.target, s.new)
    steps = rec.of(observe.StepRecord)
    assert [s.skipped for s in steps] == [False, False]


def test_a_skipped_step_is_reported_and_unscale_sees_both_gradients():
    rec = Recorder()
    _train(1, "dynamic", rec)  # 2**20 times the loss overflows fp16 in backward
    (step,) = rec.of(observe.StepRecord)
    assert step.skipped
    unscales = rec.of(observe.UnscaleRecord)
    assert unscales and all(u.scaled.shape == u.grad.shape for u in unscales)
    assert not rec.of(observe.WeightRecord)


def test_unscale_flags_count_the_rounding_of_the_unscaled_gradient():
    rec = Recorder()
    _train(2, "static", rec)
    for u in rec.of(observe.UnscaleRecord):
        product = r(np.asarray(u.scaled) * (1.0 / 16), "fp32")
        np.testing.assert_array_equal(u.grad, product)
        assert u.flags.zeroed == zeroed(u.scaled, u.grad)


def test_gradient_sums_count_their_flags(recorder):
    x = numprec.Tensor(np.array([1.0, 3.0], dtype=np.float16), requires_grad=True)
    with autocast("fp16"):
        y = x * 1.0 + x * 2.0 ** -11
    y.backward(np.array([1.0, 1.0]))
    grads = [g for g in recorder.of(observe.GradRecord) if g.tensor is x]
    assert len(grads) == 1
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])  # 1 + 2**-11 is a tie: to even, 1
    assert grads[0].flags is not None
    assert grads[0].flags.inexact == 2
