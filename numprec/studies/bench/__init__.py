"""The benchmarks behind `numprec bench NAME`: each module has `main(argv)` and writes its results
(CSV and Markdown, with the machine's CPU model and vector extensions) into --out, `reports` by
default.

    rounding   numprec.round / encode against ml_dtypes, gfloat, pychop, NumPy and a memory copy
    matmul     the accumulation models' rounded multiply-adds per second against NumPy's BLAS
    training   the engine's training step per precision preset, against PyTorch CPU
    monitor    the training step with and without a numprec.monitor.Monitor
    startup    import numprec and the first kernel call in a fresh process (warm and empty cache)
    quant      quantize (int8 per tensor / per channel) and mx_encode against a memory copy and
               pychop, gfloat, ml_dtypes casts, PyTorch / torchao where installed
"""
BENCHMARKS = {"rounding": "numprec.studies.bench.rounding",
              "matmul": "numprec.studies.bench.matmul",
              "training": "numprec.studies.bench.training",
              "monitor": "numprec.studies.bench.monitor",
              "startup": "numprec.studies.bench.startup",
              "quant": "numprec.studies.bench.quant"}

