"""The arithmetic one op runs under: a policy Pass resolved against the formats of the op's
operands (`OpArithmetic`), the adapter between the autodiff engine and numprec.ops.

This is the single place that decides how numbers are rounded, multiplied and summed:
- rounding goes through numprec.round (identity for fp64, the carrier format);
- matmul-like products use float64 BLAS then one rounding to the accumulation format (the `fp64`
  order, the fast path); any other order runs numprec.matmul / numprec.sum's accumulation model;
- add/sub/mul/div are the float64 result rounded once when that is provably the correctly
  rounded result (round-to-nearest, operands inside an output format of <= 26 bits: double
  rounding is innocuous since 53 >= 2p + 2); otherwise numprec's correctly rounded arithmetic;
- other element-wise functions (exp, tanh, softmax, ...) are computed in float64 and rounded once
  (a fused-kernel model);
- FP8 per-tensor scaling: GEMM operands are quantized as round(x * scale) with saturation and kept
  dequantized (q * float32(1/scale), exact in float64);
- integer, MX and NVFP4 fake quantization of GEMM operands (numprec.policy.quantized), and the
  exact integer accumulation of a forward product whose operands are integer codes.

Training runs many small products (a 32x64 by 64x256 matmul). OpenBLAS is multi-threaded; on a
busy machine waking its thread pool costs milliseconds per call, far more than the work itself,
so float64 products below SERIAL_MATMUL_BELOW multiply-adds run on the calling thread. The bits
are the same: OpenBLAS splits a product over blocks of the output, never inside one dot product.
(numprec's rounding kernels make the same choice for small arrays themselves.)
"""
from __future__ import annotations

import numpy as np

from .. import ops as _ops
from ..formats import Format, get_format
from .casting import FP32, FP64, WEAK, contains, counting, current_flags, round_to, widest
from .policy import PROMOTE, Pass, Policy
from .quantized import CASTS, INTEGER_SCALINGS, STATIC_SCALE, integer_operands
from .scaling import DelayedScaling, scale_from_amax
from .streams import next_rounding_seed

SERIAL_MATMUL_BELOW = 1 << 22  # multiply-adds


def _blas_controllers() -> list:
    """Thread controls of the BLAS libraries loaded so far (NumPy's among them), when
    threadpoolctl is installed; empty otherwise."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


_BLAS = _blas_controllers()


class single_threaded_blas:
    """Run the enclosed BLAS calls on one thread (restoring the thread counts after)."""

    __slots__ = ("_threads",)

    def __enter__(self):
        self._threads = [lib.get_num_threads() for lib in _BLAS]
        for lib in _BLAS:
            lib.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        for lib, threads in zip(_BLAS, self._threads):
            lib.set_num_threads(threads)
        return False


def float64_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul in float64 (small products on the calling thread)."""
    rows, cols = (a.shape[-2] if a.ndim > 1 else 1), (b.shape[-1] if b.ndim > 1 else 1)
    work = max(np.size(a) * cols, np.size(b) * rows)  # multiply-adds, batches included
    if work >= SERIAL_MATMUL_BELOW or not _BLAS:
        return np.matmul(a, b)
    with single_threaded_blas():
        return np.matmul(a, b)


_NUMPY_ARITH = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}


