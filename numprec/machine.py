"""The machine a run or a benchmark ran on: CPU model and its vector extensions. Imports only
the standard library."""
from __future__ import annotations

import platform

VECTOR_EXTENSIONS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw",
                     "avx512vl", "avx512ifma", "avx512_bf16", "avx512_fp16", "amx_tile", "neon",
                     "asimd", "sve")


def cpu_model() -> str:
    """The CPU model and its SIMD extensions (Linux /proc/cpuinfo; platform's name elsewhere)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model", "CPU part") and name in ("", platform.machine(),
                                                                          platform.processor()):
                    name = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    simd = [f for f in VECTOR_EXTENSIONS if f in flags]
    return f"{name} ({' '.join(simd) or 'SIMD extensions unknown'})"


def cpu_flags() -> list:
    """The vector extensions of VECTOR_EXTENSIONS this CPU has (Linux; [] elsewhere)."""
    model = cpu_model()
    inside = model[model.rfind("(") + 1:-1]
    return [] if inside == "SIMD extensions unknown" else inside.split()
