"""NVFP4: blocks of 16 FP4 (E2M1) elements, each block scaled by an E4M3 value, and one float32
scale for the whole tensor.

numprec follows Transformer Engine's reference recipe (quantization_ref_nvfp4.py, 1 x 16
blocks, the default path) step by step, every step a float32 operation rounded to nearest even
(numpy's float32 arithmetic is IEEE's), so that its codes equal the recipe's:

    g   = min(fl(448 * 6 / global_amax), FLT_MAX), and 1 where that is 0  (global encode scale)
    d   = fl(1 / g)                                                       (global decode scale)
    s_b = e4m3(min(fl(amax_b * fl(g * fl(1/6))), 448))                     (block decode scale)
    e_b = min(fl(1 / fl(s_b * d)), FLT_MAX)                                 (block encode scale)
    P_i = e2m1(fl(x_i * e_b)), saturating at 6, nearest even

with fl() a float32 rounding, e4m3() and e2m1() numprec roundings to nearest even. Inputs are
taken as float32 first (the recipe's inputs are float32 or bfloat16; a float64 array is rounded
to float32, nearest even). Decoding gives P_i * s_b * d exactly as a float64 (a float32 decode
rounds that product once more). Signed zeros keep their sign (as IEEE conversions, and the
hardware's, do; TE's Python reference gives -0.0 the code of +0.0). NaN or inf in the tensor makes the recipe's scales NaN: numprec
refuses such input with a clear error instead.
"""
from __future__ import annotations

import numpy as np

from ..formats import get_format
from ..ops import decode, encode, round as round_to

NVFP4_BLOCK = 16
E2M1 = get_format("fp4_e2m1fn")
E4M3 = get_format("fp8_e4m3fn")
_F32 = np.float32
_FLT_MAX = np.finfo(np.float32).max


def _moved_blocks(x, axis, name):
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"{name}: needs an array with at least one dimension, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for {arr.ndim} dimension(s)")
    axis = int(axis) % arr.ndim
    moved = np.moveaxis(arr, axis, -1)
    if moved.shape[-1] % NVFP4_BLOCK:
        raise ValueError(f"{name}: NVFP4 blocks of {NVFP4_BLOCK} do not divide the length "
                         f"{moved.shape[-1]} of axis {axis}")
    return moved.reshape(moved.shape[:-1] + (-1, NVFP4_BLOCK)), moved.shape, axis


def global_scales(global_amax):
    """(g, d): the recipe's float32 global encode and decode scales for a tensor amax."""
    amax = _F32(global_amax)
    if not np.isfinite(amax) or amax < 0:
        raise ValueError(f"nvfp4: global_amax must be finite and >= 0, got {global_amax!r}")
    with np.errstate(divide="ignore", over="ignore"):
        g = min(_F32(_F32(448.0 * 6.0) / amax), _FLT_MAX)
    if g == 0:
        g = _F32(1.0)
    return _F32(g), _F32(_F32(1.0) / _F32(g))


def nvfp4_encode(x, *, axis: int = -1, global_amax=None, flags=None):
    """(element codes, E4M3 block-scale codes, global decode scale d) of x in blocks of 16
    along `axis`. global_amax: the tensor amax the global scale comes from (default: x's own,
    in float32); flags (a numprec.Flags) counts the elements' rounding events."""
    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"nvfp4_encode: needs real numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore"):  # beyond float32's range: inf, refused below
        x32 = arr.astype(np.float32)  # nearest even (numpy's float64 -> float32 is IEEE's)
    if not np.isfinite(x32).all():
        bad = int((~np.isfinite(x32)).sum())
        raise ValueError(f"nvfp4_encode: {bad} value(s) are NaN or inf (or beyond float32's "
                         "range); the recipe's scales would be NaN")
    blocks, moved_shape, axis = _moved_blocks(x32, axis, "nvfp4_encode")
    amax_b = np.abs(blocks).max(axis=-1)
    if global_amax is None:
        global_amax = amax_b.max() if amax_b.size else _F32(0.0)
    g, d = global_scales(global_amax)
    multiplier = _F32(g * _F32(_F32(1.0) / _F32(6.0)))
    with np.errstate(over="ignore"):
        wanted = np.minimum(amax_b * multiplier, _F32(448.0))  # float32 products
    scale_codes = encode(wanted, E4M3).astype(np.uint8)       # non-negative: sign bit clear
    s_b = round_to(wanted, E4M3).astype(np.float32)
    with np.errstate(divide="ignore", over="ignore"):
        e_b = np.minimum(_F32(1.0) / (s_b * d), _FLT_MAX)      # float32 throughout
        scaled = blocks * e_b[..., None]
    codes = encode(scaled, E2M1, saturate=True, flags=flags)
    codes = np.moveaxis(codes.reshape(moved_shape), -1, axis)
    return codes, np.moveaxis(scale_codes, -1, axis), float(d)


def nvfp4_decode(codes, scale_codes, global_decode_scale, *, axis: int = -1):
    """float64 values P_i * s_b * d of NVFP4 element codes, block-scale codes and the global
    decode scale (nvfp4_encode's layout); exact."""
    codes, scale_codes = np.asarray(codes), np.asarray(scale_codes)
    for name, arr, top in (("codes", codes, 15), ("scale codes", scale_codes, 255)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"nvfp4_decode: {name} must be integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() > top):
            raise ValueError(f"nvfp4_decode: {name} lie in 0..{top}")
    d = float(global_decode_scale)
    if not np.isfinite(d) or d <= 0 or float(_F32(d)) != d:
        raise ValueError(f"nvfp4_decode: the global decode scale must be a positive finite "
                         f"float32 value, got {global_decode_scale!r}")
    blocks, moved_shape, axis = _moved_blocks(codes, axis, "nvfp4_decode")
    moved_scales = np.moveaxis(scale_codes, axis, -1)
    if moved_scales.shape != blocks.shape[:-1]:
        raise ValueError(f"nvfp4_decode: scale codes of shape {scale_codes.shape} do not match "
                         f"codes of shape {codes.shape}")
    s_b = decode(moved_scales.astype(np.int64), E4M3)
    if np.isnan(s_b).any():
        raise ValueError("nvfp4_decode: a block-scale code is E4M3's NaN")
    values = decode(blocks.astype(np.int64), E2M1) * s_b[..., None] * d  # exact: 2 + 4 + 24 bits
    return np.moveaxis(values.reshape(moved_shape), -1, axis)


def nvfp4_quantize(x, *, axis: int = -1, global_amax=None, flags=None):
    """x through NVFP4 and back (float64)."""
    return nvfp4_decode(*nvfp4_encode(x, axis=axis, global_amax=global_amax, flags=flags),
                        axis=axis)


__all__ = ["nvfp4_encode", "nvfp4_decode", "nvfp4_quantize", "global_scales", "NVFP4_BLOCK"]
