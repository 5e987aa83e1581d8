"""Every op's gradient against central finite differences in float64 (fp64 policy)."""
import numpy as np
import pytest

import numprec
from numprec.amp import autocast
from numprec.autodiff.vjp import VJP

from gradcheck_cases import CASES


def numeric_vjp(fn, arrays, index, upstream, h=1e-6):
    """d <fn(arrays), upstream> / d arrays[index] by central differences."""
    grad = np.zeros_like(arrays[index])
    flat = grad.reshape(-1)
    for i in range(flat.size):
        values = []
        for sign in (1.0, -1.0):
            shifted = [a.copy() for a in arrays]
            shifted[index].reshape(-1)[i] += sign * h
            out = fn(*[numprec.Tensor(a) for a in shifted])
            values.append(np.sum(out.data * upstream))
        flat[i] = (values[0] - values[1]) / (2 * h)
    return grad


@pytest.mark.parametrize("op, fn, arrays", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_gradient_matches_finite_differences(op, fn, arrays):
    with autocast("fp64"):
        inputs = [numprec.Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*inputs)
        assert out.format.name == "fp64"
        upstream = np.random.default_rng(5).standard_normal(out.shape)
        out.backward(upstream)
        for index, tensor in enumerate(inputs):
            expected = numeric_vjp(fn, arrays, index, upstream)
            assert tensor.grad is not None and tensor.grad.shape == arrays[index].shape
            np.testing.assert_allclose(tensor.grad, expected, rtol=1e-6, atol=1e-7,
                                       err_msg=f"{op}: gradient of operand {index}")


def test_every_rule_in_the_table_is_checked():
    checked = {case[0] for case in CASES}
    assert set(VJP) == checked, f"ops without a gradient check: {set(VJP) - checked}"


def test_the_graph_records_the_op_names_of_the_table():
    with autocast("fp64"):
        x = numprec.Tensor(np.ones(3), requires_grad=True)
        for op, fn, arrays in CASES:
            out = fn(*[numprec.Tensor(a, requires_grad=True) for a in arrays])
            assert out._op == op or out._op in VJP  # composite cases end in another op
        assert (x * 2.0)._op == "mul"
