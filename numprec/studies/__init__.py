"""The studies that `numprec study NAME` runs, and the benchmarks behind `numprec bench`
(numprec.studies.bench). A study is a subpackage with `run_study(out, *, quick, full, seed)`,
which writes its data, figures and report into the folder `out` atomically and returns the
report's path, and `main(argv)`, its command line. Studies load on demand (they import
matplotlib)."""
from __future__ import annotations

import importlib

STUDIES = {"rounding": "numprec.studies.rounding",
           "error-accumulation": "numprec.studies.error_accumulation",
           "vanishing-gradients": "numprec.studies.vanishing_gradients",
           "loss-scaling": "numprec.studies.loss_scaling",
           "update-stagnation": "numprec.studies.update_stagnation",
           "quantization": "numprec.studies.quantization"}


def load_study(name: str):
    """The module of study `name`; a ValueError naming the studies for an unknown one."""
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; valid studies: {', '.join(STUDIES)}")
    return importlib.import_module(STUDIES[name])
