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
}
_ALIASES = {"e4m3": "fp8_e4m3fn", "e5m2": "fp8_e5m2", "int8": "q7.0", "int4": "q3.0",
            "uint8": "uq8.0", "int16": "q15.0", "int32": "q31.0",
            "float64": "fp64", "float32": "fp32", "float16": "fp16", "half": "fp16",
            "bfloat16": "bf16"}
_INT_NAMES = ("int8", "int4", "uint8", "int16", "int32")  # integer aliases keep their own name, as int8 does
_FIXED_RE = re.compile(r"^(u?)q(\d+)\.(\d+)$")


def format_names() -> list[str]:
    """Names of the registered formats (fixed point is spelled qM.N / uqM.N)."""
    return list(_FORMATS)


def register_format(fmt: Format) -> Format:
    """Make a user-defined format available by name to get_format and the CLI."""
    if not isinstance(fmt, Format):
        raise TypeError(f"register_format takes a numprec.Format, got {type(fmt).__name__}")
    if fmt.name in _ALIASES or _FIXED_RE.match(fmt.name):
        raise ValueError(f"format name {fmt.name!r} is reserved")
    _FORMATS[fmt.name] = fmt
    return fmt


def get_format(spec) -> Format | FixedPoint:
    """A descriptor for a name (`fp16`, `e4m3`, `q3.4`, `int8`, ...) or a descriptor passed through."""
    if isinstance(spec, (Format, FixedPoint)):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"format must be a name or a numprec.Format/FixedPoint, got "
                        f"{type(spec).__name__} {spec!r}")
    spelled = spec.strip().lower()
    key = _ALIASES.get(spelled, spelled)
    if key in _FORMATS:
        return _FORMATS[key]
    match = _FIXED_RE.match(key)
    if match:
        unsigned, int_bits, frac_bits = match.groups()
        return FixedPoint(int(int_bits), int(frac_bits), signed=not unsigned,
                          name=spelled if spelled in _INT_NAMES else None)
    valid = ", ".join(list(_FORMATS) + list(_ALIASES)[:7]) + ", qM.N, uqM.N"
    raise ValueError(f"unknown format {spec!r}; valid formats: {valid}")
