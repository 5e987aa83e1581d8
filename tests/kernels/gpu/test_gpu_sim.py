"""Runs the GPU case files (tests/kernels/gpu/gpu_*_cases.py) in a child pytest: under the CUDA
simulator always, and on the real GPU when there is one.

The simulator must be chosen before numba.cuda is first imported (NUMBA_ENABLE_CUDASIM=1), and
this process may already have imported it for the real target (the PTX tests do), so the cases
run in a fresh interpreter. The child's JUnit report must show tests that ran (at least as many
as each file holds today), none failed and none skipped. Each case file is a test class of its
own, so that parallel workers (pytest-xdist, --dist loadscope) run the files side by side.
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CASES = sorted(str(p.relative_to(ROOT)) for p in Path(__file__).parent.glob("gpu_*_cases.py"))


def _child_env(simulator: bool) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("NUMPREC_BACKEND", None)
    if simulator:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    else:
        env.pop("NUMBA_ENABLE_CUDASIM", None)
    return env


def run_cases(tmp_path, simulator: bool, cases=CASES):
    report = tmp_path / "cases.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--junitxml={report}", *cases]
    child = subprocess.run(command, cwd=ROOT, env=_child_env(simulator), capture_output=True,
                           text=True, timeout=1200)
    output = child.stdout[-6000:] + child.stderr[-3000:]
    assert report.exists(), f"the child pytest wrote no report (exit {child.returncode}):\n{output}"
    suite = ElementTree.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    assert child.returncode == 0, f"GPU cases failed {counts}:\n{output}"
    assert counts["tests"] > 0 and counts["failures"] == counts["errors"] == 0, output
    assert counts["skipped"] == 0, f"GPU cases were skipped {counts}:\n{output}"
    return counts


def test_case_files_exist():
    assert set(CASES) == {f"tests/kernels/gpu/gpu_{name}_cases.py"
                          for name in ("rounding", "dispatch", "arith", "accum", "monitor",
                                       "quant")}


class _SimulatedCaseFile:
    """One case file under the simulator; `minimum`: the cases it holds today."""
    name, minimum = "", 0

    def test_gpu_kernels_match_cpu_under_the_simulator(self, tmp_path):
        counts = run_cases(tmp_path, True, [f"tests/kernels/gpu/gpu_{self.name}_cases.py"])
        assert counts["tests"] >= self.minimum


class TestRoundingCases(_SimulatedCaseFile):
    name, minimum = "rounding", 339


class TestArithCases(_SimulatedCaseFile):
    name, minimum = "arith", 191


class TestAccumCases(_SimulatedCaseFile):
    name, minimum = "accum", 66


class TestDispatchCases(_SimulatedCaseFile):
    name, minimum = "dispatch", 19


class TestMonitorCases(_SimulatedCaseFile):
    name, minimum = "monitor", 4


class TestQuantCases(_SimulatedCaseFile):
    name, minimum = "quant", 116


def test_every_case_file_has_its_test_class():
    classes = {cls.name for cls in _SimulatedCaseFile.__subclasses__()}
    assert {f"tests/kernels/gpu/gpu_{name}_cases.py" for name in classes} == set(CASES)


def _real_gpu_present() -> bool:
    probe = subprocess.run([sys.executable, "-c", "from numba import cuda; "
                            "print(cuda.is_available())"], env=_child_env(False),
                           capture_output=True, text=True, timeout=120)
    return probe.stdout.strip() == "True"


def test_gpu_kernels_match_cpu_on_the_gpu(tmp_path):
    if not _real_gpu_present():
        pytest.skip("no CUDA GPU on this machine (numba.cuda.is_available() is False); the same "
                    "cases ran under the simulator")
    run_cases(tmp_path, simulator=False)
