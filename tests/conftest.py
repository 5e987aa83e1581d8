"""Shared test configuration: hypothesis profiles, and the `small_fmt` parametrization.

HYPOTHESIS_PROFILE selects a profile; without it, "ci" when the CI environment variable is set
(CI runs must be reproducible: derandomized, no deadline because JIT compilation and shared cores
make timings meaningless) and "dev" otherwise. "thorough" is for a long local run.

A test that takes an argument named `small_fmt` runs once for every format small enough to sweep
exhaustively (see small_formats).
"""
import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", derandomize=True, max_examples=60, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=60, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
_DEFAULT_PROFILE = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or _DEFAULT_PROFILE)


def small_formats():
    """Every registered format of at most 16 bits, plus custom small formats that exercise the
    corners of the contract (no subnormals, no mantissa bits, an unusual bias, fixed point)."""
    import numprec
    from numprec import FixedPoint, Format

    registered = [numprec.get_format(name) for name in numprec.format_names()]
    custom = [Format("e5m2_nosub", 5, 2, subnormals=False),
              Format("e4m3fn_nosub", 4, 3, nan="fn", subnormals=False),
              Format("e4m3fnuz_nosub", 4, 3, nan="fnuz", subnormals=False),
              Format("e3m0_fn", 3, 0, nan="fn"),
              Format("e2m0_none", 2, 0, nan="none"),
              Format("e4m2_bias3", 4, 2, bias=3),
              Format("e1m3_fn", 1, 3, nan="fn"),
              Format("e2m3_none_nosub", 2, 3, nan="none", subnormals=False),
              FixedPoint(3, 4), FixedPoint(4, 4, signed=False), numprec.get_format("int8"),
              FixedPoint(0, 7), FixedPoint(10, 5)]
    return [fmt for fmt in registered if fmt.nbits <= 16] + custom


def pytest_generate_tests(metafunc):
    if "small_fmt" in metafunc.fixturenames:
        metafunc.parametrize("small_fmt", small_formats(), ids=lambda fmt: fmt.name)
