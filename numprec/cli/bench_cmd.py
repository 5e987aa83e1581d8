"""`numprec bench [NAME] [ARGS]`: run a benchmark of numprec.studies.bench (rounding by default),
loaded only when asked; every argument after NAME goes to the benchmark."""
from __future__ import annotations

import importlib

from ..studies.bench import BENCHMARKS
from .errors import CommandError

HELP = (f"run a benchmark ({', '.join(BENCHMARKS)}; default rounding) and write its results "
        "to reports/; arguments after the name go to it (numprec bench NAME --help)")
DEFAULT = "rounding"


def add_arguments(parser) -> None:
    parser.add_argument("bench_args", nargs="*", metavar="ARG",
                        help="a benchmark name, then the benchmark's own arguments")


def split_name(argv: list[str]) -> tuple[str, list[str]]:
    """(benchmark name, its arguments): the first argument names it unless it is an option."""
    if argv and not argv[0].startswith("-"):
        return argv[0], argv[1:]
    return DEFAULT, argv


def run_forwarded(argv: list[str]) -> int:
    """Hand every argument after the name to the benchmark's own main(argv)."""
    name, rest = split_name(argv)
    if name not in BENCHMARKS:
        raise CommandError(f"unknown benchmark {name!r}; valid benchmarks: "
                           f"{', '.join(BENCHMARKS)}")
    try:
        module = importlib.import_module(BENCHMARKS[name])
    except ModuleNotFoundError as err:
        raise CommandError(f"the {name} benchmark needs {err.name!r}: pip install "
                           "'numprec[bench]' (or pip install -e '.[bench]' in a checkout)") from None
    return int(module.main(rest) or 0)
