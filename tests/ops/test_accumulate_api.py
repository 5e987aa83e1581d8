"""numprec.sum / dot / matmul: known values, shapes and axes, the fp64 path, the tiled sequential
matmul against the generic kernel, stochastic rounding, and bad input."""
import numpy as np
import pytest

import numprec
from numprec.codes import C_EXACT, C_MODE, NKEYS
from numprec.kernels import cpu
from numprec.ops.accumulate import make_plan
from numprec.testing import assert_bits_equal


@pytest.mark.parametrize("fmt,stops_at", [("fp16", 2048), ("bf16", 256), ("fp8_e4m3fn", 16),
                                          ("fp8_e5m2", 8)])
def test_summing_ones_stagnates_under_round_to_nearest(fmt, stops_at):
    assert numprec.sum(np.ones(4096), fmt) == stops_at
    assert numprec.dot(np.ones(4096), np.ones(4096), fmt) == stops_at
    assert numprec.matmul(np.ones((1, 4096)), np.ones((4096, 1)), acc=fmt)[0, 0] == stops_at


def test_other_orders_escape_the_stagnation():
    ones = np.ones(4096)
    assert numprec.sum(ones, "fp16", order="pairwise") == 4096
    assert numprec.sum(np.ones(1000), "fp16", order="pairwise") == 1000
    assert numprec.sum(ones, "fp16", order="kahan") == 4096
    # blocks of 128 are exact in bf16; the fp32 running total then holds 1024 exactly
    assert numprec.sum(np.ones(1024), "bf16", order="blocked") == 1024
    assert numprec.sum(np.ones(1024), "bf16", order="blocked", block=512) == 256 * 2
    assert numprec.sum(ones, "fp16", order="fp64") == 4096


def test_fused_adder_keeps_width_bits():
    """With w = 14 kept bits, adding ones stops once the sum reaches 2^14: the ones fall below
    the alignment quantum 2^(14 - 14 + 1)."""
    ones = np.ones(2 ** 15)
    assert numprec.sum(ones, "fp32", order="fused", fused_terms=32, fused_width=14) == 2 ** 14
    assert numprec.sum(ones, "fp32", order="fused", fused_terms=32, fused_width=24) == 2 ** 15


def test_stochastic_sum_of_ones_is_unbiased_and_reproducible():
    ones = np.ones((64, 4096))
    first = numprec.sum(ones, "fp16", mode="sr", seed=123)
    assert np.array_equal(first, numprec.sum(ones, "fp16", mode="sr", seed=123))
    assert not np.array_equal(first, numprec.sum(ones, "fp16", mode="sr", seed=124))
    # past 2048 each step adds 0 or 2 with probability 1/2: std of a row ~ 45, of the mean ~ 6
    assert abs(first.mean() - 4096) < 30
    assert first.min() > 3800 and first.max() < 4400


def test_shapes_axes_and_broadcasting():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert numprec.sum(x, "fp32", axis=1).shape == (2, 4)
    assert np.array_equal(numprec.sum(x, "fp32", axis=0), x.sum(axis=0))
    assert numprec.sum(np.float64(3.0), "fp32") == 3.0
    assert numprec.sum(np.zeros((3, 0)), "fp32").tolist() == [0.0, 0.0, 0.0]
    assert isinstance(numprec.sum([1.0, 2.0], "fp32"), np.float64)
    a, b = np.ones((5, 1, 4)), np.ones((3, 4))
    assert numprec.dot(a, b, "fp32").shape == (5, 3)
    assert numprec.dot(np.ones((4, 2, 1)), np.ones((4, 1, 3)), "fp32", axis=0).shape == (2, 3)
    assert numprec.matmul(np.ones(4), np.ones(4)) == 4.0
    assert numprec.matmul(np.ones((2, 3, 4)), np.ones(4)).shape == (2, 3)
    assert numprec.matmul(np.ones(4), np.ones((2, 4, 5))).shape == (2, 5)
    assert numprec.matmul(np.ones((3, 0)), np.ones((0, 2))).tolist() == [[0.0, 0.0]] * 3


def test_exact_arithmetic_agrees_with_numpy():
    rng = np.random.default_rng(0)
    a = rng.integers(-8, 8, (3, 5, 6)).astype(float)
    b = rng.integers(-8, 8, (6, 7)).astype(float)
    for order in ("sequential", "pairwise", "kahan", "blocked", "fused", "fp64"):
        assert np.array_equal(numprec.matmul(a, b, order=order), a @ b), order


