"""`numprec bench`: the rounding benchmark (analysis/bench_rounding.py), loaded only when asked."""
from __future__ import annotations

import importlib

from .errors import CommandError

HELP = "run the rounding benchmark (arguments go to analysis/bench_rounding.py)"


def add_arguments(parser) -> None:
    parser.add_argument("bench_args", nargs="*", metavar="ARG",
                        help="passed on to the benchmark (see: numprec bench --help)")


def run_forwarded(argv: list[str]) -> int:
    """Hand every argument after `bench` to the benchmark's own main(argv)."""
    try:
        bench_rounding = importlib.import_module("analysis.bench_rounding")
    except ModuleNotFoundError as err:
        if err.name in ("analysis", "analysis.bench_rounding"):
            raise CommandError("the rounding benchmark (analysis/bench_rounding.py) is not "
                               "available; run from the numprec source tree") from None
        raise CommandError(f"the rounding benchmark needs {err.name!r}: "
                           "pip install -e '.[bench]'") from None
    code = bench_rounding.main(argv)
    return int(code or 0)
