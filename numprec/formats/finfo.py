"""`finfo`: a float format's limits under the field names of numpy.finfo and ml_dtypes.finfo, so
code written for those works on any numprec float format (values are Python floats, each exactly
representable in the format).

Every field is derived from the descriptor. Two follow numpy's definitions where ml_dtypes
hand-sets other values: `precision` is int(-log10(eps)) and `resolution` is 10**-precision rounded
to the format (ml_dtypes sets precision 1 for its 8-bit formats, where that rule gives 0). `epsneg`
is 1 minus the largest value below 1, as in both: 2^-(mbits+1) when 1 lies above the smallest
normal number, the subnormal spacing when 1 is the smallest normal (fp6_e2m3fn, fp4_e2m1fn).
`min` is -max, except in an unsigned format (signed=False), whose min is its smallest value: 0, or
2^-127 in E8M0 (fp8_e8m0fnu, as ml_dtypes.finfo(float8_e8m0fnu).min), which has no zero.
Fixed-point formats have no finfo, as numpy.finfo(int) has none.
"""
from __future__ import annotations

import math
from fractions import Fraction

from .descriptor import FixedPoint
from .registry import get_format

FIELDS = ("bits", "eps", "epsneg", "max", "min", "tiny", "smallest_normal", "smallest_subnormal",
          "nmant", "nexp", "iexp", "maxexp", "minexp", "machep", "negep", "precision",
          "resolution")


def _round_nearest_even(x: float, fmt) -> float:
    """Positive x rounded to fmt, nearest-even (pure Python: finfo loads no kernel)."""
    exponent = max(math.frexp(x)[1] - 1, fmt.emin)
    quantum = Fraction(2) ** (exponent - fmt.mbits)
    return float(round(Fraction(x) / quantum) * quantum)  # round(): ties to even


def _largest_below_one(fmt) -> float:
    """The largest value of fmt below 1 (0 when there is none)."""
    if fmt.emin < 0:  # 1 is normal, its predecessor lies in the binade below
        return 1.0 - math.ldexp(1.0, -fmt.mbits - 1)
    if not fmt.subnormals:
        return 0.0
    step = Fraction(2) ** (fmt.emin - fmt.mbits)  # subnormal spacing
    return float((math.ceil(1 / step) - 1) * step)


class finfo:
    """Machine limits of a numprec float format (numpy.finfo's fields); `format` is the
    descriptor and `name` its name."""

    def __init__(self, fmt):
        fmt = get_format(fmt)
        if isinstance(fmt, FixedPoint):
            raise TypeError(f"finfo: {fmt.name} is a fixed-point format, not a floating-point "
                            "one (as numpy.finfo(int) refuses integers); its limits are "
                            f"get_format({fmt.name!r}).max, .min and .resolution")
        self.format, self.name = fmt, fmt.name
        self.bits = fmt.nbits
        self.nmant, self.nexp, self.iexp = fmt.mbits, fmt.ebits, fmt.ebits
        self.maxexp, self.minexp = fmt.emax + 1, fmt.emin
        self.eps, self.machep = fmt.eps, -fmt.mbits
        self.epsneg = 1.0 - _largest_below_one(fmt)
        self.negep = math.frexp(self.epsneg)[1] - 1
        self.max, self.min = fmt.max, fmt.min  # an unsigned format's min is its smallest value
        self.tiny = self.smallest_normal = fmt.min_normal
        self.smallest_subnormal = fmt.min_subnormal
        self.precision = int(-math.log10(self.eps))
        self.resolution = _round_nearest_even(10.0 ** -self.precision, fmt)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution!r}, min={self.min!r}, max={self.max!r}, "
                f"format={self.name})")
