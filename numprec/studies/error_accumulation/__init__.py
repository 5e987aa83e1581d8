"""The error-accumulation study (`numprec study error-accumulation`): error of sum, dot and
matmul against length for formats x orders x rounding modes, against gamma_n and
lambda*sqrt(n)*u; stagnation of the harmonic series.

    study        settings, the report's sections, run_study, main
    experiments  the measurements, as tidy tables
    figures      one function per figure
"""
from .study import main, run_study

__all__ = ["main", "run_study"]
