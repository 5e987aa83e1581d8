"""Precision policies: what format every op's every pass runs in, and how values are rounded.

    policy       Policy and Pass, the op classes (OP_CLASSES), NATIVE
    presets      the named presets (fp64, fp32, fp16, fp16-amp, bf16-amp, fp8-hybrid, int8-qat,
                 mxfp8, mxfp4, nvfp4) and quantized_policy
    quantized    fake quantization of GEMM operands (integer, MX, NVFP4), static scales
    loader       policies by name, from a dict, or from a TOML / JSON file
    context      the active policy (current_policy, using_policy; numprec.amp.autocast)
    streams      the run's random streams (manual_seed, the generator, stochastic rounding)
    casting      round_to (the one rounding helper of the engine), f32, format promotion
    arithmetic   OpArithmetic: one op's Pass resolved against its operands' formats
    scaling      FP8 per-tensor scaling recipes (DelayedScaling, scale_from_amax)

numprec.amp keeps autocast and the loss scalers and re-exports the rest.
"""
from ..codes import ORDERS
from .arithmetic import OpArithmetic
from .casting import f32, round_to
from .context import current_policy, using_policy
from .loader import get_policy, policy_from_dict, policy_from_file, preset_names
from .policy import NATIVE, OP_CLASSES, PASS_FIELDS, PROMOTE, Pass, Policy
from .presets import DEFAULT_AUTOCAST, PRESETS, quantized_pass, quantized_policy
from .quantized import STATIC_SCALE, StaticScale
from .scaling import DelayedScaling, scale_from_amax
from .streams import generator, manual_seed

__all__ = ["Policy", "Pass", "OP_CLASSES", "ORDERS", "PROMOTE", "PASS_FIELDS", "NATIVE",
           "PRESETS", "DEFAULT_AUTOCAST", "get_policy", "policy_from_dict", "policy_from_file",
           "preset_names", "current_policy", "using_policy", "manual_seed", "generator",
           "round_to", "f32", "OpArithmetic", "DelayedScaling", "scale_from_amax",
           "quantized_pass", "quantized_policy", "STATIC_SCALE", "StaticScale"]
