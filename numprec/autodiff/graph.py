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

import contextlib
import numbers
import weakref

import numpy as np

from ..ops.flags import Flags
from ..policy.arithmetic import OpArithmetic
from ..policy.casting import WEAK, contains, counting, round_to, widest
from ..formats import get_format
from ..policy.context import current_policy
from ..policy.loader import get_policy
from .context import current_layer, is_grad_enabled
from .observe import BackwardRecord, ForwardRecord, notify, observing
from .shapes import unbroadcast
from .tensor import Tensor
from .vjp import rules_for


_NOT_COUNTING = contextlib.nullcontext()


def _counting(flags):
    """Count into flags (an observed op), or leave counting as it is (None)."""
    return _NOT_COUNTING if flags is None else counting(flags)


def _float64_arithmetic(op_class, formats):
    """The arithmetic of an op class under the fp64 policy: nothing is rounded."""
    policy = get_policy("fp64")
    return OpArithmetic(policy.pass_for(op_class, "forward"), formats, policy)


class _Recompute:
    """An op's forward pass again, in float64 on the same operand values (the float64
    shadow's re-anchored reference); data movement ops are exact and give None."""

    __slots__ = ("forward", "op_class", "values", "formats", "attrs")

    def __init__(self, forward, op_class, values, formats, attrs):
        self.forward, self.op_class, self.values = forward, op_class, values
        self.formats, self.attrs = formats, attrs

    def __call__(self):
        if self.op_class is None:
            return None
        k = _float64_arithmetic(self.op_class, self.formats)
        with np.errstate(all="ignore"), counting(None):
            result = self.forward(*self.values, k=k, **self.attrs)
        raw = result[0] if isinstance(result, tuple) else result
        return np.asarray(raw, dtype=np.float64)


class _RecomputeGrad:
    """An op's gradient rule for operand i again, in float64 on the same incoming gradient,
    output and inputs as the emulated backward pass used."""

    __slots__ = ("rules", "op_class", "grad", "raw", "xs", "attrs", "aux")

    def __init__(self, rules, op_class, grad, raw, xs, attrs, aux):
        self.rules, self.op_class, self.grad, self.raw = rules, op_class, grad, raw
        self.xs, self.attrs, self.aux = xs, attrs, aux

    def __call__(self, index):
        if self.op_class is None:
            return None
        k = _float64_arithmetic(self.op_class, tuple(get_format("fp64") for _ in self.xs))
        with np.errstate(all="ignore"), counting(None):
            gi = self.rules[index](self.grad, self.raw, *self.xs, k=k, **self.attrs, **self.aux)
        return np.asarray(unbroadcast(gi, np.shape(self.xs[index])), dtype=np.float64)


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
    While an observer watches (numprec.autodiff.observe) the op counts the flags of every
    rounding and reports its forward and backward passes.
    """
    values, formats, tensors = zip(*(_operand(v) for v in operands)) if operands else ((), (), ())
    policy = current_policy()
    watched = observing()
    cast_flags = result_flags = None
    if watched:
        result_flags = Flags()
    if op_class is None:
        arith, xs = None, values
        out_fmt = widest(formats) if out_format is None else out_format
        with np.errstate(all="ignore"), _counting(result_flags):  # inf and NaN are results here
            result = forward(*xs, **attrs)
    else:
        where = current_layer() if policy.layers else None  # per-layer passes need the layer
        arith = OpArithmetic(policy.pass_for(op_class, "forward", where), formats, policy, states,
                             op)
        roles = tuple(roles) + (None,) * (len(values) - len(roles))
        if watched:  # each cast that rounds counts into its own Flags
            in_fmts, cast_flags, xs = [], [], []
            for v, f, r in zip(values, formats, roles):
                fmt = arith.cast_format(f, r)
                in_fmts.append(fmt)
                if fmt is None:  # cast leaves it as it is (cast_format's contract)
                    cast_flags.append(None)
                    xs.append(v)
                    continue
                cf = Flags()
                cast_flags.append(cf)
                with counting(cf):
                    xs.append(arith.cast(v, f, r))
            in_fmts, cast_flags, xs = tuple(in_fmts), tuple(cast_flags), tuple(xs)
        else:
            xs = tuple(arith.cast(v, f, r) for v, f, r in zip(values, formats, roles))
        with np.errstate(all="ignore"), _counting(result_flags):
            result = forward(*xs, k=arith, **attrs)
        out_fmt = arith.out_fmt
    raw, aux = result if isinstance(result, tuple) else (result, {})
    raw = np.asarray(raw, dtype=np.float64)
    exact_values = raw
    if arith is not None and not (exact and contains(out_fmt, arith.in_fmt)):
        with _counting(result_flags):
            raw = arith.finish(raw)
    out = Tensor._from_op(raw, out_fmt)
    parents = tensors
    if watched:
        if arith is None:
            in_fmts = cast_flags = (None,) * len(xs)
        notify(ForwardRecord(op, op_class, current_layer(), out, tensors, xs, in_fmts,
                             cast_flags, exact_values, result_flags,
                             _Recompute(forward, op_class, values, formats, attrs)))
    if not is_grad_enabled() or not any(t is not None and t.requires_grad for t in parents):
        return out
    rules = rules_for(op, len(xs))
    layer = current_layer() if watched or policy.layers else ""
    spec = None if op_class is None else policy.pass_for(op_class, "backward", layer)
    out_ref = weakref.ref(out) if watched else None  # only observers name the output

    def backward(grad):
        watching = observing()
        grad_flags = Flags() if watching else None
        if spec is None:
            kb, g = None, grad
        else:
            kb = OpArithmetic(spec, (out_fmt,), policy, states, op)
            with _counting(grad_flags):
                g = kb.cast(grad, out_fmt, "grad_output" if roles and roles[0] else None)
        grads, grad_flag_list = [], []
        for index, parent in enumerate(parents):
            if parent is None or not parent.requires_grad:
                grads.append(None)
                grad_flag_list.append(None)
                continue
            flags = Flags() if watching else None
            with np.errstate(all="ignore"), _counting(flags):
                gi = unbroadcast(rules[index](g, raw, *xs, k=kb, **attrs, **aux), xs[index].shape)
                gi = np.asarray(gi, dtype=np.float64)
                clipped = arith.clipped(roles[index]) if arith is not None else None
                if clipped is not None:  # the clipped straight-through estimator
                    gi = np.where(clipped, 0.0, gi)
                if kb is not None and not (exact and contains(kb.out_fmt, kb.in_fmt)):
                    gi = kb.finish(gi)
                # data movement may sum (repeated indices): its gradients are always rounded
                if kb is None or not contains(parent.format, kb.out_fmt):
                    gi = round_to(gi, parent.format, policy.mode, policy.seed)
            grads.append(gi)
            grad_flag_list.append(flags)
        if watching:
            output = out_ref() if out_ref is not None else None
            notify(BackwardRecord(op, op_class, layer, output, g, grad_flags, parents,
                                  tuple(grads), tuple(grad_flag_list),
                                  _RecomputeGrad(rules, op_class, g, raw, xs, attrs, aux)))
        return grads

    out.requires_grad = True
    out._parents = tuple(p if p is not None else _CONSTANT for p in parents)
    out._op = op
    out._backward = backward
    return out


_CONSTANT = Tensor(np.float64(0.0))  # stands in for constant operands in a node's parent list
