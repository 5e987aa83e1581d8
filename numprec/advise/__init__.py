"""The precision advisor (`numprec advise RUN_DIR`): from a run's monitor tables and float64
shadow, per layer, where the policy loses information and the cheapest change that fixes it.

    rules   thresholds, findings and the ordered suggestions
    advice  a run directory's advice (advice.json) and its text
"""
from .advice import SCHEMA, advice_lines, advise
from .rules import Thresholds

__all__ = ["advise", "advice_lines", "Thresholds", "SCHEMA"]
