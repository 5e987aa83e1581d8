"""The preset precision policies.

fp64 / fp32: every op in that format (references). fp16: every op in fp16 (products accumulated
in fp32, as GPU GEMMs do), parameters and optimizer state in fp16, no master weights: expected to
fail on some tasks. fp16-amp / bf16-amp: PyTorch's autocast rules (matmul, linear, conv in the
low format with fp32 accumulation; exp, log, pow, sums, softmax, log_softmax, layer_norm and
losses in fp32; everything else in the widest format of its inputs) with fp32 master weights.
fp8-hybrid: GEMM operands in E4M3 forward and E5M2 backward with delayed per-tensor scaling
(Transformer Engine's HYBRID recipe), everything else in fp32, fp32 master weights.
Quantization-aware training (numprec.policy.quantized; fp32 elsewhere, fp32 master weights, the
straight-through estimator): int8-qat: forward GEMMs on int8 codes (weights per output channel,
inputs per tensor, symmetric min-max scales) summed exactly in int32, backward in fp32.
mxfp8: GEMM operands in OCP MX blocks of 32 along the reduction dimension, E4M3 elements
forward and E5M2 backward. mxfp4: MXFP4 (E2M1 elements) forward, backward in fp32. nvfp4:
NVFP4 (16 E2M1 elements, E4M3 block scales, a float32 tensor scale) forward, backward in fp32.
"""
from __future__ import annotations

from .policy import Pass, Policy

_FP32 = Pass("fp32", "fp32", "fp32")
_FP32_CLASSES = ("transcendental", "reduction", "softmax", "norm", "loss")


def _uniform(name: str, fmt: str, matmul_acc: str, **storage) -> Policy:
    spec = Pass(fmt, fmt, fmt)
    matmul = {"matmul": Pass(fmt, matmul_acc, fmt)}
    return Policy(name, default=spec, forward=matmul, backward=matmul, **storage)


def _autocast(name: str, low: str, loss_scale) -> Policy:
    classes = {"matmul": Pass(low, "fp32", low)}
    classes.update({cls: _FP32 for cls in _FP32_CLASSES})
    return Policy(name, default=Pass(), forward=classes, backward=classes, master="fp32",
                  optimizer_state="fp32", loss_scale=loss_scale)


def _fp8_hybrid() -> Policy:
    forward = {"matmul": Pass("fp8_e4m3fn", "fp32", "fp32", scaling="delayed")}
    backward = {"matmul": Pass("fp8_e5m2", "fp32", "fp32", scaling="delayed")}
    return Policy("fp8-hybrid", default=_FP32, forward=forward, backward=backward,
                  master="fp32", optimizer_state="fp32", loss_scale=None, amax_history_len=16)


def _quantized(name: str, forward: Pass, backward: Pass = _FP32) -> Policy:
    return Policy(name, default=_FP32, forward={"matmul": forward},
                  backward={"matmul": backward}, master="fp32", optimizer_state="fp32",
                  loss_scale=None)


MX_ELEMENTS = {8: "fp8_e4m3fn", 6: "fp6_e2m3fn", 4: "fp4_e2m1fn"}  # MXFP8, MXFP6 (E2M3), MXFP4
QUANT_KINDS = ("int", "mx", "nvfp4")


def quantized_pass(kind: str = "int", bits: int = 8, granularity: str = "channel",
                   ste=None) -> Pass:
    """The forward matmul Pass of a quantized policy. kind "int": signed `bits`-bit integer
    codes (2..16), granularity "channel" (weights per output channel) or "tensor", summed in
    int32; "mx": OCP MX with the element of `bits` (8: E4M3, 6: E2M3, 4: E2M1); "nvfp4" (4)."""
    if kind == "int":
        if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
            raise ValueError(f"integer quantization needs bits in 2..16, got {bits!r}")
        if granularity not in ("channel", "tensor"):
            raise ValueError(f"unknown granularity {granularity!r}; valid: channel, tensor")
        return Pass(f"q{bits - 1}.0", "int32", "fp32", scaling=granularity, ste=ste)
    if kind == "mx":
        if bits not in MX_ELEMENTS:
            raise ValueError(f"MX elements have 8, 6 or 4 bits, got {bits!r}")
        return Pass(MX_ELEMENTS[bits], "fp32", "fp32", scaling="mx", ste=ste)
    if kind == "nvfp4":
        if bits != 4:
            raise ValueError(f"NVFP4 elements have 4 bits, got {bits!r}")
        return Pass("fp4_e2m1fn", "fp32", "fp32", scaling="nvfp4", ste=ste)
    raise ValueError(f"unknown quantization kind {kind!r}; valid: {', '.join(QUANT_KINDS)}")


def quantized_policy(kind: str = "int", bits: int = 8, granularity: str = "channel",
                     ste=None, name: str | None = None) -> Policy:
    """A quantization-aware policy: forward GEMMs quantized (quantized_pass), everything else
    and the backward pass in fp32, fp32 master weights."""
    spec = quantized_pass(kind, bits, granularity, ste)
    if name is None:
        name = {"int": f"int{bits}-{granularity}", "mx": f"mxfp{bits}", "nvfp4": "nvfp4"}[kind]
    return _quantized(name, spec)


PRESETS = {
    "fp64": _uniform("fp64", "fp64", "fp64", master="fp64", optimizer_state="fp64"),
    "fp32": _uniform("fp32", "fp32", "fp32", master="fp32", optimizer_state="fp32"),
    "fp16": _uniform("fp16", "fp16", "fp32", master="fp16", optimizer_state="fp16"),
    "fp16-amp": _autocast("fp16-amp", "fp16", "dynamic"),
    "bf16-amp": _autocast("bf16-amp", "bf16", None),
    "fp8-hybrid": _fp8_hybrid(),
    "int8-qat": _quantized("int8-qat", Pass("int8", "int32", "fp32", scaling="channel")),
    "mxfp8": _quantized("mxfp8", Pass("fp8_e4m3fn", "fp32", "fp32", scaling="mx"),
                        Pass("fp8_e5m2", "fp32", "fp32", scaling="mx")),
    "mxfp4": _quantized("mxfp4", Pass("fp4_e2m1fn", "fp32", "fp32", scaling="mx")),
    "nvfp4": _quantized("nvfp4", Pass("fp4_e2m1fn", "fp32", "fp32", scaling="nvfp4")),
}
DEFAULT_AUTOCAST = "fp16-amp"
