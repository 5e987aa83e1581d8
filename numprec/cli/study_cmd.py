"""`numprec study NAME`: run a study of numprec.studies and write its report folder."""
from __future__ import annotations

import sys

from ..studies import STUDIES, load_study

HELP = (f"run a study ({', '.join(STUDIES)}) and write its data, figures and report.md into "
        "--out (default reports/study_NAME)")


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", help=f"the study: {', '.join(STUDIES)}")
    add_study_options(parser, default_out=None)


def add_study_options(parser, default_out) -> None:
    where = f"default {default_out}" if default_out else "default reports/study_NAME"
    parser.add_argument("--out", default=default_out, help=f"output folder ({where})")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    sizes.add_argument("--full", action="store_true",
                       help="paper-quality sizes (longer; an interrupted run resumes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")


def run_study(name: str, out, quick: bool, seed: int, stream=None, full: bool = False) -> int:
    """Run study `name` into `out` (reports/study_NAME when None) and say where it wrote."""
    module = load_study(name)
    folder = out or f"reports/study_{name.replace('-', '_')}"
    report = module.run_study(folder, quick=quick, full=full, seed=seed)
    print(f"report written to {report}", file=stream or sys.stdout)
    return 0


def run(args, out=None) -> int:
    return run_study(args.name, args.out, args.quick, args.seed, out,
                     full=getattr(args, "full", False))
