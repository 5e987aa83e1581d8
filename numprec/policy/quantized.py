"""Quantized GEMM operands: the integer, MX and NVFP4 casts a policy Pass asks for with
`scaling="channel" | "mx" | "nvfp4"` (docs/quantization.md, "Training with quantization").

Each cast is fake quantization: the operand is quantized and kept dequantized (exact in
float64), so the op's gradient rules see the quantized values and the gradient reaches the
unquantized operand unchanged (the straight-through estimator). With `ste="clipped"` the
gradient is zero where the quantizer clipped (the clamped elements), as PyTorch's FakeQuantize
does. Where the blocks or channels run depends on the op and the operand's role:

- "channel": integer codes of the Pass's input format (int8 = q7.0, int4, ...), symmetric,
  min-max scales (PyTorch's formulas, numprec.quant): per output channel for weights, per tensor
  for inputs and gradients; "tensor": the same with one scale per weight tensor too. A layer's
  scaling states may hold a calibrated static scale for an operand (key (role, STATIC_SCALE):
  post-training quantization, numprec.training.ptq), used instead of the operand's min-max. The forward product then sums the integer codes exactly (int32
  accumulation, overflow saturating and counted) and multiplies the sum by the two scales with
  one correct rounding to the output format (bias added before that rounding, as an epilogue).
- "mx": OCP MX blocks of 32 along the reduction dimension (E8M0 scales, the floor rule), the
  Pass's input format as the element; a dimension that 32 does not divide is padded with zeros
  (which change no block's amax).
- "nvfp4": NVFP4 (16 FP4 E2M1 elements, E4M3 block scales, a per-tensor float32 scale) along
  the reduction dimension, padded the same way; NaN and inf pass through unquantized.
"""
from __future__ import annotations

import numpy as np

from ..formats import FixedPoint
from ..ops.arith import div
from ..quant.mx import e8m0_decode, mx_decode, mx_encode
from ..quant.nvfp4 import NVFP4_BLOCK, nvfp4_decode, nvfp4_encode
from ..quant.observers import make_observer

QUANTIZED_SCALINGS = ("channel", "tensor", "mx", "nvfp4")
STATIC_SCALE = "static-scale"  # the key of a calibrated scale in a layer's scaling states
STES = (None, "clipped")

# the reduction axis of each operand (blocks run along it); per-channel weights: the output axis
REDUCTION_AXIS = {("linear", "input"): -1, ("linear", "weight"): 1, ("linear", "grad_output"): -1,
                  ("conv2d", "input"): 1, ("conv2d", "weight"): 1, ("conv2d", "grad_output"): 1,
                  ("matmul", "input"): -1, ("matmul", "weight"): -2, ("matmul", "grad_output"): -1}
CHANNEL_AXIS = {("linear", "weight"): 0, ("conv2d", "weight"): 0, ("matmul", "weight"): -1}
MX_BLOCK = 32


def _padded(x: np.ndarray, axis: int, block: int):
    n = x.shape[axis]
    extra = (-n) % block
    if not extra:
        return x, n
    pad = [(0, 0)] * x.ndim
    pad[axis] = (0, extra)
    return np.pad(x, pad), n


def _crop(x: np.ndarray, axis: int, n: int) -> np.ndarray:
    return x if x.shape[axis] == n else np.take(x, np.arange(n), axis=axis)


def _outside_limits(x, dq, lo, hi):
    """Clipped elements: the quantized value sits at a limit and x lies beyond it."""
    return ((dq == hi) & (x > dq)) | ((dq == lo) & (x < dq))


class StaticScale:
    """A calibrated integer quantization step for one operand of one layer (post-training
    quantization): q = R(x / step). Kept in the layer's scaling states beside FP8's delayed
    scaling, and reported by the monitors the same way: `scale` is the multiplier 1 / step
    (q = R(x * scale), FP8's convention), `amax` the calibrated range."""

    __slots__ = ("step", "amax", "history")

    def __init__(self, step: float, amax: float):
        step = float(step)
        if not (np.isfinite(step) and step > 0):
            raise ValueError(f"a static quantization step must be positive and finite, got "
                             f"{step!r}")
        self.step, self.amax, self.history = step, float(amax), [float(amax)]

    @property
    def scale(self) -> float:
        return 1.0 / self.step

    def __repr__(self) -> str:
        return f"StaticScale(step={self.step!r}, amax={self.amax!r})"


class QuantizedOperand:
    """One fake-quantized operand: its dequantized values, the elements it clipped, and (for
    integer codes) the scale it was quantized with."""

    __slots__ = ("values", "clipped", "scale")

    def __init__(self, values, clipped, scale=None):
        self.values, self.clipped, self.scale = values, clipped, scale


