"""The accumulation models of numprec.sum / dot / matmul against slow reference loops.

The reference loops below follow the documented models step by step in plain Python, with every
rounding done by the exact Fraction reference of test_arith_reference, and the documented
stochastic-rounding streams: stream base + role (sum 16, dot 32, matmul 48; roles step 0,
product 1, promote 2, output 3, kahan y/d/c 4/5/6, pairwise merge 7) at index row * n + step.
The pairwise tree is built level by level here (adjacent pairs, an odd one out moves up) and its
merges numbered in post-order; the fused adder truncates Fractions.
"""
import math
from fractions import Fraction

import numpy as np
import pytest

import numprec
from numprec.kernels.scalar.rng import key_from_seed, random62_py
from numprec.testing import assert_bits_equal
from numprec.testing.oracle import FLAG_NAMES, floor_log2
from test_arith_reference import reference_op, round_magnitude

STEP, PRODUCT, PROMOTE, OUT, KAHAN_Y, KAHAN_D, KAHAN_C, MERGE = range(8)
BASE = {"sum": 16, "dot": 32, "matmul": 48}


class Reference:
    """One row of a reduction, step by step."""

    def __init__(self, op, row, n, acc, mode, seed, product_fmt=None, promote="fp32"):
        self.keys = [key_from_seed(seed, BASE[op] + role) for role in range(8)]
        self.base, self.row, self.acc, self.mode = row * n, row, acc, mode
        self.product_fmt, self.promote = product_fmt, promote
        self.flags = set()
        self.swamped = False  # the event: a nonzero term lost entirely (see swamp())

    def draw(self, role, index):
        return random62_py(self.keys[role], index) if self.mode == "sr" else None

    def op(self, name, args, fmt, role, index):
        value, flags = reference_op(name, args, fmt, self.mode, draw=self.draw(role, index))
        self.flags |= flags
        return value

    def term(self, a, b, i):
        """A term as the factors of an exact product."""
        if b is None:
            return a, 1.0
        if self.product_fmt is not None:
            return self.op("mul", (a, b), self.product_fmt, PRODUCT, self.base + i), 1.0
        return a, b

    def swamp(self, before, after, term_is_nonzero):
        """A finite nonzero running value that a nonzero term left unchanged."""
        if term_is_nonzero and before != 0 and math.isfinite(before) and after == before:
            self.swamped = True

    def sequential(self, a, b, lo, hi):
        x, y = self.term(a[lo], None if b is None else b[lo], lo)
        s = self.op("mul", (x, y), self.acc, STEP, self.base + lo)
        for i in range(lo + 1, hi):
            x, y = self.term(a[i], None if b is None else b[i], i)
            t = self.op("fma", (x, y, s), self.acc, STEP, self.base + i)
            self.swamp(s, t, x != 0 and y != 0)
            s = t
        return s

    def pairwise(self, a, b):
        leaves = []
        for i in range(len(a)):
            x, y = self.term(a[i], None if b is None else b[i], i)
            leaves.append(self.op("mul", (x, y), self.acc, STEP, self.base + i))
        level = list(leaves)
        while len(level) > 1:  # the tree: nested tuples of leaf values
            pairs = [(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
            level = pairs + ([level[-1]] if len(level) % 2 else [])
        self.merges = 0
        return self._evaluate(level[0])

    def _evaluate(self, node):
        if not isinstance(node, tuple):
            return node
        left, right = self._evaluate(node[0]), self._evaluate(node[1])
        value = self.op("add", (left, right), self.acc, MERGE, self.base + self.merges)
        self.merges += 1
        if (left != 0 and right != 0 and math.isfinite(left) and math.isfinite(right)
                and value in (left, right)):
            self.swamped = True
        return value

    def blocked(self, a, b, block):
        total = None
        for j, lo in enumerate(range(0, len(a), block)):
            partial = self.sequential(a, b, lo, min(lo + block, len(a)))
            if total is None:
                total = self.op("mul", (partial, 1.0), self.promote, PROMOTE, self.base + j)
            else:
                grown = self.op("add", (total, partial), self.promote, PROMOTE, self.base + j)
                self.swamp(total, grown, partial != 0)
                total = grown
        return total

    def kahan(self, a, b):
        s = self.sequential(a, b, 0, 1)
        c = 0.0
        for i in range(1, len(a)):
            x, y = self.term(a[i], None if b is None else b[i], i)
            yv = self.op("fma", (x, y, -c), self.acc, KAHAN_Y, self.base + i)
            t = self.op("add", (s, yv), self.acc, STEP, self.base + i)
            d = self.op("sub", (t, s), self.acc, KAHAN_D, self.base + i)
            c_new = self.op("sub", (d, yv), self.acc, KAHAN_C, self.base + i)
            if x != 0 and y != 0 and t == s and c_new == c and math.isfinite(s):
                self.swamped = True  # neither the sum nor the compensation kept the term
            s, c = t, c_new
        return s

    def fused(self, a, b, terms, width):
        s = None
        for g, lo in enumerate(range(0, len(a), terms)):
            pairs = [(a[i], 1.0 if b is None else b[i]) for i in range(lo, min(lo + terms, len(a)))]
            pairs += [] if s is None else [(s, 1.0)]
            products = [x * y for x, y in pairs]  # float64: only the specials are used
            if any(math.isnan(v) for v in products) or (math.inf in products and
                                                         -math.inf in products):
                invalid = not any(math.isnan(v) for x, y in pairs for v in (x, y))
                s = math.nan
                self.flags |= {"invalid"} if invalid else set()
                continue
            if any(math.isinf(v) for v in products):
                s = self.op("mul", (max(products, key=abs), 1.0), self.acc, STEP, self.base + g)
                continue
            addends = [Fraction(x) * Fraction(y) for x, y in pairs]
            is_term = [True] * (len(pairs) - (0 if s is None else 1)) + ([] if s is None
                                                                         else [False])
            if all(v == 0 for v in addends):  # IEEE's signs for sums of zeros
                signs = {math.copysign(1, v) for v in products}
                s = -0.0 if signs == {-1} or (len(signs) == 2 and self.mode == "rdn") else 0.0
                continue
            nonzero = [(v, term) for v, term in zip(addends, is_term) if v != 0]
            total = Fraction(0)
            if nonzero:
                q = Fraction(2) ** (max(floor_log2(abs(v)) for v, _ in nonzero) - width + 1)
                for v, term in nonzero:
                    kept = math.floor(abs(v) / q) * q
                    if kept != abs(v):
                        self.flags.add("inexact")
                    if kept == 0 and term:
                        self.swamped = True  # the adder's alignment dropped the whole term
                    total += kept if v > 0 else -kept
            if total == 0:
                s = -0.0 if self.mode == "rdn" else 0.0
            else:
                s, flags = round_magnitude(abs(total), total < 0, self.acc, self.mode,
                                           draw=self.draw(STEP, self.base + g))
                self.flags |= flags
        return s

    def finish(self, s, out):
        return self.op("mul", (s, 1.0), out, OUT, self.row)


def reference_rows(op, A, B, order, acc, out, mode, seed, **options):
    """Reference results and per-row flag sets for the rows of A (and B)."""
    values, flags = [], []
    for r in range(A.shape[0]):
        ref = Reference(op, r, A.shape[1], acc, mode, seed, options.get("product_fmt"),
                        options.get("promote", "fp32"))
        a, b = list(A[r]), None if B is None else list(B[r])
        if order == "sequential":
            s = ref.sequential(a, b, 0, len(a))
        elif order == "pairwise":
            s = ref.pairwise(a, b)
        elif order == "blocked":
            s = ref.blocked(a, b, options.get("block", 128))
        elif order == "kahan":
            s = ref.kahan(a, b)
        else:
            s = ref.fused(a, b, options.get("fused_terms", 32), options.get("fused_width", 14))
        values.append(ref.finish(s, out))
        flags.append(ref.flags | ({"swamped"} if ref.swamped else set()))
    return np.array(values), flags


def flag_totals(flag_sets):
    return {name: sum(name in f for f in flag_sets) for name in FLAG_NAMES}


def swamped_rows(flag_sets):
    return sum("swamped" in f for f in flag_sets)


def data(shape, seed, in_format="fp32"):
    """Values of a format (so products are exact in float64: the fast paths), with zeros and
    cancellations; in_format None gives full float64 values (the general paths)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * np.exp2(rng.integers(-6, 6, shape))
    x[rng.random(shape) < 0.05] = 0.0
    return x if in_format is None else numprec.round(x, in_format)


ORDERS = {"sequential": {}, "pairwise": {}, "blocked": {"block": 4},
          "kahan": {}, "fused": {"fused_terms": 4, "fused_width": 9}}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("mode", ["rne", "rtz", "rup", "sr"])
def test_sum_matches_reference_loops(order, mode):
    x = data((6, 23), 1, "bf16")
    options = ORDERS[order]
    counted = numprec.Flags()
    got = numprec.sum(x, "fp8_e5m2", acc="bf16", order=order, mode=mode, seed=3, flags=counted,
                      **options)
    expected, flags = reference_rows("sum", x, None, order, "bf16", "fp8_e5m2", mode, 3, **options)
    assert_bits_equal(got, expected, None, f"sum {order} {mode}")
    assert counted.as_dict() == flag_totals(flags)
    assert counted.swamped == swamped_rows(flags)


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("in_format", ["fp32", None])
def test_dot_matches_reference_loops(order, in_format):
    a, b = data((5, 19), 2, in_format), data((5, 19), 3, in_format)
    for mode in ("rne", "rdn", "sr"):
        options = ORDERS[order]
        counted = numprec.Flags()
        got = numprec.dot(a, b, "fp16", acc="fp16", order=order, mode=mode, seed=4,
                          flags=counted, **options)
        expected, flags = reference_rows("dot", a, b, order, "fp16", "fp16", mode, 4, **options)
        assert_bits_equal(got, expected, None, f"dot {order} {mode} {in_format}")
        assert counted.swamped == swamped_rows(flags), (order, mode, in_format)


@pytest.mark.parametrize("order", ["sequential", "pairwise", "blocked", "kahan"])
def test_rounded_products(order):
    a, b = data((4, 17), 5, None), data((4, 17), 6, None)
    for mode in ("rne", "sr"):
        options = dict(ORDERS[order], product_fmt="bf16", promote="fp32")
        got = numprec.dot(a, b, "fp32", order=order, mode=mode, seed=8, **options)
        expected, _ = reference_rows("dot", a, b, order, "fp32", "fp32", mode, 8, **options)
        assert_bits_equal(got, expected, None, f"dot {order} {mode} product_fmt=bf16")


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("in_format", ["fp16", None])
def test_matmul_matches_reference_loops(order, in_format):
    """Batched matmul with broadcast batch dimensions; n = 21 leaves a partial column tile."""
    a, b = data((2, 1, 3, 7), 7, in_format), data((4, 7, 21), 8, in_format)
    for mode in ("rne", "sr"):
        options = ORDERS[order]
        counted = numprec.Flags()
        got = numprec.matmul(a, b, acc="bf16", out_fmt="fp16", order=order, mode=mode, seed=9,
                             flags=counted, **options)
        assert got.shape == (2, 4, 3, 21)
        A = np.broadcast_to(a, (2, 4, 3, 7)).reshape(-1, 1, 7).repeat(21, axis=1).reshape(-1, 7)
        B = np.broadcast_to(np.swapaxes(b, -1, -2), (2, 4, 21, 7))
        B = np.broadcast_to(B[:, :, None], (2, 4, 3, 21, 7)).reshape(-1, 7)
        expected, flags = reference_rows("matmul", A, B, order, "bf16", "fp16", mode, 9,
                                         **options)
        assert_bits_equal(got.reshape(-1), expected, None, f"matmul {order} {mode} {in_format}")
        assert counted.swamped == swamped_rows(flags), (order, mode, in_format)


def test_special_values_propagate_through_every_order():
    x = np.array([[1.0, np.inf, 2.0, 3.0], [1.0, np.nan, 2.0, 3.0], [np.inf, -np.inf, 1.0, 2.0],
                  [-0.0, -0.0, -0.0, -0.0], [0.0, -0.0, 0.0, -0.0], [65504.0, 65504.0, -1.0, 1.0]])
    for order, options in ORDERS.items():
        for mode in ("rne", "rdn", "rtz"):
            got = numprec.sum(x, "fp16", order=order, mode=mode, **options)
            expected, _ = reference_rows("sum", x, None, order, "fp16", "fp16", mode, 0, **options)
            assert_bits_equal(got, expected, None, f"{order} {mode}")


@pytest.mark.parametrize("op", ["sum", "dot", "matmul"])
def test_terms_far_below_the_running_sum(op):
    """Terms 2^-30 .. 2^-70 below the sum: s + t is inexact in float64 and rounds onto the
    format's grid, where only an exact sticky bit tells the directed modes which way to go."""
    rng = np.random.default_rng(12)
    big = np.where(rng.random((4, 16)) < 0.3, rng.choice([1.0, -1.0, 0.75], (4, 16)), 0.0)
    tiny = rng.choice([-1.0, 1.0], (4, 16)) * np.exp2(-rng.integers(30, 70, (4, 16)))
    x = np.where(big != 0, big, tiny)  # float32 values, so the fast paths run
    y = numprec.round(rng.uniform(0.5, 1.0, (4, 16)), "fp32")
    for mode in ("rne", "rtz", "rup", "rdn", "rto"):
        if op == "sum":
            got = numprec.sum(x, "bf16", mode=mode)
            expected, _ = reference_rows("sum", x, None, "sequential", "bf16", "bf16", mode, 0)
        elif op == "dot":
            got = numprec.dot(x, y, "bf16", mode=mode)
            expected, _ = reference_rows("dot", x, y, "sequential", "bf16", "bf16", mode, 0)
        else:
            got = numprec.matmul(x, y.T, acc="bf16", mode=mode)
            rows = np.repeat(x, 4, axis=0)
            cols = np.tile(y, (4, 1))
            expected, _ = reference_rows("matmul", rows, cols, "sequential", "bf16", "bf16", mode,
                                         0)
        assert_bits_equal(got.reshape(-1), expected, None, f"{op} {mode}")


@pytest.mark.parametrize("order", list(ORDERS))
def test_swamping_is_counted_where_the_order_loses_a_term(order):
    """1 followed by terms below half an ulp of 1 in fp16: sequential, blocked and pairwise lose
    them (swamped), Kahan's compensation keeps them, the fused adder drops what its alignment
    cuts; every count equals the reference's, row by row."""
    small = np.array([[1.0] + [2.0 ** -12] * 15, [1.0] + [2.0 ** -9] * 15, [2.0 ** -12] * 16,
                      [1.0, 0.0, -0.0] + [0.0] * 13])
    for mode in ("rne", "rtz", "sr"):
        counted = numprec.Flags()
        got = numprec.sum(small, "fp16", order=order, mode=mode, seed=1, flags=counted,
                          **ORDERS[order])
        expected, flags = reference_rows("sum", small, None, order, "fp16", "fp16", mode, 1,
                                         **ORDERS[order])
        assert_bits_equal(got, expected, None, f"{order} {mode}")
        assert counted.swamped == swamped_rows(flags), (order, mode)
        if order in ("sequential", "blocked", "pairwise") and mode != "sr":
            assert counted.swamped >= 1  # row 0 loses its small terms
        if order == "kahan" and mode == "rne":
            assert counted.swamped == 0


SIGNED_ZERO_MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto", "sr")


@pytest.mark.parametrize("acc", ["fp16", "bf16", "fp8_e4m3fnuz"])
def test_matmul_exact_cancellations_keep_the_zero_sign(acc):
    """Sums that cancel exactly and products of signed zeros: under rdn an exact zero sum is -0
    unless both addends are +0, -0 + -0 is -0 in every mode, and a format without -0 (fnuz)
    gives +0. Same results (sign included) as the reference and as dot, in every mode."""
    rng = np.random.default_rng(21)
    a = rng.choice([1.0, -1.0, 0.5, -0.5, 0.0, -0.0], (5, 6))
    b = rng.choice([1.0, -1.0, 2.0, -2.0, 0.0, -0.0], (6, 7))
    a[0] = [1.0, -1.0, 1.0, -1.0, 0.5, -0.5]  # row 0 cancels exactly at every other step
    b[:, 0] = 1.0
    a[1] = -0.0  # row 1: signed-zero products only
    for mode in SIGNED_ZERO_MODES:
        got = numprec.matmul(a, b, acc=acc, mode=mode, seed=3)
        rows = np.repeat(a, b.shape[1], axis=0)
        cols = np.tile(b.T, (a.shape[0], 1))
        expected, _ = reference_rows("matmul", rows, cols, "sequential", acc, acc, mode, 3)
        assert_bits_equal(got.reshape(-1), expected, None, f"matmul {acc} {mode}")
        dots = [numprec.dot(a[i], b[:, j], acc, mode=mode) for i in range(a.shape[0])
                for j in range(b.shape[1])]
        if mode != "sr":  # (dot's stream differs from matmul's)
            assert_bits_equal(got.reshape(-1), np.array(dots), None, f"dot {acc} {mode}")
    assert np.signbit(numprec.matmul(a, b, acc="fp16", mode="rdn")[0, 0])


def test_matmul_strips_mix_fast_and_general_steps():
    """n = 300 columns (one full strip of the sequential kernel and a partial one), where some
    columns go subnormal, overflow, meet inf or NaN or cancel to zero at some steps while their
    neighbours stay normal: every column's result and the flag counts equal the reference's."""
    rng = np.random.default_rng(22)
    k, n = 5, 300
    a = numprec.round(rng.standard_normal((2, k)), "fp16")
    b = numprec.round(rng.standard_normal((k, n)), "fp16")
    b[:, 7] = [2.0 ** -13, -2.0 ** -13, 2.0 ** -20, 1.0, -1.0]  # subnormal partial sums
    b[:, 8] = 60000.0  # overflows fp16
    b[2, 9], b[3, 261] = np.inf, np.nan
    b[:, 299] = -b[:, 298]
    b[2:, 280] = 0.0
    for mode in ("rne", "rtz", "rup", "sr"):
        counted = numprec.Flags()
        got = numprec.matmul(a, b, acc="fp16", mode=mode, seed=5, flags=counted)
        rows = np.repeat(a, n, axis=0)
        cols = np.tile(b.T, (2, 1))
        expected, flags = reference_rows("matmul", rows, cols, "sequential", "fp16", "fp16",
                                         mode, 5)
        assert_bits_equal(got.reshape(-1), expected, None, f"matmul strips {mode}")
        for name in ("overflow", "underflow", "invalid", "inexact", "swamped"):
            assert getattr(counted, name) == sum(name in f for f in flags), (mode, name)
