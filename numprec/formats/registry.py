"""The registry of named formats and `get_format`, which turns a name into a descriptor."""
from __future__ import annotations

import re

from .descriptor import FixedPoint, Format

_FORMATS = {
    "fp64": Format("fp64", 11, 52),
    "fp32": Format("fp32", 8, 23),
    "tf32": Format("tf32", 8, 10),
    "fp16": Format("fp16", 5, 10),
    "bf16": Format("bf16", 8, 7),
    "fp8_e4m3fn": Format("fp8_e4m3fn", 4, 3, nan="fn"),
    "fp8_e5m2": Format("fp8_e5m2", 5, 2),
    "fp8_e4m3fnuz": Format("fp8_e4m3fnuz", 4, 3, nan="fnuz"),
    "fp8_e5m2fnuz": Format("fp8_e5m2fnuz", 5, 2, nan="fnuz"),
    "fp6_e3m2fn": Format("fp6_e3m2fn", 3, 2, nan="none"),
    "fp6_e2m3fn": Format("fp6_e2m3fn", 2, 3, nan="none"),
    "fp4_e2m1fn": Format("fp4_e2m1fn", 2, 1, nan="none"),
    # Block scales. OCP MX's E8M0 (ml_dtypes' and PyTorch's float8_e8m0fnu): 8 exponent bits,
    # no sign, no zero, no inf; 2^-127 .. 2^127, NaN 0xFF. NVFP4's UE4M3: the nonnegative half of
    # fp8_e4m3fn, a 7-bit pattern (the byte NVIDIA stores, sign bit 0), max 448, NaN 0x7F.
    "fp8_e8m0fnu": Format("fp8_e8m0fnu", 8, 0, nan="fn", subnormals=False, signed=False,
                          zero=False),
    "fp8_ue4m3": Format("fp8_ue4m3", 4, 3, nan="fn", signed=False),
}
_ALIASES = {"e4m3": "fp8_e4m3fn", "e5m2": "fp8_e5m2", "int8": "q7.0", "int4": "q3.0",
            "uint8": "uq8.0", "int16": "q15.0", "int32": "q31.0",
            "float64": "fp64", "float32": "fp32", "float16": "fp16", "half": "fp16",
            "bfloat16": "bf16", "e8m0": "fp8_e8m0fnu", "ue8m0": "fp8_e8m0fnu",
            "float8_e8m0fnu": "fp8_e8m0fnu", "ue4m3": "fp8_ue4m3"}
_INT_NAMES = ("int8", "int4", "uint8", "int16", "int32")  # integer aliases keep their own name, as int8 does
_FIXED_RE = re.compile(r"^(u?)q(\d+)\.(\d+)(_wrap)?$")
_WRAP = "_wrap"  # the suffix of a fixed-point name that wraps on overflow (q7.0_wrap, int8_wrap)


def format_names() -> list[str]:
    """Names of the registered formats (fixed point is spelled qM.N / uqM.N)."""
    return list(_FORMATS)


def register_format(fmt: Format) -> Format:
    """Make a user-defined format available by name to get_format and the CLI."""
    if not isinstance(fmt, Format):
        raise TypeError(f"register_format takes a numprec.Format, got {type(fmt).__name__}")
    wrapped_int = fmt.name.endswith(_WRAP) and fmt.name[:-len(_WRAP)] in _INT_NAMES
    if fmt.name in _ALIASES or _FIXED_RE.match(fmt.name) or wrapped_int:
        raise ValueError(f"format name {fmt.name!r} is reserved")
    _FORMATS[fmt.name] = fmt
    return fmt


def get_format(spec) -> Format | FixedPoint:
    """A descriptor for a name (`fp16`, `e4m3`, `q3.4`, `int8`, ...) or a descriptor passed through."""
    if isinstance(spec, (Format, FixedPoint)):
        return spec
    named = _FORMATS.get(spec) if isinstance(spec, str) else None
    if named is not None:  # a registered name as it is spelled there (most calls)
        return named
    if not isinstance(spec, str):
        raise TypeError(f"format must be a name or a numprec.Format/FixedPoint, got "
                        f"{type(spec).__name__} {spec!r}")
    spelled = spec.strip().lower()
    key = _ALIASES.get(spelled, spelled)
    if key in _FORMATS:
        return _FORMATS[key]
    base = spelled[:-len(_WRAP)] if spelled.endswith(_WRAP) else None
    if base in _INT_NAMES:  # int8_wrap: int8 wrapping on overflow
        key = _ALIASES[base] + _WRAP
    match = _FIXED_RE.match(key)
    if match:
        unsigned, int_bits, frac_bits, wrap = match.groups()
        name = spelled if (spelled in _INT_NAMES or base in _INT_NAMES) else None
        return FixedPoint(int(int_bits), int(frac_bits), signed=not unsigned, name=name,
                          overflow="wrap" if wrap else "saturate")
    valid = ", ".join(list(_FORMATS) + list(_ALIASES)[:7]) + ", qM.N, uqM.N"
    raise ValueError(f"unknown format {spec!r}; valid formats: {valid}")