def integer_cast(x, fmt, op: str, role: str, mode: str, seed, static=None,
                 per_channel: bool = True) -> QuantizedOperand:
    """Symmetric integer fake quantization: min-max scales (per output channel for weights when
    per_channel), or the calibrated static scale."""
    if not isinstance(fmt, FixedPoint) or fmt.frac_bits != 0 or not fmt.signed:
        raise ValueError(f"integer scaling needs a signed integer input format (int8, int4, "
                         f"qM.0), got {fmt.name}")
    bits = fmt.nbits
    if static is not None:
        scale = np.float64(static.step)
    else:
        axis = CHANNEL_AXIS.get((op, role)) if per_channel else None
        axis = None if axis is None or x.ndim < 2 else axis % x.ndim
        scale, _ = make_observer("minmax", axis=axis).observe(x).qparams(bits, True,
                                                                          "symmetric")
    qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    with np.errstate(all="ignore"):
        r = np.asarray(div(x, scale, FixedPoint(bits + 2, 0), mode=mode, seed=seed))
    q = np.clip(r, qmin, qmax)
    clipped = (r != q) & ~np.isnan(r)
    q = np.where(np.isnan(x), np.nan, q)  # NaN stays NaN (a run that overflowed shows it)
    return QuantizedOperand(q * scale, clipped, scale)


def tensor_cast(x, fmt, op: str, role: str, mode: str, seed, static=None) -> QuantizedOperand:
    """Symmetric integer fake quantization with one scale per tensor."""
    return integer_cast(x, fmt, op, role, mode, seed, static, per_channel=False)


def channel_cast(x, fmt, op: str, role: str, mode: str, seed, static=None) -> QuantizedOperand:
    """Symmetric integer fake quantization, weights per output channel."""
    return integer_cast(x, fmt, op, role, mode, seed, static, per_channel=True)


def mx_cast(x, fmt, op: str, role: str, mode: str, seed, static=None) -> QuantizedOperand:
    """OCP MX fake quantization in blocks of 32 along the reduction axis (floor rule)."""
    axis = REDUCTION_AXIS.get((op, role), -1) % x.ndim
    padded, n = _padded(x, axis, MX_BLOCK)
    codes, scales = mx_encode(padded, fmt, block=MX_BLOCK, axis=axis, mode=mode, seed=seed)
    dq = _crop(mx_decode(codes, scales, fmt, block=MX_BLOCK, axis=axis), axis, n)
    block_scale = _crop(np.repeat(e8m0_decode(scales), MX_BLOCK, axis=axis), axis, n)
    with np.errstate(invalid="ignore", over="ignore"):
        lowest = fmt.min if isinstance(fmt, FixedPoint) else -fmt.max
        clipped = _outside_limits(x, dq, lowest * block_scale, fmt.max * block_scale)
    return QuantizedOperand(dq, clipped)


def nvfp4_cast(x, fmt, op: str, role: str, mode: str, seed, static=None) -> QuantizedOperand:
    """NVFP4 fake quantization in blocks of 16 along the reduction axis (TE's recipe)."""
    if fmt.name != "fp4_e2m1fn":
        raise ValueError(f"scaling='nvfp4' needs input format fp4_e2m1fn, got {fmt.name}")
    axis = REDUCTION_AXIS.get((op, role), -1) % x.ndim
    finite = np.isfinite(x)
    clean = np.where(finite, x, 0.0)
    padded, n = _padded(clean, axis, NVFP4_BLOCK)
    codes, scale_codes, d = nvfp4_encode(padded, axis=axis)
    dq = _crop(nvfp4_decode(codes, scale_codes, d, axis=axis), axis, n)
    top = _crop(nvfp4_decode(np.full(codes.shape, 7, dtype=np.uint8), scale_codes, d,
                             axis=axis), axis, n)  # code 7: +6, the element max, per block
    clipped = _outside_limits(x, dq, -top, top) & finite
    return QuantizedOperand(np.where(finite, dq, x), clipped)


CASTS = {"channel": channel_cast, "tensor": tensor_cast, "mx": mx_cast, "nvfp4": nvfp4_cast}
INTEGER_SCALINGS = ("channel", "tensor")


def integer_operands(op: str, a, b, quantized: dict):
    """(codes of a, codes of b, the scale of each output element) for a forward product whose
    operands were integer-quantized, or None when they were not both. The codes come back by
    division, exactly: a dequantized value is its code times its scale."""
    inp, weight = quantized.get("input"), quantized.get("weight")
    if inp is None or weight is None or inp.scale.ndim != 0:
        return None
    s_in, s_w = inp.scale, weight.scale
    if op == "linear":      # rows @ W.T: W's channels are the columns of b
        row = s_w.reshape(1, -1)
        return a / s_in, b / row, s_in * row
    if op == "conv2d":      # W.reshape(O, -1) @ cols: W's channels are the rows of a
        col = s_w.reshape(-1, 1)
        return a / col, b / s_in, s_in * col
    if op == "matmul":      # input @ weight: per-column weight scales broadcast as they are
        return a / s_in, b / s_w, s_in * s_w
    return None
