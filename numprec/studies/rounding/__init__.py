"""The rounding study (`numprec study rounding`): relative error against magnitude, stagnation of
running sums, and the bias of each rounding mode.

    study        the study: sizes, sections of the report, run_study, main
    experiments  the measurements, as tidy tables
    figures      one function per figure
"""
from .study import FIGURES, main, run_study

__all__ = ["FIGURES", "main", "run_study"]
