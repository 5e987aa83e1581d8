"""The Tensor core: values, gradient, and the graph node (parents, op name, backward closure).

Values are float64 NumPy arrays holding numbers of the tensor's `format` (every value exactly
representable in it), so one array type carries every emulated precision. An op's output records
its parents, its op name and a closure mapping the output gradient to the parents' gradients
(built by numprec.autodiff.graph from the op's rule in the VJP table); `backward` visits the graph
in reverse topological order. The core imports no op: numprec.autodiff.operators attaches the
operators and methods (a + b, x.sum(), ...), which call numprec.autodiff.functional.
"""
from __future__ import annotations

import numpy as np

from ..formats import get_format
from ..ops.flags import Flags
from ..policy.casting import counting, round_to
from .observe import GradRecord, notify, observing

_DTYPE_FORMATS = {np.dtype(np.float16): "fp16", np.dtype(np.float32): "fp32",
                  np.dtype(np.float64): "fp64"}


def _values_and_format(data, format):
    """float64 values and the format they hold: named, or inferred like PyTorch's dtypes
    (float16/32/64 arrays keep their precision; Python numbers and lists become fp32)."""
    if isinstance(data, Tensor):
        data, inferred = data.data, data.format
    elif isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.asarray(data)
        inferred = _DTYPE_FORMATS.get(arr.dtype) or _ml_dtypes_format(arr.dtype)
        if inferred is None:
            if arr.dtype.kind not in "iub":
                raise TypeError(f"Tensor data must be real numbers, got dtype {arr.dtype}")
            inferred = "fp64"  # integers and booleans: float64 holds them exactly
        data = arr.astype(np.float64) if arr.dtype.kind == "V" else arr
    else:
        inferred = "fp32"
    values = np.array(data, dtype=np.float64, copy=True, order="C")
    if format is None:
        fmt = get_format(inferred)
        if inferred == "fp32" and not isinstance(data, np.ndarray):
            values = round_to(values, fmt)
        return values, fmt
    fmt = get_format(format)
    return round_to(values, fmt), fmt


def _ml_dtypes_format(dtype):
    """The numprec format of an ml_dtypes type (bfloat16 -> bf16, float8_e4m3fn -> fp8_e4m3fn)."""
    name = getattr(dtype, "name", "")
    if dtype.kind != "V" or not name.startswith(("bfloat16", "float")):
        return None
    name = "bf16" if name == "bfloat16" else "fp" + name[len("float"):]
    try:
        return get_format(name)
    except ValueError:
        return None


class Tensor:
    """An array of numbers of one format, with an optional gradient (PyTorch-shaped)."""

    __array_priority__ = 100  # `ndarray op Tensor` defers to the Tensor's reflected operator

    def __init__(self, data, requires_grad: bool = False, format=None):
        self.data, self.format = _values_and_format(data, format)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._parents = ()
        self._op = None        # name of the op that made this tensor (None for a leaf)
        self._backward = None  # closure: output gradient -> tuple of parent gradients
        self._retain = False

    @classmethod
    def _from_op(cls, values: np.ndarray, fmt) -> "Tensor":
        """Wrap an op's output (already rounded to fmt) without copying or rounding again."""
        out = cls.__new__(cls)
        out.data, out.format = values, fmt
        out.requires_grad, out.grad = False, None
        out._parents, out._op, out._backward, out._retain = (), None, None, False
        return out

    # --- array facts ---------------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._backward is None)

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.data.reshape(-1)[0])

    __float__ = item

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> "Tensor":
        return Tensor._from_op(self.data, self.format)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError("requires_grad_ applies to leaf tensors; use detach() first")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep .grad on this non-leaf tensor after backward."""
        self._retain = True
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self) -> str:
        grad_fn = f", op={self._op}" if self._op else ""
        flag = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, precision=6, separator=", ", threshold=20)
        return f"Tensor({body}, format={self.format.name}{flag}{grad_fn})"

    # --- reverse mode --------------------------------------------------------------------------
    def backward(self, gradient=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad that requires grad.

        A non-scalar output needs `gradient` (the vector of the vector-Jacobian product)."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad (no input "
                               "requires grad, or it was computed under no_grad)")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() needs a gradient argument for a non-scalar "
                                   f"output (shape {self.shape}); gradients can be created "
                                   "implicitly only for scalar outputs")
            seed = np.ones_like(self.data)
        else:
            seed = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient, float)
            if seed.shape != self.shape:
                raise ValueError(f"backward: gradient shape {seed.shape} does not match the "
                                 f"output shape {self.shape}")
            seed = round_to(seed, self.format)
        # while an observer watches, the roundings of every gradient sum are counted and each
        # finished gradient is reported (the arithmetic is the same)
        watched = observing()
        pending, sums = {id(self): seed}, {}
        for node in reversed(_topological_order(self)):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            flags = sums.pop(id(node), None)
            if node._backward is None or node._retain:
                if node.grad is None:
                    node.grad = g.copy()
                else:
                    if watched and flags is None:
                        flags = Flags()
                    node.grad = _counted_sum(node.grad, g, node.format, flags)
            if watched:
                notify(GradRecord(node, g if node._backward is not None else node.grad, flags))
            if node._backward is None:
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None:
                    continue
                key = id(parent)
                if key in pending:
                    flags = sums.setdefault(key, Flags()) if watched else None
                    pending[key] = _counted_sum(pending[key], pg, parent.format, flags)
                else:
                    pending[key] = pg

    # Operators and methods: numprec.autodiff.operators.


def _counted_sum(a, b, fmt, flags):
    """_accumulate, counting its roundings into flags (None: not counted)."""
    if flags is None:
        return _accumulate(a, b, fmt)
    with counting(flags):
        return _accumulate(a, b, fmt)


def _accumulate(total: np.ndarray, more: np.ndarray, fmt) -> np.ndarray:
    """Gradient accumulation is an add in the tensor's own format (as in PyTorch)."""
    return round_to(total + more, fmt)


def _topological_order(root: Tensor) -> list:
    """Tensors that need a gradient, every node after its parents (iterative DFS)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in seen:
                stack.append((parent, False))
    return order
