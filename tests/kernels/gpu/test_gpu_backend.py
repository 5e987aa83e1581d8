"""Selecting backend="gpu" where numba.cuda has neither a GPU nor the simulator fails clearly.

NUMBA_DISABLE_CUDA=1 in a child interpreter gives that situation on any machine."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numprec.kernels.gpu import is_device_array

ROOT = Path(__file__).resolve().parents[3]

SELECTIONS = {
    "argument": "numprec.round([1.0], 'fp16', backend='gpu')",
    "set_backend": "numprec.set_backend('gpu'); numprec.round([1.0], 'fp16')",
    "environment": "numprec.encode([1.0], 'fp16')",
}


@pytest.mark.parametrize("how", sorted(SELECTIONS))
def test_gpu_without_gpu_or_simulator_raises_a_clear_error(how):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(NUMBA_DISABLE_CUDA="1", PYTHONPATH=str(ROOT),
               NUMPREC_BACKEND="gpu" if how == "environment" else "cpu")
    script = ("import numprec\n"
              "try:\n"
              f"    {SELECTIONS[how]}\n"
              "except Exception as err:\n"
              "    print(type(err).__name__, '|', err)\n")
    child = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr
    name, _, message = child.stdout.partition(" | ")
    assert name == "GPUUnavailableError"
    assert "needs a CUDA GPU or the CUDA simulator" in message
    assert "NUMBA_DISABLE_CUDA=1" in message  # the driver's own reason
    assert "NUMBA_ENABLE_CUDASIM=1" in message and "backend='cpu'" in message


class _ForeignDeviceArray:
    """Any library's GPU array (CuPy, PyTorch) exposes this interface."""
    __cuda_array_interface__ = {"shape": (2,), "typestr": "<f8", "data": (0, False),
                                "version": 3}


def test_device_array_detection():
    assert is_device_array(_ForeignDeviceArray())
    assert not is_device_array(np.zeros(2))
    assert not is_device_array([1.0, 2.0])
