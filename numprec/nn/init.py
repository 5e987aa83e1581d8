"""Parameter initialisation (PyTorch's defaults), drawn from numprec.manual_seed's generator."""
from __future__ import annotations

import math

import numpy as np

from ..policy.streams import generator


def uniform(shape, bound: float) -> np.ndarray:
    """U(-bound, bound): PyTorch's default for Linear/Conv weights and biases with
    bound = 1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5))."""
    return generator().uniform(-bound, bound, size=shape)


def fan_in_bound(fan_in: int) -> float:
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def normal(shape, std: float = 1.0) -> np.ndarray:
    return generator().normal(0.0, std, size=shape)
