"""The loss-scaling study (`numprec study loss-scaling`): static scales and the dynamic scaler
on a deep sigmoid MLP under fp16-amp, against fp32.

    study        settings, the report's sections, run_study, main
    experiments  the training runs and their tables
    figures      one function per figure
"""
from .study import main, run_study

__all__ = ["main", "run_study"]
