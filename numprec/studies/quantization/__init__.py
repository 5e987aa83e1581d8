"""The quantization study (`numprec study quantization`): accuracy against bit width (PTQ and
QAT; integer per tensor and per channel, MX and NVFP4 blocks), against sparsity alone and with
int8, and per-layer sensitivity, on the digits MLP and the small CNN.

    study        settings, the report's sections, run_study, main
    experiments  the training runs, the post-training evaluations and their tables
    figures      one function per figure
"""
from .study import main, run_study

__all__ = ["main", "run_study"]