def test_the_fp64_order_rounds_float64_blas_once():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((8, 9)), rng.standard_normal((9, 3))
    for mode in ("rne", "rup"):
        got = numprec.matmul(a, b, acc="fp32", out_fmt="bf16", order="fp64", mode=mode)
        assert_bits_equal(got, numprec.round(a @ b, "bf16", mode))
    got = numprec.sum(a, "fp16", axis=0, order="fp64")
    assert_bits_equal(got, numprec.round(a.sum(axis=0), "fp16"))


def test_sum_dot_and_matmul_take_formats_the_same_way():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 40)), rng.standard_normal((40, 2))
    x, y = a[0], b[:, 0]
    # fmt, positional or by keyword, is the default of both the accumulator and the output
    for call in (lambda **kw: numprec.sum(x, **kw), lambda **kw: numprec.dot(x, y, **kw),
                 lambda **kw: numprec.matmul(a, b, **kw)):
        by_position = call(fmt="bf16")
        assert_bits_equal(by_position, call(acc="bf16", out_fmt="bf16"))
        assert_bits_equal(call(fmt="fp32", acc="bf16"), call(acc="bf16", out_fmt="fp32"))
        assert_bits_equal(call(fmt="fp16", out_fmt="bf16"), call(acc="fp16", out_fmt="bf16"))
    assert_bits_equal(numprec.sum(x, "bf16"), numprec.sum(x, fmt="bf16"))
    assert_bits_equal(numprec.dot(x, y, "bf16"), numprec.dot(x, y, fmt="bf16"))
    assert_bits_equal(numprec.matmul(a, b, "bf16"), numprec.matmul(a, b, fmt="bf16"))
    # matmul without any format accumulates (and rounds its result) in fp32; sum and dot refuse
    assert_bits_equal(numprec.matmul(a, b), numprec.matmul(a, b, "fp32"))
    assert_bits_equal(numprec.matmul(a, b, acc="bf16"), numprec.matmul(a, b, "bf16"))
    for call in (lambda: numprec.sum(x), lambda: numprec.dot(x, y)):
        with pytest.raises(TypeError, match=r"needs a format: give fmt .* or acc="):
            call()


def test_matmul_out_is_a_deprecated_name_of_out_fmt():
    a = np.random.default_rng(5).standard_normal((4, 6))
    with pytest.warns(DeprecationWarning, match=r"matmul\(\.\.\., out=FMT\) is deprecated"):
        old = numprec.matmul(a, a.T, acc="fp32", out="bf16")
    assert_bits_equal(old, numprec.matmul(a, a.T, acc="fp32", out_fmt="bf16"))
    with pytest.raises(TypeError, match="does not write into an output array"):
        numprec.matmul(a, a.T, out=np.empty((4, 4)))
    with pytest.raises(TypeError, match="give out_fmt only"):
        numprec.matmul(a, a.T, out="bf16", out_fmt="fp16")


def test_matmul_is_dot_of_rows_and_columns():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 33)), rng.standard_normal((33, 5))
    for order in ("sequential", "pairwise", "kahan"):
        got = numprec.matmul(a, b, acc="bf16", order=order, mode="rtz")
        expected = numprec.dot(a[:, None, :], b.T[None, :, :], "bf16", order=order, mode="rtz")
        assert_bits_equal(got, expected)


