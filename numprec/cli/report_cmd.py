"""`numprec report`: run the demo rounding study (`numprec study rounding`) and write its report."""
from __future__ import annotations

from .study_cmd import add_study_options, run_study

HELP = "run the demo rounding study (report.md + figures + CSV)"
DEFAULT_OUT = "reports/study_rounding"


def add_arguments(parser) -> None:
    add_study_options(parser, default_out=DEFAULT_OUT)


def run(args, out=None) -> int:
    return run_study("rounding", args.out, args.quick, args.seed, out)
