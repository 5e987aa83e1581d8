"""Running one op: inputs cast under the active policy, the result rounded, the node recorded.

`apply` is the only way an op enters the graph. It resolves the op class's forward Pass against
the operands' formats (numprec.policy.OpArithmetic), casts the operands, runs the op's forward
function, rounds the result to the output format, and (when a gradient is needed) records a
closure that runs the op's rules from the VJP table under the class's backward Pass: the output
gradient is cast to the backward input format, each rule's result is summed back to its operand's
shape, rounded to the backward output format and then to the operand's own format (PyTorch's
grad-dtype-equals-tensor-dtype rule).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..policy.arithmetic import OpArithmetic
from ..policy.casting import WEAK, contains, round_to, widest
from ..policy.context import current_policy
from .shapes import unbroadcast
from .context import is_grad_enabled
from .tensor import Tensor
from .vjp import rules_for


def _operand(value):
    """(values, format, tensor-or-None): Python numbers are weak constants, arrays constants."""
    if isinstance(value, Tensor):
        return value.data, value.format, value
    if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
        return np.asarray(float(value)), WEAK, None
    const = Tensor(value)
    return const.data, const.format, None


def apply(op: str, op_class, forward, operands, *, roles=(), states=None, exact=False,
          out_format=None, **attrs):
    """Run `forward(*arrays, k=arithmetic, **attrs)` under the active policy and record it.

    op: the op's name (its key in the VJP table); op_class: its policy class, or None for exact
    data movement (values pass through unchanged; the output format is the widest input's).
    forward returns the raw result, or (raw, aux) where aux (a dict) is handed to the rules.
    roles: FP8 scaling role per operand (e.g. "input", "weight"); states: the dict holding
    their delayed-scaling histories. exact: the result is exact in the input format (relu,
    neg, max, ...), so rounding it again is skipped. out_format: the output format of a data
    movement op that changes it (cast).
    """
    values, formats, tensors = zip(*(_operand(v) for v in operands)) if operands else ((), (), ())
    policy = current_policy()
    if op_class is None:
        arith, xs = None, values
        out_fmt = widest(formats) if out_format is None else out_format
        with np.errstate(all="ignore"):  # inf and NaN are results here, not errors
            result = forward(*xs, **attrs)
    else:
        arith = OpArithmetic(policy.pass_for(op_class, "forward"), formats, policy, states)
        roles = tuple(roles) + (None,) * (len(values) - len(roles))
        xs = tuple(arith.cast(v, f, r) for v, f, r in zip(values, formats, roles))
        with np.errstate(all="ignore"):
            result = forward(*xs, k=arith, **attrs)
        out_fmt = arith.out_fmt
    raw, aux = result if isinstance(result, tuple) else (result, {})
    raw = np.asarray(raw, dtype=np.float64)
    if arith is not None and not (exact and contains(out_fmt, arith.in_fmt)):
        raw = arith.finish(raw)
    out = Tensor._from_op(raw, out_fmt)
    parents = tensors
    if not is_grad_enabled() or not any(t is not None and t.requires_grad for t in parents):
        return out
    rules = rules_for(op, len(xs))
    spec = None if op_class is None else policy.pass_for(op_class, "backward")

    def backward(grad):
        if spec is None:
            kb, g = None, grad
        else:
            kb = OpArithmetic(spec, (out_fmt,), policy, states)
            g = kb.cast(grad, out_fmt, "grad_output" if roles and roles[0] else None)
        grads = []
        for index, parent in enumerate(parents):
            if parent is None or not parent.requires_grad:
                grads.append(None)
                continue
            with np.errstate(all="ignore"):
                gi = unbroadcast(rules[index](g, raw, *xs, k=kb, **attrs, **aux), xs[index].shape)
            gi = np.asarray(gi, dtype=np.float64)
            if kb is not None and not (exact and contains(kb.out_fmt, kb.in_fmt)):
                gi = kb.finish(gi)
            # data movement may sum (repeated indices): its gradients are always rounded
            if kb is None or not contains(parent.format, kb.out_fmt):
                gi = round_to(gi, parent.format, policy.mode, policy.seed)
            grads.append(gi)
        return grads

    out.requires_grad = True
    out._parents = tuple(p if p is not None else _CONSTANT for p in parents)
    out._op = op
    out._backward = backward
    return out


_CONSTANT = Tensor(np.float64(0.0))  # stands in for constant operands in a node's parent list
