"""The benchmarks' machine line names a foreign compile target (AVX2 code on an AVX-512 host);
fresh timed processes cache bytecode as an installed package does."""
import os

import numba

from numprec.studies.bench import common


def test_the_machine_line_names_a_foreign_compile_target(monkeypatch):
    monkeypatch.setattr(numba.config, "CPU_NAME", None)
    assert common.compile_target_note() == ""
    assert "compiled for" not in common.machine_notes()
    monkeypatch.setattr(numba.config, "CPU_NAME", "znver2")
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx,+avx2,+fma,-avx512f,+sse4.2")
    note = common.compile_target_note()
    assert "znver2 (avx avx2 fma)" in note and "avx512" not in note
    assert note in common.machine_notes()


def test_fresh_processes_cache_bytecode_only_when_asked(monkeypatch, tmp_path):
    # start-up timings are of an installed package, whose bytecode is cached, even where the
    # benchmark's own environment turns the bytecode cache off
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = common.fresh_process_env(str(tmp_path / "kernels"), str(tmp_path / "bytecode"))
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "bytecode")
    assert env["NUMPREC_CACHE_DIR"] == str(tmp_path / "kernels")
    plain = common.fresh_process_env(str(tmp_path / "kernels"))
    assert plain["PYTHONDONTWRITEBYTECODE"] == "1"
    assert plain.get("PYTHONPYCACHEPREFIX") == os.environ.get("PYTHONPYCACHEPREFIX")
