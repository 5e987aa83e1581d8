"""Element-wise ops: arithmetic (add, sub, mul, div, neg, pow) and functions (exp, log, sqrt,
tanh, sigmoid, relu, gelu). add/sub/mul/div are correctly rounded (numprec.ops arithmetic where
the float64 result would not be); the functions are computed in float64 and rounded once (a
fused-kernel model). Gradients: numprec.autodiff.vjp."""
from __future__ import annotations

import numpy as np
from scipy.special import erf

from .graph import apply
from .shapes import broadcast_shape, shape_of


def _binary(op: str):
    def forward(a, b, k):
        return k.arith(op, a, b)

    def run(a, b):
        broadcast_shape(op, shape_of(a), shape_of(b))
        return apply(op, "elementwise", forward, (a, b))
    run.__name__ = op
    run.__doc__ = f"Element-wise {op} with broadcasting, correctly rounded to the output format."
    return run


add, sub, mul, div = (_binary(name) for name in ("add", "sub", "mul", "div"))


def neg(x):
    return apply("neg", "elementwise", lambda a, k: -a, (x,), exact=True)


def pow(x, exponent):
    """x ** exponent (element-wise; the exponent may be a number or a tensor)."""
    broadcast_shape("pow", shape_of(x), shape_of(exponent))
    return apply("pow", "transcendental", lambda a, b, k: np.power(a, b), (x, exponent))


def _unary(op: str, op_class: str, fn, doc: str):
    def run(x):
        return apply(op, op_class, lambda a, k: fn(a), (x,))
    run.__name__, run.__doc__ = op, doc
    return run


exp = _unary("exp", "transcendental", np.exp, "e**x, rounded once.")
log = _unary("log", "transcendental", np.log, "Natural logarithm, rounded once.")
sqrt = _unary("sqrt", "elementwise", np.sqrt, "Square root, correctly rounded.")
tanh = _unary("tanh", "elementwise", np.tanh, "Hyperbolic tangent, rounded once.")
sigmoid = _unary("sigmoid", "elementwise", lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)),
                 "Logistic sigmoid 1 / (1 + e**-x), rounded once.")


def relu(x):
    """max(x, 0) element-wise (exact)."""
    return apply("relu", "elementwise", lambda a, k: np.maximum(a, 0.0), (x,), exact=True)


def _gelu_forward(a, k, approximate):
    if approximate == "tanh":
        c = np.sqrt(2.0 / np.pi)
        return 0.5 * a * (1.0 + np.tanh(c * (a + 0.044715 * a ** 3)))
    return 0.5 * a * (1.0 + erf(a / np.sqrt(2.0)))


def gelu(x, approximate: str = "none"):
    """GELU: x * Phi(x) (approximate="tanh": the tanh approximation), rounded once."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply("gelu", "elementwise", _gelu_forward, (x,), approximate=approximate)
