"""The classic AMP loop (../shared/examples/amp_loop.py, PyTorch-style) runs unchanged on numprec
and reaches >= 0.9 test accuracy."""
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(os.path.dirname(REPO), "shared", "examples", "amp_loop.py")


@pytest.mark.skipif(not os.path.isfile(EXAMPLE), reason=f"seed example not present at {EXAMPLE}")
def test_amp_loop_runs_unchanged_and_learns():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, EXAMPLE], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r"test accuracy: ([0-9.]+)\s+loss scale: ([0-9.e+]+)", done.stdout)
    assert match, done.stdout[-2000:]
    assert float(match.group(1)) >= 0.9
    assert float(match.group(2)) > 0
