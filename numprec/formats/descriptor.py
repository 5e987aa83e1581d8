"""Format descriptors: the single source of truth for every number format.

A descriptor holds only the defining fields (exponent bits, mantissa bits, bias, the inf/NaN
convention, subnormal support). Every limit (max, min normal, eps, ...) is derived from them, and
the kernels receive them as one tuple of integers (`kernel_params`) so that a single compiled kernel
serves every format.
"""
from __future__ import annotations

import dataclasses
import math
import operator
from dataclasses import dataclass
from functools import cached_property

from ..codes import (FIXED_OVERFLOW, KIND_CODE, KIND_FIXED, NAN_CONVENTIONS, NPARAMS, P_BIAS,
                     P_EBITS, P_EMIN, P_KIND, P_MAXM_NEG, P_MAXM_POS, P_MBITS, P_NBITS, P_QMAX,
                     P_SIGNED, P_SUBNORMALS, P_WRAP, P_ZERO)

# NAN_CONVENTIONS: "ieee", "fn", "fnuz", and "none" for formats with neither inf nor NaN (the OCP
# MX element formats).

# float64 is the carrier of every value: a format must fit inside it.
_F64_EMAX, _F64_EMIN_SUB = 1023, -1074


def _params(**values) -> tuple:
    """A kernel parameter tuple, each value placed in its slot (P_<NAME> in numprec.codes)."""
    slots = {"mbits": P_MBITS, "emin": P_EMIN, "qmax": P_QMAX, "maxm_pos": P_MAXM_POS,
             "maxm_neg": P_MAXM_NEG, "kind": P_KIND, "subnormals": P_SUBNORMALS,
             "ebits": P_EBITS, "bias": P_BIAS, "nbits": P_NBITS, "signed": P_SIGNED,
             "zero": P_ZERO, "wrap": P_WRAP}
    params = [0] * NPARAMS
    for name, value in values.items():
        params[slots[name]] = int(value)
    return tuple(params)


def _container_bits(nbits: int) -> int:
    for width in (8, 16, 32, 64):
        if nbits <= width:
            return width
    raise ValueError(f"{nbits}-bit patterns do not fit in 64 bits")


def _equal_fields(self, other):
    """The dataclasses' equality (the same class, field by field), identity first: the engine
    compares the registry's own descriptors on every op."""
    if self is other:
        return True
    if other.__class__ is not self.__class__:
        return NotImplemented
    values = _FIELD_VALUES.get(self.__class__)
    if values is None:
        values = _FIELD_VALUES[self.__class__] = operator.attrgetter(
            *(field.name for field in dataclasses.fields(self)))
    return values(self) == values(other)


_FIELD_VALUES = {}  # descriptor class -> attrgetter of its fields


