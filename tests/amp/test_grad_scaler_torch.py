"""numprec's GradScaler and torch.amp.GradScaler on the same injected inf/NaN stream.

PyTorch is an optional test dependency; without it this module is skipped."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional test dependency)")

from numprec import optim  # noqa: E402
from numprec.amp import GradScaler  # noqa: E402
from numprec.nn import Parameter  # noqa: E402


def test_same_scale_trajectory_and_skips_as_torch():
    rng = np.random.default_rng(0)
    ours_p = Parameter(np.array([1.0, 2.0], np.float32))
    ours_opt = optim.SGD([ours_p], lr=0.1)
    ours = GradScaler(init_scale=2.0 ** 10, growth_interval=3)
    theirs_p = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float32))
    theirs_opt = torch.optim.SGD([theirs_p], lr=0.1)
    theirs = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=3)
    for step in range(80):
        grad = rng.standard_normal(2) * 1e-3
        kind = rng.choice(["ok", "ok", "inf", "nan"])
        if kind != "ok":
            grad[step % 2] = np.inf if kind == "inf" else np.nan
        ours.scale(ours_p.sum())
        theirs.scale(theirs_p.sum())
        scaled = np.float32(grad * ours.get_scale())
        ours_p.grad = scaled.astype(float)
        theirs_p.grad = torch.tensor(scaled)
        ours.step(ours_opt)
        theirs.step(theirs_opt)
        ours.update()
        theirs.update()
        assert ours.get_scale() == theirs.get_scale()
        np.testing.assert_array_equal(ours_p.data, theirs_p.detach().numpy().astype(float))
