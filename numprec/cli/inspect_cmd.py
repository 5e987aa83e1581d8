"""`numprec inspect`: one value in one format, bit by bit, under every rounding mode."""
from __future__ import annotations

import math
import sys
from fractions import Fraction

from ..formats import get_format
from ..codes import MODES, SR_MAX_BITS
from ..ops import Flags, decode, encode, round as np_round
from . import inspect_facts as facts
from .table import render
from .values import VALUE_SYNTAX, exact, parse_bits, parse_value, short

HELP = "show a value's bit pattern, neighbours and result under every rounding mode"
DETERMINISTIC_MODES = tuple(m for m in MODES if m != "sr")


def add_arguments(parser) -> None:
    parser.add_argument("value", nargs="?", help=f"the value to round: {VALUE_SYNTAX}")
    parser.add_argument("--format", "-f", required=True, help="format name (numprec formats)")
    parser.add_argument("--bits", help="inspect a bit pattern of the format instead (0x3c00)")
    parser.add_argument("--mode", default="rne",
                        help=f"mode of the headline result: {', '.join(MODES)} (default rne)")
    parser.add_argument("--saturate", action="store_true", help="clamp overflow to +-max")
    parser.add_argument("--ftz", action="store_true", help="flush subnormal results to zero")
    parser.add_argument("--seed", type=int, default=0, help="seed of --mode sr (default 0)")
    parser.add_argument("--rbits", type=int, default=SR_MAX_BITS,
                        help=f"random bits of stochastic rounding (default {SR_MAX_BITS})")


def protect_negative_values(argv: list[str]) -> list[str]:
    """argparse takes '-inf', '-1e-5' or '-0x1p3' for options; a leading space keeps them values
    (parse_value strips it)."""
    def looks_negative(token):
        body = token[1:].lower()
        return token.startswith("-") and (body[:1] in set("0123456789.")
                                          or body.startswith(("inf", "nan")))
    return [" " + t if looks_negative(t) else t for t in argv]


