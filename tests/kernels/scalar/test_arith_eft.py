"""The error-free transformations and the exact-parts machinery under the arithmetic kernels,
checked with Fractions: TwoSum, TwoProd (with the bit-mask split), exact products of any two
finite float64s, the exact sign of a four-term sum, the three-part renormalisation, and
parts_at: floor(X / 2^q) and the 62-bit fraction below the quantum, exactly."""
import math
import random
from fractions import Fraction

import pytest

from numprec.kernels.cpu.scalars import S as A

RNG = random.Random(42)


def rand_float(lo=-1074, hi=1000):
    return math.ldexp(RNG.random() + 0.5, RNG.randint(lo, hi)) * RNG.choice((-1, 1))


def significant_bits(x: float) -> int:
    n = Fraction(abs(x)).numerator  # the denominator is a power of two
    return (n >> ((n & -n).bit_length() - 1)).bit_length() if n else 0


def test_two_sum_is_exact():
    for _ in range(3000):
        a = rand_float()
        b = RNG.choice([rand_float(), -a * (1 + RNG.random() * 2 ** -40), a * 2 ** -60])
        s, e = A.two_sum(a, b)
        assert s == a + b and Fraction(s) + Fraction(e) == Fraction(a) + Fraction(b)


def test_split_and_two_prod_are_exact():
    for _ in range(3000):
        x = float(RNG.getrandbits(53) | 1) * RNG.choice((1, -1))
        hi, lo = A.split_half(x)
        assert hi + lo == x and significant_bits(hi) <= 26 and significant_bits(lo) <= 26
        a, b = rand_float(-300, 300), rand_float(-300, 300)
        p, e = A.two_prod(a, b)
        assert p == a * b and Fraction(p) + Fraction(e) == Fraction(a) * Fraction(b)


def test_exact_product_of_any_two_finite_floats():
    for _ in range(3000):
        a, b = abs(rand_float()), abs(rand_float(-1074, 1023))
        hi, lo, scale = A.exact_product(a, b)
        assert (Fraction(hi) + Fraction(lo)) * Fraction(2) ** scale == Fraction(a) * Fraction(b)
        assert abs(lo) <= math.ulp(hi) / 2


def test_sign_of_a_four_term_sum_is_exact():
    for _ in range(3000):
        a = rand_float(-100, 100)
        terms = [a, -a * (1 + RNG.choice([0, 2 ** -52, -(2 ** -52)])),
                 rand_float(-200, -100), RNG.choice([0.0, rand_float(-300, -200)])]
        RNG.shuffle(terms)
        total = sum(Fraction(t) for t in terms)
        assert A.sign_of_sum4(*terms) == (total > 0) - (total < 0)


def test_normalize3_keeps_the_sum_and_makes_the_parts_nonoverlapping():
    for _ in range(3000):
        a = rand_float(-100, 100)
        parts = (a, -a + rand_float(-170, -150) * RNG.random(), rand_float(-260, -200))
        hi, lo, tail = A.normalize3(*parts)
        assert sum(map(Fraction, (hi, lo, tail))) == sum(map(Fraction, parts))
        assert hi == hi + lo and lo == lo + tail


def random_parts():
    """(hi, lo, tail) with hi > 0, |lo| <= ulp(hi)/2 (ulp(hi)/4 below a power of two) and
    |tail| < ulp(lo)/2: the invariants round_parts relies on."""
    hi = abs(rand_float(-200, 200))
    if RNG.random() < 0.2:
        hi = math.ldexp(1.0, math.frexp(hi)[1])  # a power of two
    limit = math.ulp(hi) / 2
    lo = RNG.choice([0.0, limit, -limit / 2, RNG.uniform(-limit / 2, limit),
                     math.ldexp(RNG.choice((-1, 1)), math.frexp(hi)[1] - RNG.randint(60, 130))])
    tail = 0.0 if lo == 0.0 else RNG.uniform(-0.49, 0.49) * math.ulp(lo)
    if tail and RNG.random() < 0.3:  # a tail of one bit, as a renormalised fma sum can have
        tail = math.copysign(math.ldexp(1.0, math.frexp(tail)[1] - 1), tail)
    return hi, lo, tail


@pytest.mark.parametrize("mbits", [0, 3, 10, 23, 42, 50, 52])
def test_parts_at_gives_the_exact_quotient_and_fraction(mbits):
    for _ in range(1500):
        hi, lo, tail = random_parts()
        scale = RNG.randint(-300, 300)
        X = sum(map(Fraction, (hi, lo, tail))) * Fraction(2) ** scale
        top = A.exact_exponent(hi, lo, scale)
        assert Fraction(2) ** top <= X < Fraction(2) ** (top + 1)
        q = top - mbits + RNG.choice([0, 0, 1, 5, 70])
        keep, frac62, sticky = A.parts_at(hi, lo, tail, scale, q)
        unit = Fraction(2) ** q
        assert keep == math.floor(X / unit)
        scaled = (X / unit - keep) * 2 ** 62
        assert frac62 == math.floor(scaled) and sticky == (scaled != math.floor(scaled))
