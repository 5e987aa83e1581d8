"""The events the kernels count besides the IEEE flags: results zeroed (a nonzero exact value that
became zero) and subnormal results, on the public ops, against values worked out by hand (the
exhaustive sweeps check them on every input class of every small format)."""
import numpy as np
import pytest

import numprec


def _events(call):
    flags = numprec.Flags()
    call(flags)
    return flags.events()


def test_rounding_counts_values_rounded_to_zero_and_subnormal_results():
    # fp16: min subnormal 2^-24, min normal 2^-14
    x = np.array([2.0**-26, -2.0**-30, 2.0**-20, 3 * 2.0**-16, 1.0, 0.0, -0.0, np.nan, np.inf])
    assert _events(lambda f: numprec.round(x, "fp16", flags=f)) == {
        "zeroed": 2, "subnormal": 2, "swamped": 0}
    # ftz flushes the subnormals to zero: they count as zeroed, and none stays subnormal
    assert _events(lambda f: numprec.round(x, "fp16", ftz=True, flags=f)) == {
        "zeroed": 4, "subnormal": 0, "swamped": 0}
    # rounding up keeps the tiny values nonzero (subnormal), rounding toward zero zeroes them
    assert _events(lambda f: numprec.round(x[:2], "fp16", "rup", flags=f)) == {
        "zeroed": 1, "subnormal": 1, "swamped": 0}


def test_fixed_point_zeroes_but_has_no_subnormals_and_clamping_is_not_zeroing():
    x = np.array([0.01, -0.01, 0.5, 0.03])  # q3.4: step 1/16
    assert _events(lambda f: numprec.round(x, "q3.4", flags=f)) == {
        "zeroed": 3, "subnormal": 0, "swamped": 0}
    flags = numprec.Flags()
    assert numprec.round(np.array([-2.0]), "uq3.4", flags=flags).tolist() == [0.0]
    assert flags.saturated == 1 and flags.zeroed == 0


def test_arithmetic_and_reductions_count_events():
    tiny = 2.0**-14  # fp16 min normal
    assert _events(lambda f: numprec.mul([tiny, tiny], [2.0**-11, 0.5], "fp16", flags=f)) == {
        "zeroed": 1, "subnormal": 1, "swamped": 0}
    assert _events(lambda f: numprec.sub([tiny * 1.5], [tiny], "fp16", flags=f)) == {
        "zeroed": 0, "subnormal": 1, "swamped": 0}
    # each output element whose computation had a subnormal step, as the flags are counted
    rows = np.array([[tiny, -tiny * 0.75], [1.0, 1.0]])
    assert _events(lambda f: numprec.sum(rows, "fp16", flags=f)) == {
        "zeroed": 0, "subnormal": 1, "swamped": 0}


def test_flags_show_only_the_ieee_flags_and_refuse_bad_counts():
    flags = numprec.Flags()
    numprec.round([2.0**-26], "fp16", flags=flags)
    assert flags.as_dict()["underflow"] == 1 and "zeroed" not in flags.as_dict()
    assert repr(flags) == "Flags(inexact=1, underflow=1)"
    assert flags.zeroed == 1
    flags.reset()
    assert flags.events() == {"zeroed": 0, "subnormal": 0, "swamped": 0}
    with pytest.raises(ValueError, match="Flags.add takes 7 flag counts or 10 counts"):
        flags.add([1, 2, 3])
