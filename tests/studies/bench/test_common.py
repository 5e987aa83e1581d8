"""The benchmarks' machine line names a foreign compile target (AVX2 code on an AVX-512 host)."""
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
