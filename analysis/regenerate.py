"""Regenerate the committed reports in reports/ from a checkout, through the numprec commands they
document (each writes its files atomically).

    python analysis/regenerate.py [NAME ...]     (no NAME: all of them, in this order)

NAMEs: study_rounding (numprec study rounding), bench_rounding, bench_matmul, bench_training
(numprec bench NAME). The GPU report, reports/gpu, comes from analysis/gpu_check.py on a machine
with a GPU. Run from the repository root.
"""
from __future__ import annotations

import sys

from numprec.cli import main as numprec

REPORTS = {
    "study_rounding": ["study", "rounding", "--out", "reports/study_rounding"],
    "bench_rounding": ["bench", "rounding", "--out", "reports"],
    "bench_matmul": ["bench", "matmul", "--out", "reports"],
    "bench_training": ["bench", "training", "--out", "reports"],
}


def main(argv=None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or list(REPORTS)
    unknown = [name for name in names if name not in REPORTS]
    if unknown:
        print(f"regenerate: unknown report(s) {', '.join(unknown)}; valid: {', '.join(REPORTS)}",
              file=sys.stderr)
        return 2
    for name in names:
        print(f"== numprec {' '.join(REPORTS[name])}", flush=True)
        code = numprec(REPORTS[name])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
