"""`numprec report RUN... --out DIR`: the observation report of one or several training runs."""
from __future__ import annotations

import sys

HELP = ("write the observation report of training runs (report.html, self-contained; "
        "report.md; figures as PNG, SVG and PDF; plotted data as CSV)")


def add_arguments(parser) -> None:
    parser.add_argument("runs", metavar="RUN_DIR", nargs="+",
                        help="run directories written by `numprec train --out`")
    parser.add_argument("--out", required=True, help="report folder (replaced whole)")


def run(args, out=None) -> int:
    from ..report.run_report import write_run_report
    report = write_run_report(args.runs, args.out)
    print(f"report written to {report}", file=out or sys.stdout)
    return 0
