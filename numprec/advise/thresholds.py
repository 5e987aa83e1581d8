"""When a monitored statistic counts as information lost: the advisor's thresholds (light: the
command line's help reads their defaults without loading pandas or the engine)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Thresholds:
    """When a statistic counts as information lost (each settable: numprec advise --help)."""
    underflow: float = 0.01    # underflow_frac: elements flushed to zero, per element
    overflow: float = 0.0      # overflow_frac + saturated_frac: any is too many
    stagnation: float = 0.10   # stagnation_frac of a weight's update
    shadow_error: float = 1e-2  # the float64 shadow's relative error of an op
    margin_bits: int = 1       # a suggested loss scale leaves 2^margin below the max

    def check(self) -> "Thresholds":
        for name, value in asdict(self).items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"threshold {name} must be a non-negative number, got {value!r}")
        return self
