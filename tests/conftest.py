"""Shared test configuration: hypothesis profiles.

HYPOTHESIS_PROFILE selects one; without it, "ci" when the CI environment variable is set (CI runs
must be reproducible: derandomized, no deadline because JIT compilation and shared cores make
timings meaningless) and "dev" otherwise. "thorough" is for a long local run.
"""
import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", derandomize=True, max_examples=60, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=60, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