@dataclass(frozen=True)
class Format:
    """A binary floating-point format with `ebits` exponent bits and `mbits` stored mantissa bits.

    nan: "ieee" (all-ones exponent holds inf and NaN), "fn" (no inf; only the all-ones pattern is
    NaN), "fnuz" (no inf, no -0; the negative-zero pattern is the single NaN) or "none" (no inf and
    no NaN: overflow always saturates). `inf` defaults to what the NaN convention implies.
    Bit patterns are right-aligned in the smallest unsigned container (uint8/16/32/64).

    signed=False: no sign bit (nbits = ebits + mbits), only nonnegative values (the block scales
    of OCP MX and NVFP4); a negative input or result is invalid and gives NaN, so the format needs
    a NaN (nan "ieee" or "fn"). zero=False (unsigned formats without subnormals only): the biased
    exponent 0 is a normal binade (emin = -bias), so the format has no zero, as OCP's E8M0: an
    exact zero is invalid (NaN) and a positive value below the smallest one rounds to it in
    every mode (see docs/rounding.md).
    """

    name: str
    ebits: int
    mbits: int
    bias: int | None = None
    inf: bool | None = None
    nan: str = "ieee"
    subnormals: bool = True
    signed: bool = True
    zero: bool = True

    __eq__ = _equal_fields  # (dataclass keeps a class's own __eq__ and still makes __hash__)

    def __post_init__(self):
        for attr in ("signed", "zero"):
            if not isinstance(getattr(self, attr), bool):
                raise TypeError(f"Format {attr} must be a bool, got {getattr(self, attr)!r}")
        for attr in ("ebits", "mbits"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Format {attr} must be an int, got {value!r}")
        if self.nan not in NAN_CONVENTIONS:
            raise ValueError(f"Format nan={self.nan!r} is not a NaN convention; "
                             f"valid: {', '.join(NAN_CONVENTIONS)}")
        if not 1 <= self.ebits <= 11:
            raise ValueError(f"Format ebits={self.ebits} is out of range: valid 1..11 "
                             "(the format must fit inside float64)")
        if not 0 <= self.mbits <= 52:
            raise ValueError(f"Format mbits={self.mbits} is out of range: valid 0..52 "
                             "(the format must fit inside float64)")
        if self.nan == "ieee" and self.ebits < 2:
            raise ValueError("Format nan='ieee' needs ebits >= 2: the all-ones exponent is reserved")
        if self.nan == "ieee" and self.mbits < 1:
            raise ValueError("Format nan='ieee' needs mbits >= 1 to encode NaN; use nan='fn'")
        if not self.signed and self.nan not in ("ieee", "fn"):
            raise ValueError(f"Format signed=False needs nan='ieee' or 'fn', not {self.nan!r}: a "
                             "negative value has no pattern in an unsigned format and becomes NaN")
        if not self.zero:
            if self.signed:
                raise ValueError("Format zero=False needs signed=False (only unsigned formats "
                                 "such as E8M0 lack a zero)")
            if self.subnormals:
                raise ValueError("Format zero=False needs subnormals=False: the biased exponent "
                                 "0 is a normal binade when the format has no zero")
        implied_inf = self.nan == "ieee"
        if self.inf is None:
            object.__setattr__(self, "inf", implied_inf)
        elif bool(self.inf) != implied_inf:
            raise ValueError(f"Format inf={self.inf!r} contradicts nan={self.nan!r}: only the "
                             "'ieee' convention has infinities")
        if self.bias is None:
            default = 2 ** (self.ebits - 1) - (0 if self.nan == "fnuz" else 1)
            object.__setattr__(self, "bias", default)
        elif isinstance(self.bias, bool) or not isinstance(self.bias, int):
            raise TypeError(f"Format bias must be an int, got {self.bias!r}")
        if self.emax > _F64_EMAX or self.min_subnormal_exponent < _F64_EMIN_SUB:
            raise ValueError(f"Format bias={self.bias} puts the range [2^{self.min_subnormal_exponent},"
                             f" 2^{self.emax}] outside float64's [2^-1074, 2^1023]")
        if self.emin > self.emax:
            raise ValueError(f"Format ({self.ebits} exponent bits, nan={self.nan!r}) has no normal "
                             "numbers")

    # --- derived limits ---------------------------------------------------------------------
    @property
    def nbits(self) -> int:
        return int(self.signed) + self.ebits + self.mbits

    @property
    def precision(self) -> int:
        """Significand bits including the implicit one (p)."""
        return self.mbits + 1

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal binade: 1 - bias, or -bias without a zero (the biased
        exponent 0 is then a normal binade)."""
        return (1 if self.zero else 0) - self.bias

    @property
    def _top_exponent_is_finite(self) -> bool:
        # fn with no mantissa bits: the top binade holds only the NaN pattern.
        return self.nan in ("fnuz", "none") or (self.nan == "fn" and self.mbits >= 1)

    @property
    def emax(self) -> int:
        all_ones = 2 ** self.ebits - 1
        return (all_ones if self._top_exponent_is_finite else all_ones - 1) - self.bias

    @property
    def max_significand(self) -> int:
        """Largest integer significand M at exponent emax (max = M * 2^(emax - mbits))."""
        full = 2 ** self.precision - 1
        return full - 1 if (self.nan == "fn" and self.mbits >= 1) else full

    @property
    def min_subnormal_exponent(self) -> int:
        return self.emin - self.mbits if self.subnormals else self.emin

    @property
    def fits_float32(self) -> bool:
        """Every value of the format (inf and NaN included) is a float32 value: at most 24
        significand bits, emax <= 127, and no value finer than float32's 2^-149 (the ulp of
        the lowest binade, emin - mbits)."""
        return self.precision <= 24 and self.emax <= 127 and self.emin - self.mbits >= -149

    @property
    def max(self) -> float:
        return math.ldexp(self.max_significand, self.emax - self.mbits)

    @property
    def min_normal(self) -> float:
        return math.ldexp(1.0, self.emin)

    @property
    def min_subnormal(self) -> float:
        return math.ldexp(1.0, self.min_subnormal_exponent)

    @property
    def eps(self) -> float:
        return math.ldexp(1.0, -self.mbits)

    @property
    def u(self) -> float:
        """Unit roundoff for round-to-nearest: 2^-p."""
        return math.ldexp(1.0, -self.precision)

    @property
    def is_fixed(self) -> bool:
        return False

    @property
    def container_bits(self) -> int:
        return _container_bits(self.nbits)

    @property
    def has_nan(self) -> bool:
        return self.nan != "none"

    @property
    def has_negative_zero(self) -> bool:
        return self.signed and self.nan != "fnuz"

    @property
    def min(self) -> float:
        """Most negative finite value (-max), or the smallest value of an unsigned format (0,
        or min_normal without a zero)."""
        if self.signed:
            return -self.max
        return 0.0 if self.zero else self.min_normal

    @cached_property
    def kernel_params(self) -> tuple:
        """The integer tuple every kernel takes (slots P_* in numprec.codes)."""
        max_m = self.max_significand
        return _params(mbits=self.mbits, emin=self.emin, qmax=self.emax - self.mbits,
                       maxm_pos=max_m, maxm_neg=max_m if self.signed else 0,
                       kind=KIND_CODE[self.nan], subnormals=int(self.subnormals),
                       ebits=self.ebits, bias=self.bias, nbits=self.nbits,
                       signed=int(self.signed), zero=int(self.zero), wrap=0)

    def describe_encoding(self) -> str:
        if self.signed:
            return {"ieee": "inf: exp all ones, mant 0; NaN: exp all ones, mant != 0",
                    "fn": "no inf; NaN: all ones (S.1..1.1..1)",
                    "fnuz": "no inf, no -0; NaN: 1 followed by zeros",
                    "none": "no inf, no NaN (saturates)"}[self.nan]
        # (negative values, and zero where there is none, round to NaN: docs/rounding.md)
        if self.nan == "ieee":
            special = "inf: exp all ones, mant 0; NaN: exp all ones, mant != 0"
        else:
            special = f"no inf; NaN: {(1 << self.nbits) - 1:#04x}"
        zero = "" if self.zero else f", no zero (0x00 = 2^{-self.bias})"
        return f"unsigned{zero}; {special}"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FixedPoint:
    """Fixed point with `int_bits` integer and `frac_bits` fraction bits (qM.N), plus a sign bit
    when signed (two's complement). Values are k * 2^-frac_bits.

    overflow: what a rounded value beyond the range becomes: "saturate" (the default: the nearest
    end of the range) or "wrap" (what integer hardware does: the rounded integer k reduced modulo
    2^nbits into the range, two's complement or unsigned). A wrapping format is named
    `qM.N_wrap` (`int8_wrap` for int8), so `q7.0` always saturates."""

    int_bits: int
    frac_bits: int
    signed: bool = True
    name: str | None = None
    overflow: str = "saturate"

    __eq__ = _equal_fields

    def __post_init__(self):
        for attr in ("int_bits", "frac_bits"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"FixedPoint {attr} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"FixedPoint {attr}={value} must be >= 0")
        if self.int_bits + self.frac_bits > 52:
            raise ValueError(f"FixedPoint q{self.int_bits}.{self.frac_bits} has "
                             f"{self.int_bits + self.frac_bits} magnitude bits; at most 52 fit "
                             "exactly in float64")
        if self.int_bits + self.frac_bits == 0:
            raise ValueError("FixedPoint needs at least one integer or fraction bit")
        if self.overflow not in FIXED_OVERFLOW:
            raise ValueError(f"FixedPoint overflow={self.overflow!r} is not valid; valid: "
                             f"{', '.join(FIXED_OVERFLOW)}")
        if self.name is None:
            prefix = "q" if self.signed else "uq"
            suffix = "_wrap" if self.wraps else ""
            object.__setattr__(self, "name", f"{prefix}{self.int_bits}.{self.frac_bits}{suffix}")

    @property
    def wraps(self) -> bool:
        """Overflow wraps modulo 2^nbits (overflow="wrap") instead of saturating."""
        return self.overflow == "wrap"

    @property
    def nbits(self) -> int:
        return int(self.signed) + self.int_bits + self.frac_bits

    @property
    def resolution(self) -> float:
        """The quantum Delta = 2^-frac_bits."""
        return math.ldexp(1.0, -self.frac_bits)

    eps = resolution
    min_subnormal = resolution

    @property
    def u(self) -> float:
        """Absolute rounding error bound for round-to-nearest: Delta / 2."""
        return math.ldexp(1.0, -self.frac_bits - 1)

    @property
    def max(self) -> float:
        return math.ldexp(2 ** (self.int_bits + self.frac_bits) - 1, -self.frac_bits)

    @property
    def min(self) -> float:
        """Most negative value (two's complement), 0 when unsigned."""
        return -math.ldexp(1.0, self.int_bits) if self.signed else 0.0

    @property
    def is_fixed(self) -> bool:
        return True

    @property
    def fits_float32(self) -> bool:
        """Every value k * 2^-N (|k| <= 2^(M+N)) is a float32 value: at most 24 magnitude bits."""
        return self.int_bits + self.frac_bits <= 24

    @property
    def container_bits(self) -> int:
        return _container_bits(self.nbits)

    has_nan = False
    has_negative_zero = False
    inf = False
    subnormals = True
    zero = True

    @cached_property
    def kernel_params(self) -> tuple:
        # Fixed point is rounding at the constant quantum 2^-N: the kernel sees a "float" whose
        # whole range lies below its normal binade (emin = M, precision M + N).
        mag = self.int_bits + self.frac_bits
        return _params(mbits=mag, emin=self.int_bits, qmax=-self.frac_bits,
                       maxm_pos=2 ** mag - 1, maxm_neg=2 ** mag if self.signed else 0,
                       kind=KIND_FIXED, subnormals=1, ebits=0, bias=0, nbits=self.nbits,
                       signed=int(self.signed), zero=1, wrap=int(self.wraps))

    def describe_encoding(self) -> str:
        kind = "two's complement" if self.signed else "unsigned"
        return kind + (", wraps on overflow" if self.wraps else "")

    def __str__(self) -> str:
        return self.name
