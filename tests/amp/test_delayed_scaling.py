"""FP8 delayed scaling: Transformer Engine's recipe (amax window, margin, keep-previous rules)."""
import math

import numpy as np
import pytest

import numprec
from numprec.amp import DelayedScaling, scale_from_amax


def f32(x):
    return float(np.float32(x))


def test_scale_formula_and_keep_previous_rules():
    assert scale_from_amax(3.0, 448.0) == f32(448.0 / 3.0)
    assert scale_from_amax(3.0, 448.0, margin=2) == f32(f32(448.0 / 3.0) / 4.0)
    for bad in (0.0, math.inf, math.nan):
        assert scale_from_amax(bad, 448.0, previous=7.0) == 7.0
    assert scale_from_amax(1e-45, 448.0, previous=5.0) == 5.0  # would overflow float32


def test_history_window_and_delayed_use():
    state = DelayedScaling("e4m3", history_len=3)
    assert state.scale == 1.0
    amaxes = [10.0, 2.0, 4.0, 1.0, 0.5]
    for step, amax in enumerate(amaxes):
        window = amaxes[max(0, step - 2):step + 1]
        state.record(amax)
        assert state.amax == max(window)
        assert state.scale == f32(448.0 / max(window))


def test_quantize_uses_the_scale_from_earlier_steps_then_records():
    state = DelayedScaling("e5m2", history_len=4)
    x = np.array([1000.0, -3.0, 0.001])
    first = state.quantize(x)  # scale 1.0: plain rounding, saturating at 57344
    np.testing.assert_array_equal(first, numprec.round(x, "e5m2", saturate=True))
    scale = f32(57344.0 / 1000.0)
    assert state.scale == scale
    second = state.quantize(x)
    expected = np.asarray(numprec.round(x * scale, "e5m2", saturate=True)) * f32(1.0 / scale)
    np.testing.assert_array_equal(second, expected)
    assert state.state_dict()["history"] == [1000.0, 1000.0]


def test_argument_checks():
    with pytest.raises(ValueError, match="history_len must be a positive int"):
        DelayedScaling(history_len=0)
    with pytest.raises(ValueError, match="unknown format"):
        DelayedScaling("fp7")
