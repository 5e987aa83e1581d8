"""The vanishing-gradients study (`numprec study vanishing-gradients`): per-layer gradient norm,
zero fraction and underflow in an 8-20 layer sigmoid/tanh MLP under fp32, fp16, bf16 and fp8.

    study        settings, the report's sections, run_study, main
    experiments  the training runs and their tables
    figures      one function per figure
"""
from .study import main, run_study

__all__ = ["main", "run_study"]
