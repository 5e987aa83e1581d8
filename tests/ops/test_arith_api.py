"""The public element-wise ops: IEEE special cases and signed zeros, broadcasting and shapes,
flags, and bad input."""
import numpy as np
import pytest

import numprec
from numprec.ops.arith import entry_point
from numprec.testing import assert_bits_equal
from test_arith_reference import reference_op

SPECIALS = [0.0, -0.0, 1.0, -1.0, 3.0, np.inf, -np.inf, np.nan, 5e-324, 1.7976931348623157e308]
OPS = {"add": 2, "sub": 2, "mul": 2, "div": 2, "sqrt": 1, "fma": 3}


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("fmt", ["fp16", "fp8_e4m3fn", "fp8_e4m3fnuz", "fp4_e2m1fn", "q3.4"])
def test_special_operands_follow_ieee(op, fmt):
    """Every combination of special operands: invalid, divbyzero, infinities into formats with
    and without them, NaN propagation, and the sign of every zero, in every direction."""
    grids = np.meshgrid(*[SPECIALS] * OPS[op], indexing="ij")
    args = [np.ascontiguousarray(g.ravel()) for g in grids]
    for mode in ("rne", "rdn", "rup", "rtz"):
        got = getattr(numprec, op)(*args, fmt, mode)
        expected = [reference_op(op, tuple(float(a[i]) for a in args), fmt, mode)[0]
                    for i in range(args[0].size)]
        assert_bits_equal(got, expected, None, f"{op} {fmt} {mode}")


def test_signed_zeros():
    assert np.signbit(numprec.add(-0.0, -0.0, "fp16"))
    assert not np.signbit(numprec.add(-0.0, 0.0, "fp16"))
    assert np.signbit(numprec.add(-0.0, 0.0, "fp16", "rdn"))
    assert not np.signbit(numprec.sub(1.5, 1.5, "fp16"))
    assert np.signbit(numprec.sub(1.5, 1.5, "fp16", "rdn"))
    assert np.signbit(numprec.mul(-2.0, 0.0, "fp16"))
    assert np.signbit(numprec.div(0.0, -3.0, "fp16"))
    assert np.signbit(numprec.sqrt(-0.0, "fp16"))
    assert np.signbit(numprec.mul(-1e-10, 1e-10, "fp16"))  # underflows to -0
    assert not np.signbit(numprec.mul(-1e-10, 1e-10, "fp8_e4m3fnuz"))  # fnuz has no -0
    assert not np.signbit(numprec.fma(2.0, 3.0, -6.0, "fp16"))
    assert np.signbit(numprec.fma(-0.0, 3.0, -0.0, "fp16"))


def test_flags_of_exceptional_results():
    flags = numprec.Flags()
    numprec.div([1.0, 0.0, -2.0, 1.0], [0.0, 0.0, 0.0, 3.0], "fp16", flags=flags)
    assert flags.as_dict() == {"inexact": 1, "underflow": 0, "overflow": 0, "invalid": 1,
                               "divbyzero": 2, "saturated": 0, "flushed": 0}
    flags.reset()
    numprec.sub([np.inf, np.nan], [np.inf, 1.0], "fp16", flags=flags)
    assert flags.invalid == 1 and flags.inexact == 0
    flags.reset()
    numprec.mul(300.0, 300.0, "fp16", saturate=True, flags=flags)
    assert (flags.overflow, flags.saturated, flags.inexact) == (1, 1, 1)
    flags.reset()
    numprec.mul(2.0 ** -7, 2.0 ** -10, "fp16", ftz=True, flags=flags)  # exact, subnormal
    assert (flags.flushed, flags.underflow, flags.inexact) == (1, 1, 1)
    flags.reset()
    numprec.sqrt(-1.0, "bf16", flags=flags)
    assert flags.invalid == 1


def test_double_rounding_is_avoided():
    """Cases where rounding the float64 result again gives the wrong answer."""
    # fma: the product sits on an fp16 midpoint, c is far below it (float64 loses c)
    assert numprec.fma(1.0 + 2 ** -11, 1.0, 2 ** -60, "fp16") == 1.0 + 2 ** -10
    assert numprec.fma(1.0 + 2 ** -11, 1.0, -(2 ** -60), "fp16") == 1.0
    # add in rtz: a tiny negative addend takes 1.0 below 1.0
    assert numprec.add(1.0, -(2 ** -80), "fp16", "rtz") == 1.0 - 2 ** -11
    # directed division brackets the exact quotient with the two fp32 neighbours
    up, down = numprec.div(1.0, 3.0, "fp32", "rup"), numprec.div(1.0, 3.0, "fp32", "rdn")
    assert down < 1 / 3 < up and np.nextafter(np.float32(down), 1) == np.float32(up)


def test_broadcasting_shapes_and_scalars():
    a = np.arange(6.0).reshape(2, 3)
    assert numprec.add(a, 1.0, "fp32").shape == (2, 3)
    assert numprec.fma(a, np.ones((4, 1, 1)), [1.0, 2.0, 3.0], "fp32").shape == (4, 2, 3)
    assert isinstance(numprec.mul(2.0, 3.0, "fp16"), np.float64)
    assert numprec.sqrt([], "fp16").shape == (0,)
    assert numprec.add(np.float32(1.5), np.int8(2), "fp16") == 3.5
    with pytest.raises(ValueError, match=r"add: operand shapes do not broadcast: a \(2, 3\) "
                                         r"and b \(4,\)"):
        numprec.add(a, np.ones(4), "fp32")


def test_bad_input():
    with pytest.raises(ValueError, match="invalid rounding mode 'up'"):
        numprec.add(1.0, 2.0, "fp16", "up")
    with pytest.raises(ValueError, match="unknown format 'fp7'"):
        numprec.mul(1.0, 2.0, "fp7")
    with pytest.raises(TypeError, match="complex"):
        numprec.div(1j, 2.0, "fp16")
    with pytest.raises(ValueError, match="rbits=4 only applies to mode 'sr'"):
        numprec.sqrt(2.0, "fp16", rbits=4)
    with pytest.raises(TypeError, match="flags must be a numprec.Flags"):
        numprec.fma(1.0, 2.0, 3.0, "fp16", flags={})
    with pytest.raises(TypeError, match="seed must be an int"):
        numprec.add(1.0, 2.0, "fp16", "sr", seed="x")


def test_a_kernel_set_without_the_arithmetic_entry_points_says_so():
    class Partial:
        name = "gpu"
    with pytest.raises(NotImplementedError, match="backend 'gpu' has no fma_into kernel"):
        entry_point(Partial(), "fma_into")
