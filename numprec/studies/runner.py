"""What every study does around its own work: check the settings level and seed, compute the
tables (resumable cells), write the report folder atomically, clear the cells; and the command
line of `python -m numprec.studies.NAME.study`."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..report.files import atomic_folder
from .cells import clear_cells


def settings_level(quick: bool, full: bool) -> str:
    if quick and full:
        raise ValueError("choose --quick or --full, not both")
    return "quick" if quick else "full" if full else "default"


def run_levels(out, settings: dict, compute, write_report, *, quick: bool, full: bool,
               seed: int, stream=None) -> Path:
    """compute(settings, out, seed, stream) -> tables, then write_report(tables, folder,
    settings, level, seed) into `out` atomically; returns the path of report.html."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    level = settings_level(quick, full)
    chosen = settings[level]
    Path(out).resolve().parent.mkdir(parents=True, exist_ok=True)  # fail before the work
    tables = compute(chosen, out, seed, stream)
    with atomic_folder(out) as folder:
        write_report(tables, folder, chosen, level, seed)
    clear_cells(out)
    return Path(out) / "report.html"


def study_main(name: str, doc: str, default_out: str, run_study, argv=None) -> int:
    """The command line of one study (what `numprec study NAME` also runs)."""
    parser = argparse.ArgumentParser(prog=f"numprec study {name}",
                                     description=doc.strip().splitlines()[0])
    parser.add_argument("--out", default=default_out, help=f"output folder (default "
                        f"{default_out})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--full", action="store_true", help="paper-quality sizes (longer; an "
                        "interrupted run resumes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = run_study(args.out, quick=args.quick, full=args.full, seed=args.seed)
    print(f"report written to {report} ({time.perf_counter() - start:.0f} s)")
    return 0


def command(kind: str) -> str:
    """The suffix of a report's command line for a settings level."""
    return {"quick": " --quick", "full": " --full"}.get(kind, "")


__all__ = ["run_levels", "study_main", "settings_level", "command"]
