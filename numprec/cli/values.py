"""Reading numbers from the command line and writing them back exactly."""
from __future__ import annotations

import math
import re
import sys
from decimal import Decimal, InvalidOperation
from fractions import Fraction

_HEX_FLOAT = re.compile(r"^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "infinity": math.inf, "+infinity": math.inf,
            "-inf": -math.inf, "-infinity": -math.inf,
            "nan": math.nan, "+nan": math.nan, "-nan": -math.nan}
_MAX_EXPONENT = 5000  # far beyond float64's range; keeps the exact conversion cheap
VALUE_SYNTAX = "a decimal (0.1, -3e-5), a hex float (0x1.8p3), inf or nan"


def _exact_hex(match) -> Fraction:
    sign, whole, frac, exp = match.groups()
    digits = (whole or "") + (frac or "")
    if not digits:
        raise ValueError("no hex digits")
    power = int(exp or 0)
    if abs(power) > _MAX_EXPONENT:
        raise ValueError("exponent out of range")
    value = Fraction(int(digits, 16), 16 ** len(frac or "")) * Fraction(2) ** power
    return -value if sign == "-" else value


def parse_value(text: str) -> tuple[float, Fraction | None]:
    """The float64 that `text` names, and the exact value it spells when that is not a float64
    (so the caller can say which float64 numprec actually rounds). Raises ValueError."""
    if not isinstance(text, str):
        raise TypeError(f"value must be a string, got {type(text).__name__}")
    key = text.strip().lower()
    if key in _SPECIAL:
        return _SPECIAL[key], None
    match = _HEX_FLOAT.match(key)
    try:
        if match:
            exact = _exact_hex(match)
        else:
            decimal = Decimal(key)
            if not decimal.is_finite() or abs(decimal.adjusted()) > _MAX_EXPONENT:
                raise InvalidOperation
            exact = Fraction(decimal)
    except (ValueError, InvalidOperation, ZeroDivisionError):
        raise ValueError(f"cannot read value {text!r}; expected {VALUE_SYNTAX}") from None
    try:
        value = float(exact)
    except OverflowError:
        value = math.inf
    if math.isinf(value):
        raise ValueError(f"value {text!r} is beyond the float64 range "
                         f"(max {sys.float_info.max!r}); numprec rounds float64 inputs")
    if value == 0 and key.lstrip().startswith("-"):
        value = -0.0
    return value, (None if Fraction(value) == exact else exact)


def parse_bits(text: str, nbits: int, fmt_name: str) -> int:
    """A bit pattern written in hex (0x3c00), binary (0b...) or decimal, checked against nbits."""
    try:
        bits = int(text.strip().replace("_", ""), 0)
    except ValueError:
        raise ValueError(f"cannot read bit pattern {text!r}; expected an integer such as 0x3c00, "
                         "0b0011110000000000 or 15360") from None
    if not 0 <= bits < 1 << nbits:
        raise ValueError(f"bit pattern {text.strip()} is out of range for {fmt_name} "
                         f"({nbits} bits: 0x0..{(1 << nbits) - 1:#x})")
    return bits


def power_of_two(value: float) -> str | None:
    """'2^k' when value is an exact power of two, else None."""
    if value > 0 and math.isfinite(value):
        mant, exp = math.frexp(value)
        if mant == 0.5:
            return f"2^{exp - 1}"
    return None


def short(value: float) -> str:
    """A compact display: 2^k for powers of two beyond 2^±10, else up to 7 significant digits."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    pow2 = power_of_two(abs(value))
    if pow2 and abs(math.frexp(value)[1] - 1) > 10:
        return ("-" if value < 0 else "") + pow2
    return f"{value:.7g}"


def exact(value: float, max_digits: int = 80) -> str:
    """The exact decimal expansion of a float64 (every float64 has one), or its shortest repr
    and the expansion's length when that is longer than max_digits significant digits."""
    if not math.isfinite(value):
        return short(value)
    decimal = Decimal(value)
    ndigits = len(decimal.as_tuple().digits)
    if ndigits > max_digits:
        return f"{value!r} (exact expansion has {ndigits} digits)"
    return str(decimal)
