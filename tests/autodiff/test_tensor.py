"""The Tensor core: graph recording, backward, accumulation, grad modes, formats, errors."""
import numpy as np
import pytest

import numprec
from numprec import functional as F
from numprec.autodiff.graph import apply


def leaf(values, fmt=None):
    return numprec.Tensor(np.asarray(values, dtype=float), requires_grad=True, format=fmt)


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    with pytest.raises(RuntimeError, match=r"non-scalar output \(shape \(2,\)\)"):
        y.backward()
    y.backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [3.0, -3.0])


def test_backward_gradient_shape_is_checked():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"gradient shape \(3,\) does not match the output shape \(2,\)"):
        y.backward(np.ones(3))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        numprec.Tensor([1.0]).sum().backward()


def test_a_tensor_used_twice_accumulates_its_gradient():
    x = leaf([1.5, -2.0])
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * np.array([1.5, -2.0]) + 1)


def test_leaf_gradients_accumulate_over_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_diamond_graph_visits_each_node_once():
    x = leaf([2.0])
    a = x * 3.0
    b = a + a          # a reached twice
    c = b * a
    c.backward(np.ones(1))
    # c = 2a * a = 2 * 9 x^2 -> dc/dx = 36 x
    np.testing.assert_array_equal(x.grad, [72.0])


def test_a_long_chain_does_not_recurse():
    x = leaf([1.0])
    y = x
    for _ in range(3000):
        y = y + 1.0
    y.backward(np.ones(1))
    np.testing.assert_array_equal(x.grad, [1.0])


def test_no_grad_records_nothing_and_enable_grad_restores():
    x = leaf([1.0])
    with numprec.no_grad():
        y = x * 2.0
        with numprec.enable_grad():
            z = x * 2.0
    assert not y.requires_grad and y._parents == () and y._backward is None
    assert z.requires_grad and z._op == "mul"
    assert numprec.autodiff.is_grad_enabled()


def test_detach_and_retain_grad():
    x = leaf([1.0, 2.0])
    hidden = (x * 2.0).retain_grad()
    frozen = hidden.detach()
    assert not frozen.requires_grad and frozen.is_leaf
    (hidden * frozen).sum().backward()
    np.testing.assert_array_equal(hidden.grad, [2.0, 4.0])
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_formats_are_inferred_like_pytorch_dtypes():
    assert numprec.Tensor(np.zeros(2, np.float16)).format.name == "fp16"
    assert numprec.Tensor(np.zeros(2, np.float32)).format.name == "fp32"
    assert numprec.Tensor(np.zeros(2)).format.name == "fp64"
    assert numprec.Tensor(np.arange(3)).format.name == "fp64"
    listed = numprec.Tensor([0.1, 0.2])  # Python numbers: fp32, rounded
    np.testing.assert_array_equal(listed.data, np.float32([0.1, 0.2]).astype(np.float64))
    named = numprec.Tensor([1.0 + 2.0 ** -12], format="fp16")
    assert named.format.name == "fp16" and named.item() == 1.0


def test_ml_dtypes_arrays_keep_their_format():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    values = np.array([1.5, -0.3], dtype=ml_dtypes.bfloat16)
    t = numprec.Tensor(values)
    assert t.format.name == "bf16"
    np.testing.assert_array_equal(t.data, values.astype(np.float64))
    assert numprec.Tensor(np.zeros(2, ml_dtypes.float8_e4m3fn)).format.name == "fp8_e4m3fn"
    with pytest.raises(TypeError, match="must be real numbers"):
        numprec.Tensor(np.array([1 + 2j]))


def test_python_numbers_do_not_promote():
    x = numprec.Tensor(np.array([3.0], np.float16))
    assert (x * 2.5).format.name == "fp16"
    assert (2.5 + x).format.name == "fp16"
    y = numprec.Tensor(np.array([3.0], np.float32))
    assert (x + y).format.name == "fp32"


def test_item_and_repr():
    t = numprec.Tensor(np.array([[2.5]]))
    assert t.item() == 2.5 and float(t) == 2.5
    with pytest.raises(ValueError, match=r"one element, got shape \(2,\)"):
        numprec.Tensor(np.ones(2)).item()
    assert "format=fp64" in repr(t) and "op=mul" in repr(leaf([1.0]) * 2.0)


def test_a_missing_rule_fails_loudly():
    x = leaf([1.0])
    with pytest.raises(NotImplementedError, match="no gradient rule for op 'cube'"):
        apply("cube", "elementwise", lambda a, k: a ** 3, (x,))
    with numprec.no_grad():  # without a gradient the op runs
        assert apply("cube", "elementwise", lambda a, k: a ** 3, (x,)).item() == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda: numprec.Tensor(np.ones(3)) + numprec.Tensor(np.ones(4)),
     r"add: shapes \(3,\) and \(4,\) cannot be broadcast"),
    (lambda: numprec.Tensor(np.ones((3, 4))) @ numprec.Tensor(np.ones((5, 6))),
     r"matmul: shapes \(3, 4\) and \(5, 6\) are not aligned \(4 != 5\)"),
    (lambda: F.linear(numprec.Tensor(np.ones((2, 3))), numprec.Tensor(np.ones((4, 5)))),
     r"linear: input shape \(2, 3\) and weight shape \(4, 5\)"),
    (lambda: F.conv2d(numprec.Tensor(np.ones((1, 2, 5, 5))), numprec.Tensor(np.ones((3, 4, 3, 3)))),
     r"conv2d: input shape \(1, 2, 5, 5\) and weight shape \(3, 4, 3, 3\)"),
    (lambda: F.concatenate([numprec.Tensor(np.ones((2, 3))), numprec.Tensor(np.ones((3, 3)))], 1),
     r"concatenate: shapes \(2, 3\) and \(3, 3\) differ outside axis 1"),
    (lambda: F.cross_entropy(numprec.Tensor(np.ones((2, 3))), np.array([0, 1, 2])),
     r"cross_entropy: logits shape \(2, 3\) and target shape \(3,\)"),
    (lambda: F.mse_loss(numprec.Tensor(np.ones(2)), numprec.Tensor(np.ones(3))),
     r"mse_loss: shapes \(2,\) and \(3,\)"),
    (lambda: numprec.Tensor(np.ones((2, 3))).reshape(4, 2),
     r"reshape: cannot reshape shape \(2, 3\) into \(4, 2\)"),
    (lambda: F.sum(numprec.Tensor(np.ones(2)), axis=1), r"sum: axis 1 is out of range"),
    (lambda: F.cross_entropy(numprec.Tensor(np.ones((1, 3))), np.array([3])),
     r"target class 3 is out of range for 3 classes"),
    (lambda: F.embedding(np.array([5]), numprec.Tensor(np.ones((3, 2)))),
     r"embedding: index 5 is out of range for 3 embeddings"),
    (lambda: F.max_pool2d(numprec.Tensor(np.ones((1, 1, 2, 2))), 3),
     r"max_pool2d: input spatial shape \(2, 2\)"),
    (lambda: F.dropout(numprec.Tensor(np.ones(2)), 1.5), r"dropout: p must be a probability"),
])
def test_bad_input_names_the_op_and_the_shapes(call, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message):
        call()


def test_ndarray_on_the_left_defers_to_the_tensor():
    x = leaf([1.0, 2.0])
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, numprec.Tensor) and y._op == "mul"
