"""The update-stagnation study (`numprec study update-stagnation`): rne against sr weight
updates in bf16 and fp16 storage, with and without fp32 master weights.

    study        settings, the report's sections, run_study, main
    experiments  the training runs and their tables
    figures      one function per figure
"""
from .study import main, run_study

__all__ = ["main", "run_study"]
