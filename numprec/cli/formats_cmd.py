"""`numprec formats`: every registered format with its derived limits."""
from __future__ import annotations

import csv
import sys

from ..formats import format_names, get_format
from .table import render
from .values import power_of_two, short

HELP = "list the registered formats and their limits"
COLUMNS = ("name", "bits", "ebits", "mbits", "bias", "max", "min_normal", "min_subnormal", "eps",
           "u", "encoding")
FIXED_POINT_NOTE = ("fixed point: qM.N (signed two's complement, 1+M+N bits, step 2^-N, range "
                    "[-2^M, 2^M - 2^-N]), uqM.N unsigned; int8 = q7.0")


def add_arguments(parser) -> None:
    parser.add_argument("--csv", action="store_true",
                        help="write comma-separated values with exact (round-trip) numbers")


def format_rows(exact: bool) -> list[list]:
    """One row per registered format; numbers as shortest round-trip reprs when exact."""
    show = repr if exact else short
    show_pow2 = repr if exact else power_of_two  # these limits are always powers of two
    rows = []
    for name in format_names():
        fmt = get_format(name)
        min_sub = show_pow2(fmt.min_subnormal) if fmt.subnormals else "none"
        rows.append([fmt.name, fmt.nbits, fmt.ebits, fmt.mbits, fmt.bias, show(fmt.max),
                     show_pow2(fmt.min_normal), min_sub, show_pow2(fmt.eps), show_pow2(fmt.u),
                     fmt.describe_encoding()])
    return rows


def run(args, out=None) -> int:
    out = out or sys.stdout
    if args.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(format_rows(exact=True))
        return 0
    headers = ["name", "bits", "ebits", "mbits", "bias", "max", "min normal", "min subnormal",
               "eps", "u", "inf / NaN"]
    print(render(headers, format_rows(exact=False), align="lrrrrrrrrrl"), file=out)
    print(f"\n{FIXED_POINT_NOTE}", file=out)
    print("eps = 2^-mbits (spacing above 1); u = 2^-(mbits+1) (unit roundoff)", file=out)
    return 0