@pytest.mark.parametrize("mode", ["rne", "rtz", "rup", "rto", "sr"])
@pytest.mark.parametrize("inputs", ["fp16", "float64"])
def test_tiled_sequential_kernel_equals_the_generic_kernel(mode, inputs):
    """Same steps and draws, whatever the tiling (n = 37: two full tiles and a partial one)."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 5, 13)), rng.standard_normal((2, 13, 37))
    a[0, 0, :3] = [np.inf, 0.0, 1e-30]
    b[1, 2, :2] = [np.nan, 6e4]
    if inputs == "fp16":
        a, b = numprec.round(a, "fp16"), numprec.round(b, "fp16")
    plan = make_plan("matmul", "fp16", "fp16", "bf16", None, None, "sequential", None, "fp32",
                     None, None, mode, False, False, 5, None, None, True)
    config = plan.config[:C_EXACT] + (int(inputs == "fp16"),) + plan.config[C_EXACT + 1:]
    index = np.arange(2, dtype=np.int64)
    P, PO, keys = plan.acc.kernel_params, plan.out.kernel_params, plan.keys[:NKEYS]
    tiled, generic = np.empty(2 * 5 * 37), np.empty(2 * 5 * 37)
    flags_t, flags_g = np.zeros(tiled.size, np.int64), np.zeros(tiled.size, np.int64)
    CPU = cpu.kernel_set()
    CPU.matmul_sequential_into(a.reshape(-1), b.reshape(-1), index, index, 5, 37, 13, tiled,
                               config, P, PO, keys, flags_t, config[C_MODE])
    CPU.matmul_into(a.reshape(-1), np.ascontiguousarray(np.swapaxes(b, 1, 2)).reshape(-1),
                    index, index, 5, 37, 13, generic, config, P, P, P, PO, keys, flags_g)
    assert_bits_equal(tiled, generic)
    assert np.array_equal(flags_t, flags_g)


def test_inputs_rounded_to_in_fmt_first():
    x = np.array([1.0 + 2 ** -20, 3.0 + 2 ** -15])
    assert numprec.sum(x, "fp32", in_fmt="fp16") == 4.0
    assert numprec.dot(x, x, "fp32", in_fmt="fp16") == 10.0
    assert numprec.matmul(x, x, in_fmt="fp16") == 10.0


def test_flags_count_elements():
    flags = numprec.Flags()
    numprec.sum(np.array([[1.0, 2.0 ** -12], [1.0, 1.0], [60000.0, 60000.0]]), "fp16",
                flags=flags)
    assert flags.inexact == 2 and flags.overflow == 1


def test_bad_input_is_refused_with_clear_messages():
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="unknown order 'zigzag'.*sequential"):
        numprec.sum(x, "fp16", order="zigzag")
    with pytest.raises(ValueError, match="block=0 is out of range"):
        numprec.sum(x, "fp16", order="blocked", block=0)
    with pytest.raises(TypeError, match="block must be an int"):
        numprec.sum(x, "fp16", order="blocked", block=2.5)
    with pytest.raises(ValueError, match="block=4 applies only to order='blocked'"):
        numprec.sum(x, "fp16", block=4)
    with pytest.raises(ValueError, match="fused_width=60 is out of range; valid: 1..53"):
        numprec.sum(x, "fp16", order="fused", fused_width=60)
    with pytest.raises(ValueError, match="fused_terms=8 applies only to order='fused'"):
        numprec.sum(x, "fp16", fused_terms=8)
    with pytest.raises(ValueError, match=r"a has shape \(3, 4\) and b has shape \(3, 5\)"):
        numprec.dot(x, np.ones((3, 5)), "fp16")
    with pytest.raises(ValueError, match=r"a has shape \(3, 4\) and b has shape \(5, 2\).*inner"):
        numprec.matmul(x, np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(3, 4, 2\).*do not broadcast"):
        numprec.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match="product_fmt=fp32 .24 bits. is wider than the "
                                         "accumulator fp16"):
        numprec.dot(x, x, "fp16", product_fmt="fp32")
    with pytest.raises(ValueError, match="product_fmt does not apply to order='fused'"):
        numprec.matmul(x, x.T, product_fmt="bf16", order="fused")
    with pytest.raises(ValueError, match="promote=bf16 .8 bits. is narrower than the "
                                         "accumulator fp32"):
        numprec.sum(x, "fp32", order="blocked", promote="bf16")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        numprec.sum(x, "fp16", axis=2)
    with pytest.raises(ValueError, match="unknown format 'fp12'"):
        numprec.sum(x, "fp16", acc="fp12")
    with pytest.raises(ValueError, match="invalid rounding mode 'nearest'"):
        numprec.matmul(x, x.T, mode="nearest")
    with pytest.raises(ValueError, match="at least one dimension"):
        numprec.matmul(2.0, x)


def _plan_args(**changes):
    args = dict(op="matmul", fmt="fp16", acc="fp16", out="fp16", in_fmt=None, product_fmt=None,
                order="blocked", block=64, promote="fp32", fused_terms=None, fused_width=None,
                mode="rne", saturate=False, ftz=False, seed=None, rbits=None, flags=None,
                uses_products=True)
    args.update(changes)
    return args


def test_plans_come_from_a_cache_that_refuses_what_the_checks_refuse():
    first = make_plan(**_plan_args())
    assert make_plan(**_plan_args()) is first  # seen before: the cached plan
    # equal values of another type are checked again, and refused where the checks refuse them
    with pytest.raises(TypeError, match="block must be an int"):
        make_plan(**_plan_args(block=64.0))
    with pytest.raises(TypeError, match="block must be an int"):
        make_plan(**_plan_args(block=True))
    with pytest.raises(ValueError, match="unknown order"):
        make_plan(**_plan_args(order="sideways"))
    with pytest.raises(TypeError):  # the flags are checked on every call, cached plan or not
        make_plan(**_plan_args(flags="yes"))
    numpy_int = make_plan(**_plan_args(block=np.int64(64)))  # an int, of another type
    assert numpy_int.config == first.config and numpy_int is not first


def test_sr_without_a_seed_draws_a_fresh_stream_every_call():
    keys = [make_plan(**_plan_args(mode="sr")).keys for _ in range(3)]
    assert len({k.tobytes() for k in keys}) == 3
    seeded = [make_plan(**_plan_args(mode="sr", seed=7)).keys for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])
