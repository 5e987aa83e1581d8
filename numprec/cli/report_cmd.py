"""`numprec report`: run the demo rounding study and write its report."""
from __future__ import annotations

import importlib
import sys

from .errors import CommandError

HELP = "run the demo rounding study (report.md + figures + CSV)"
DEFAULT_OUT = "reports/study_rounding"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")


def run(args, out=None) -> int:
    out = out or sys.stdout
    try:
        study_rounding = importlib.import_module("analysis.study_rounding")
    except ModuleNotFoundError as err:
        if err.name not in ("analysis", "analysis.study_rounding"):
            raise
        raise CommandError("the demo study (analysis/study_rounding.py) is not installed; "
                           "run from the numprec source tree or `pip install -e .`") from None
    report = study_rounding.run_study(args.out, quick=args.quick, seed=args.seed)
    print(f"report written to {report}", file=out)
    return 0
