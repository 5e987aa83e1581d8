"""The precision advisor (`numprec advise RUN_DIR`): from a run's monitor tables and float64
shadow, per layer, where the policy loses information and the cheapest change that fixes it.

    rules   thresholds, findings and the ordered suggestions
    advice  a run directory's advice (advice.json) and its text
"""
from .thresholds import Thresholds

_FROM_ADVICE = ("SCHEMA", "advice_lines", "advise")  # these load pandas and the engine: on use


def __getattr__(name):
    if name in _FROM_ADVICE:
        from . import advice
        return getattr(advice, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["advise", "advice_lines", "Thresholds", "SCHEMA"]
