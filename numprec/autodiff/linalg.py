"""Products: matmul and linear (x @ W.T + b), summed in the policy's accumulation format with
its accumulation order (numprec.policy.OpArithmetic.matmul), FP8-scaled where the policy says.
Gradients: numprec.autodiff.vjp."""
from __future__ import annotations

from .graph import apply
from .shapes import broadcast_shape, shape_of


def matmul(a, b):
    """Matrix product with NumPy's batching rules; products summed in the accumulation format."""
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: shapes {sa} and {sb}: both operands need at least 1 dim")
    inner_a, inner_b = sa[-1], (sb[0] if len(sb) == 1 else sb[-2])
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned ({inner_a} != {inner_b})")
    if len(sa) > 2 and len(sb) > 2:
        broadcast_shape("matmul (batch dims)", sa[:-2], sb[:-2])
    return apply("matmul", "matmul", lambda x, y, k: k.matmul(x, y), (a, b),
                 roles=("input", "weight"))


def _linear_forward(x, w, *bias, k):
    rows = x.reshape(-1, x.shape[-1])
    out = k.matmul(rows, w.T, add=bias[0] if bias else None)
    return out.reshape(x.shape[:-1] + (w.shape[0],))


def linear(x, weight, bias=None, *, scaling_states=None):
    """x @ weight.T + bias (bias added in the accumulator, as GEMM epilogues do).

    scaling_states: a dict that keeps FP8 delayed-scaling histories between calls (nn.Linear
    passes its own)."""
    sx, sw = shape_of(x), shape_of(weight)
    if len(sw) != 2 or len(sx) < 1 or sx[-1] != sw[1]:
        raise ValueError(f"linear: input shape {sx} and weight shape {sw} are incompatible "
                         f"(need input[..., in] and weight[out, in])")
    operands = (x, weight) if bias is None else (x, weight, bias)
    if bias is not None and shape_of(bias) != (sw[0],):
        raise ValueError(f"linear: bias shape {shape_of(bias)} does not match weight shape {sw} "
                         f"(need ({sw[0]},))")
    return apply("linear", "matmul", _linear_forward, operands, roles=("input", "weight"),
                 states=scaling_states)
