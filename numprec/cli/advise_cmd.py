"""`numprec advise RUN_DIR`: where a monitored run's policy loses information, and the cheapest
change that addresses each finding (printed, and written to RUN_DIR/advice.json)."""
from __future__ import annotations

import sys

HELP = ("where a monitored run's policy loses information (underflow, overflow, stagnation, "
        "shadow error) and the cheapest fix for each; writes RUN_DIR/advice.json")


def add_arguments(parser) -> None:
    from ..advise.thresholds import Thresholds
    defaults = Thresholds()
    parser.add_argument("run", metavar="RUN_DIR", help="a run directory written by "
                        "`numprec train --monitor --out`")
    parser.add_argument("--underflow", type=float, default=defaults.underflow,
                        help=f"underflow_frac threshold (default {defaults.underflow:g})")
    parser.add_argument("--overflow", type=float, default=defaults.overflow,
                        help=f"overflow_frac + saturated_frac threshold (default "
                             f"{defaults.overflow:g}: any)")
    parser.add_argument("--stagnation", type=float, default=defaults.stagnation,
                        help=f"stagnation_frac threshold (default {defaults.stagnation:g})")
    parser.add_argument("--shadow-error", type=float, default=defaults.shadow_error,
                        help=f"shadow rel_error threshold (default {defaults.shadow_error:g})")


def run(args, out=None) -> int:
    from ..advise import Thresholds, advice_lines, advise
    thresholds = Thresholds(underflow=args.underflow, overflow=args.overflow,
                            stagnation=args.stagnation, shadow_error=args.shadow_error)
    advice = advise(args.run, thresholds)
    stream = out or sys.stdout
    for line in advice_lines(advice):
        print(line, file=stream)
    return 0
