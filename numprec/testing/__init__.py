"""Testing aids shipped with numprec: an exact reference oracle, a vectorized table oracle for
exhaustive sweeps of small formats, the exact MX block reference (numprec.testing.blocks), and
public hypothesis strategies.

The oracle needs only the standard library; the strategies need hypothesis, so they are imported
on first use (`numprec.testing.strategies`, or any strategy name from this package).
"""
import importlib

from .oracle import (EVENT_NAMES, FLAG_NAMES, MODES, limits_of, reference_decode,
                     reference_encode, reference_events, reference_round, representable_values)
from .table import TableOracle, exhaustive_inputs
from .compare import (assert_bits_equal, assert_flags_per_element, bits_of, event_flags,
                      flag_counts)
from .blocks import reference_mx_block, reference_mx_decode, reference_shared_exponent

_STRATEGIES = ("bit_patterns", "values", "ties", "near_ties", "subnormal_boundary",
               "overflow_boundary", "raw_float64s", "float64s_for", "formats", "fixed_points",
               "quantizer_params", "mx_edge_blocks")


def __getattr__(name):
    if name == "strategies" or name in _STRATEGIES:
        strategies = importlib.import_module(".strategies", __name__)
        return strategies if name == "strategies" else getattr(strategies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["reference_round", "reference_encode", "reference_decode", "reference_events",
           "representable_values", "limits_of", "TableOracle", "exhaustive_inputs", "MODES",
           "FLAG_NAMES", "EVENT_NAMES", "strategies", "assert_bits_equal",
           "assert_flags_per_element", "bits_of", "event_flags", "flag_counts",
           "reference_mx_block", "reference_mx_decode", "reference_shared_exponent",
           *_STRATEGIES]
