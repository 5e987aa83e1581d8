"""Compiled kernels are cached on disk: a second process loads them instead of compiling, two
processes starting together on an empty cache both succeed with identical results, and editing
any kernel source (a scalar module in a subfolder, or numprec/codes.py, whose constants are
compiled in) invalidates the cached kernels."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = ("import numpy as np, numprec; "
          "print(numprec.encode(np.linspace(-3, 3, 101), 'fp8_e4m3fn', 'sr', seed=3).sum())")
# A small kernel (decode of a 32-bit format: the table path is only for <= 16 bits).
DECODE = ("import numpy as np, numprec; "
          "print(numprec.decode(np.arange(0x3F800000, 0x3F800010), 'fp32').sum())")


def _env(cache_dir, root=ROOT):
    env = dict(os.environ, NUMPREC_CACHE_DIR=str(cache_dir), NUMBA_DEBUG_CACHE="1")
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(cache_dir, script=SCRIPT, root=ROOT):
    done = subprocess.run([sys.executable, "-c", script], env=_env(cache_dir, root), check=True,
                          capture_output=True, text=True, cwd=str(cache_dir))
    return done.stdout


def test_second_process_loads_kernels_from_cache(tmp_path):
    cold = _run(tmp_path)
    assert "data saved" in cold and "_fast_pass" in cold
    warm = _run(tmp_path)
    assert "data saved" not in warm, "the second process compiled again"
    assert "data loaded" in warm and "_fast_pass" in warm
    assert cold.splitlines()[-1] == warm.splitlines()[-1]


def test_concurrent_cold_starts_share_one_cache(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    results = [out.splitlines()[-1] for out, _ in outputs]
    assert results[0] == results[1]
    assert "data saved" not in _run(tmp_path)


def test_editing_any_kernel_source_invalidates_the_cache(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(os.path.join(ROOT, "numprec"), tree / "numprec",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    cache = tmp_path / "cache"
    cache.mkdir()
    first = _run(cache, DECODE, tree)
    assert "data saved" in first and "_decode_pass" in first
    assert "data saved" not in _run(cache, DECODE, tree)
    for source in ("numprec/kernels/scalar/rounding.py", "numprec/codes.py"):
        with open(tree / source, "a", encoding="utf-8") as handle:
            handle.write("\n# an edit\n")
        again = _run(cache, DECODE, tree)
        assert "data saved" in again and "_decode_pass" in again, f"{source}: cache kept"
        assert again.splitlines()[-1] == first.splitlines()[-1]
