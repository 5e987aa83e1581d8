"""Regenerate the committed reports in reports/ from a checkout, through the numprec commands they
document (each writes its files atomically).

    python analysis/regenerate.py [NAME ...]     (no NAME: all of them, in this order)

NAMEs: observation (what `make report` runs: two monitored, shadowed training runs into runs/,
then numprec report), adjust_precision (a fp16-amp run without loss scaling under
--adjust-precision, and its report), study_rounding, study_error_accumulation,
study_vanishing_gradients, study_loss_scaling, study_update_stagnation, study_quantization
(numprec study NAME),
bench_rounding, bench_matmul, bench_training, bench_monitor, bench_startup, bench_quant
(numprec bench NAME). The GPU
report, reports/gpu, comes from analysis/gpu_check.py on a machine with a GPU.
Run from the repository root.
"""
from __future__ import annotations

import sys

from numprec.cli import main as numprec

_OBSERVE = ["--monitor", "--shadow", "re-anchored", "--steps", "400", "--no-progress"]
# name -> the commands, each with the exit statuses that let it go on (a training run that
# stops on non-finite numbers exits 1 with its outputs written: the fp16 run does)
REPORTS = {
    "observation": [(["train", "--policy", "fp16", *_OBSERVE, "--out", "runs/fp16"], (0, 1)),
                    (["train", "--policy", "fp16-amp", *_OBSERVE, "--out", "runs/fp16-amp"],
                     (0,)),
                    (["report", "runs/fp16", "runs/fp16-amp", "--out", "reports/observation"],
                     (0,))],
    "adjust_precision": [(["train", "--policy", "fp16-amp", "--loss-scale", "none",
                           "--adjust-precision", "--adjust-underflow", "0.001",
                           "--adjust-patience", "20", "--steps", "400", "--no-progress",
                           "--out", "runs/fp16-amp-adjusted"], (0,)),
                         (["report", "runs/fp16-amp-adjusted", "--out",
                           "reports/adjust_precision"], (0,))],
    "study_rounding": [(["study", "rounding", "--out", "reports/study_rounding"], (0,))],
    "study_error_accumulation": [(["study", "error-accumulation", "--out",
                                   "reports/study_error_accumulation"], (0,))],
    "study_vanishing_gradients": [(["study", "vanishing-gradients", "--out",
                                    "reports/study_vanishing_gradients"], (0,))],
    "study_loss_scaling": [(["study", "loss-scaling", "--out", "reports/study_loss_scaling"],
                            (0,))],
    "study_update_stagnation": [(["study", "update-stagnation", "--out",
                                  "reports/study_update_stagnation"], (0,))],
    "study_quantization": [(["study", "quantization", "--out", "reports/study_quantization"],
                            (0,))],
    "bench_rounding": [(["bench", "rounding", "--out", "reports"], (0,))],
    "bench_matmul": [(["bench", "matmul", "--out", "reports"], (0,))],
    "bench_training": [(["bench", "training", "--out", "reports"], (0,))],
    "bench_monitor": [(["bench", "monitor", "--out", "reports"], (0,))],
    "bench_startup": [(["bench", "startup", "--out", "reports"], (0,))],
    "bench_quant": [(["bench", "quant", "--out", "reports"], (0,))],
}


def main(argv=None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or list(REPORTS)
    unknown = [name for name in names if name not in REPORTS]
    if unknown:
        print(f"regenerate: unknown report(s) {', '.join(unknown)}; valid: {', '.join(REPORTS)}",
              file=sys.stderr)
        return 2
    for name in names:
        for argv, ok in REPORTS[name]:
            print(f"== numprec {' '.join(argv)}", flush=True)
            code = numprec(argv)
            if code not in ok:
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