class OpArithmetic:
    """The arithmetic of one op: a policy Pass resolved against the formats of its operands
    (input, accumulation and output formats, accumulation order and options, scaling, rounding
    mode), with the operations the op's forward and gradient rules compute with."""

    __slots__ = ("in_fmt", "acc_fmt", "out_fmt", "order", "options", "scaling", "ste", "mode",
                 "seed", "policy", "states", "wide_operand", "op", "quantized")

    def __init__(self, spec: Pass, operand_formats, policy: Policy, states=None, op: str = ""):
        self.in_fmt = widest(operand_formats) if spec.input == PROMOTE else get_format(spec.input)
        self.acc_fmt = self.in_fmt if spec.acc == PROMOTE else get_format(spec.acc)
        self.out_fmt = self.in_fmt if spec.output == PROMOTE else get_format(spec.output)
        self.order, self.scaling, self.ste = spec.order, spec.scaling, spec.ste
        self.options = {name: value for name, value in (
            ("block", spec.block), ("fused_terms", spec.fused_terms),
            ("fused_width", spec.fused_width)) if value is not None}
        self.mode, self.seed, self.policy, self.states = policy.mode, policy.seed, policy, states
        self.wide_operand = False  # a Python number entered wider than the output format
        self.op = op                # the op's name: where a quantized operand's blocks run
        self.quantized = None       # role -> QuantizedOperand (integer, MX and NVFP4 casts)

    def round(self, x: np.ndarray, fmt) -> np.ndarray:
        """x rounded to fmt in the policy's mode (and stochastic-rounding streams)."""
        return round_to(x, fmt, self.mode, self.seed)

    def cast(self, x: np.ndarray, fmt, role: str | None = None) -> np.ndarray:
        """An operand rounded to the input format (scaled, for FP8 GEMM operands)."""
        if fmt is WEAK:  # Python numbers enter in at least fp32 (PyTorch's opmath type)
            value = self.round(x, widest((self.in_fmt, FP32)))
            if not self.wide_operand and not contains(self.out_fmt, FP32):
                with counting(None):  # a check, not a rounding of the run: its flags are not
                    narrow = round_to(value, self.out_fmt)
                self.wide_operand = not np.array_equal(narrow, value, equal_nan=True)
            return value
        if self.scaling is not None:  # FP8: GEMM operands scaled; others (bias) keep their format
            return x if role is None else self._scaled_cast(x, role)
        return x if contains(self.in_fmt, fmt) else self.round(x, self.in_fmt)

    def cast_format(self, fmt, role: str | None = None):
        """The format `cast` rounds an operand of format fmt to (None when it leaves it as is)."""
        if fmt is WEAK:
            return widest((self.in_fmt, FP32))
        if self.scaling is not None:
            return None if role is None else self.in_fmt
        return None if contains(self.in_fmt, fmt) else self.in_fmt

    def finish(self, raw: np.ndarray) -> np.ndarray:
        """The op's result rounded to the output format."""
        return self.round(raw, self.out_fmt)

    # --- products and sums ---------------------------------------------------------------------
    def matmul(self, a: np.ndarray, b: np.ndarray, add: np.ndarray | None = None) -> np.ndarray:
        """a @ b (+ add, an epilogue in the accumulator) rounded to the accumulation format."""
        if self.scaling in INTEGER_SCALINGS and self.quantized:
            exact = self._integer_matmul(a, b, add)
            if exact is not None:
                return exact
        if self.order == "fp64":
            product = float64_matmul(a, b)
        else:
            product = _ops.matmul(a, b, acc=self.acc_fmt, order=self.order,
                                  flags=current_flags(), **self._order_options())
        if add is not None:
            product = product + add
        return self.round(product, self.acc_fmt)

    def sum(self, x: np.ndarray, axis, keepdims: bool = False) -> np.ndarray:
        """Sum over axes, rounded to the accumulation format."""
        if self.order == "fp64":
            return self.round(np.sum(x, axis=axis, keepdims=keepdims), self.acc_fmt)
        axes = tuple(range(x.ndim)) if axis is None else tuple(np.atleast_1d(axis) % x.ndim)
        moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
        total = np.asarray(_ops.sum(flat, self.acc_fmt, axis=-1, order=self.order,
                                    flags=current_flags(), **self._order_options()))
        if keepdims:
            total = np.expand_dims(total, axes)
        return total

    def _order_options(self) -> dict:
        seed = next_rounding_seed(self.seed) if self.mode == "sr" else None
        return dict(self.options, mode=self.mode, seed=seed)

    # --- element-wise arithmetic -------------------------------------------------------------
    def arith(self, name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a (op) b for add/sub/mul/div: correctly rounded to the output format."""
        if self._float64_is_correct(name):
            return _NUMPY_ARITH[name](a, b)  # rounded once to the output format by the caller
        seed = next_rounding_seed(self.seed) if self.mode == "sr" else None
        return np.asarray(getattr(_ops, name)(a, b, self.out_fmt, mode=self.mode, seed=seed,
                                              flags=current_flags()))

    def _float64_is_correct(self, name: str) -> bool:
        out = self.out_fmt
        if self.wide_operand or not contains(out, self.in_fmt):
            return False
        if out == FP64:
            return self.mode == "rne"
        if isinstance(out, Format):
            return self.mode in ("rne", "rna") and out.precision <= 26
        return name in ("add", "sub", "mul") and 2 * out.nbits <= 53  # fixed point: exact

    def _integer_matmul(self, a, b, add):
        """The forward product of integer codes: summed exactly (float64 holds every partial
        sum while K * qmax^2 < 2^53), rounded to the accumulation format (an integer format
        saturates and counts the overflow), then times both scales (+ bias) rounded once to the
        output format. None when the operands are not both integer-quantized."""
        parts = integer_operands(self.op, a, b, self.quantized)
        if parts is None:
            return None
        qa, qb, scale = parts
        qmax = 2.0 ** (self.in_fmt.nbits - 1)
        if qa.shape[-1] * qmax * qmax >= 2.0 ** 53:
            return None  # partial sums could round in float64: the generic path instead
        acc = self.round(float64_matmul(qa, qb), self.acc_fmt)
        seed = next_rounding_seed(self.seed) if self.mode == "sr" else None
        if add is None:
            return np.asarray(_ops.mul(acc, scale, self.out_fmt, mode=self.mode, seed=seed,
                                       flags=current_flags()))
        return np.asarray(_ops.fma(acc, np.broadcast_to(scale, acc.shape), add, self.out_fmt,
                                   mode=self.mode, seed=seed, flags=current_flags()))

    def clipped(self, role) -> np.ndarray | None:
        """Where a quantized operand clipped, when the Pass asks for the clipped
        straight-through estimator (its gradient is zero there); None otherwise."""
        if self.ste != "clipped" or not self.quantized or role not in self.quantized:
            return None
        return self.quantized[role].clipped

    # --- FP8 per-tensor scaling; integer and block fake quantization ----------------------------
    def _scaled_cast(self, x: np.ndarray, role: str) -> np.ndarray:
        fmt = self.in_fmt
        if self.scaling in CASTS:
            seed = next_rounding_seed(self.seed) if self.mode == "sr" else None
            static = self.states.get((role, STATIC_SCALE)) if self.states else None
            operand = CASTS[self.scaling](x, fmt, self.op, role, self.mode, seed, static)
            if self.quantized is None:
                self.quantized = {}
            self.quantized[role] = operand
            return operand.values
        if self.scaling == "delayed" and self.states is not None:
            key = (role, fmt.name)
            state = self.states.get(key)
            if state is None:
                state = self.states[key] = DelayedScaling(
                    fmt, self.policy.amax_history_len, self.policy.fp8_margin)
            return state.quantize(x, self.mode, self.seed)
        # current scaling (also for ops with no module holding an amax history)
        amax = float(np.max(np.abs(x))) if x.size else 0.0
        scale = scale_from_amax(amax, fmt.max, self.policy.fp8_margin, previous=1.0)
        return DelayedScaling.dequantized(x, scale, fmt, self.mode, self.seed)