def _compact(value: float) -> str:
    """Shortest text that reads back as exactly this float64 (integers without '.0')."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return "-0" if value == 0 and math.copysign(1, value) < 0 else str(int(value))
    return repr(value)


def _pattern(value: float, fmt):
    try:
        return int(encode(value, fmt))
    except ValueError:  # NaN in a format with no NaN pattern
        return None


def _error_text(result: float, x: float, ulp: Fraction | None) -> str:
    if math.isnan(result):
        return "nan"
    if math.isinf(result):
        return "inf" if result > 0 else "-inf"
    if not math.isfinite(x):
        return ""
    error = Fraction(result) - Fraction(x)
    text = f"{float(error):.6g}"
    if ulp and error:
        text += f" ({float(error / ulp):+.4g} ulp)"
    return text


def _flag_names(flags: Flags) -> str:
    return ", ".join(name for name, count in flags.as_dict().items() if count) or "-"


def _value_with_bits(value, fmt) -> str:
    if value is None:
        return "none"
    pattern = _pattern(value, fmt)
    bits = facts.hex_pattern(pattern, fmt.nbits) if pattern is not None else "no pattern"
    return f"{exact(value)} ({bits})"


def _describe_format(fmt) -> str:
    if fmt.is_fixed:
        return (f"{fmt.name}: {fmt.nbits} bits, {fmt.describe_encoding()}, "
                f"step 2^-{fmt.frac_bits}, range [{short(fmt.min)}, {short(fmt.max)}]")
    return (f"{fmt.name}: {fmt.nbits} bits = 1 sign + {fmt.ebits} exponent + {fmt.mbits} mantissa, "
            f"bias {fmt.bias}; max {short(fmt.max)}, min normal {short(fmt.min_normal)}, "
            f"min subnormal {short(fmt.min_subnormal)}; {fmt.describe_encoding()}")


def _neighbour_lines(fmt, x: float):
    """Neighbours and the ulp at x, or nothing for inf/NaN."""
    if not math.isfinite(x):
        return [], None
    lo, hi = facts.bracket(fmt, x)
    sign = -1 if x < 0 else 1
    if lo == hi:  # x is representable
        below, above = facts.adjacent(fmt, x)
        ulp = facts.quantum(fmt, Fraction(abs(x))) if x else Fraction(fmt.min_subnormal)
        line = (f"{_value_with_bits(below, fmt)}  <  x  <  {_value_with_bits(above, fmt)}"
                "   (x is representable)")
        return [("neighbours", line)], ulp
    ends = sorted([sign * lo, sign * hi])
    shown = []
    for end in ends:
        if abs(end) > facts.side_max(fmt, x < 0):
            shown.append(f"{exact(float(end))} (one step past the largest value: overflows)")
        else:
            shown.append(_value_with_bits(float(end), fmt))
    return [("neighbours", f"{shown[0]}  <  x  <  {shown[1]}")], hi - lo


def describe(fmt, x: float, *, given_bits=None, inexact_text=None, mode="rne", saturate=False,
             ftz=False, seed=0, rbits=SR_MAX_BITS) -> str:
    """The full inspection text."""
    options = dict(saturate=saturate, ftz=ftz)
    head_flags = Flags()
    sr_options = dict(seed=seed, rbits=rbits) if mode == "sr" else {}
    result = float(np_round(x, fmt, mode, flags=head_flags, **options, **sr_options))
    lines = []
    if given_bits is not None:
        lines.append(("bits in", f"{facts.hex_pattern(given_bits, fmt.nbits)} decodes to "
                                 f"{exact(x)}"))
    elif inexact_text is not None:
        lines.append(("input", f"{inexact_text.strip()} is not a float64; numprec rounds the "
                               "nearest float64:"))
    if math.isfinite(x):
        lines.append(("x", f"{exact(x)} = {x.hex()}"))
    else:
        lines.append(("x", short(x)))
    lines.append(("format", _describe_format(fmt)))
    neighbour_lines, ulp = _neighbour_lines(fmt, x)
    lines += neighbour_lines
    if ulp is not None:
        ulp_short, ulp_exact = short(float(ulp)), exact(float(ulp))
        lines.append(("ulp", ulp_exact if ulp_short == ulp_exact else f"{ulp_short} = {ulp_exact}"))
    pattern = given_bits if given_bits is not None else _pattern(result, fmt)
    lines.append((f"{mode} result", exact(result)))
    if pattern is None:
        lines.append(("bits", f"none: {fmt.name} has no NaN pattern"))
    else:
        parts, meaning = facts.fields(fmt, pattern)
        names = " | ".join(name for name, _ in parts)
        lines.append(("bits", " | ".join(bits for _, bits in parts)
                      + f"  = {facts.hex_pattern(pattern, fmt.nbits)}   ({names})"))
        lines.append(("", meaning))
    lines.append(("flags", _flag_names(head_flags)))
    width = max(len(label) for label, _ in lines)
    text = "\n".join(f"{label:<{width}}  {value}".rstrip() for label, value in lines)
    return text + "\n\n" + _mode_table(fmt, x, ulp, options, rbits)


def _mode_table(fmt, x, ulp, options, rbits) -> str:
    rows = []
    for mode in DETERMINISTIC_MODES:
        flags = Flags()
        value = float(np_round(x, fmt, mode, flags=flags, **options))
        pattern = _pattern(value, fmt)
        bits = facts.hex_pattern(pattern, fmt.nbits) if pattern is not None else "-"
        rows.append([mode, _compact(value), bits, _error_text(value, x, ulp), _flag_names(flags)])
    note = ""
    if math.isfinite(x):
        p_up = facts.sr_probability(fmt, x, rbits)
        if facts.bracket(fmt, x)[0] == facts.bracket(fmt, x)[1]:
            note = "sr: x is representable, so stochastic rounding returns it exactly."
        else:
            toward = float(np_round(x, fmt, "rtz", **options))
            away = float(np_round(x, fmt, "rup" if x > 0 else "rdn", **options))
            for prob, value in ((1 - p_up, toward), (p_up, away)):
                pattern = _pattern(value, fmt)
                bits = facts.hex_pattern(pattern, fmt.nbits) if pattern is not None else "-"
                rows.append([f"sr p={float(prob):.6g}", _compact(value), bits,
                             _error_text(value, x, ulp), ""])
            note = (f"sr: rounds away from zero with probability floor(frac * 2^{rbits}) / "
                    f"2^{rbits} = {float(p_up):.10g}, frac = (|x| - lo) / (hi - lo).")
    table = render(["mode", "result", "bits", "error (result - x)", "flags"], rows, "llrrl")
    return table + ("\n" + note if note else "")


def run(args, out=None) -> int:
    out = out or sys.stdout
    fmt = get_format(args.format)
    if args.mode not in MODES:
        raise ValueError(f"invalid rounding mode {args.mode!r}; valid modes: {', '.join(MODES)}")
    if not 1 <= args.rbits <= SR_MAX_BITS:
        raise ValueError(f"--rbits {args.rbits} is out of range; valid: 1..{SR_MAX_BITS}")
    if (args.value is None) == (args.bits is None):
        raise ValueError("inspect takes either a VALUE or --bits PATTERN (exactly one)")
    inexact_text, given_bits = None, None
    if args.bits is not None:
        given_bits = parse_bits(args.bits, fmt.nbits, fmt.name)
        x = float(decode(given_bits, fmt))
    else:
        x, exact_input = parse_value(args.value)
        inexact_text = args.value if exact_input is not None else None
    print(describe(fmt, x, given_bits=given_bits, inexact_text=inexact_text, mode=args.mode,
                   saturate=args.saturate, ftz=args.ftz, seed=args.seed, rbits=args.rbits),
          file=out)
    return 0
