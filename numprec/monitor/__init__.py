"""Observation: per-step, per-tensor statistics counted inside the emulated arithmetic.

`Monitor(model, optimizer=None, scaler=None, every=1, start=None, end=None, include=None,
kinds=None, whatif=())` is a context manager; `.table()`, `.histograms()`, `.save(dir)`.
The engine never imports this package: the monitor registers itself as an observer
(numprec.autodiff.observe).
"""
from .files import EXPONENTS_FILE, TENSORS_FILE, write_tensorboard
from .monitor import KINDS, RUN_STATS, SCALE_STATS, Monitor
from .stats import EVENT_STATS, STATS, VALUE_STATS
from .tables import HISTOGRAM_COLUMNS, TABLE_COLUMNS
from .whatif import WHATIF_STATS, whatif_names, whatif_stats

__all__ = ["Monitor", "KINDS", "STATS", "VALUE_STATS", "EVENT_STATS", "RUN_STATS", "SCALE_STATS",
           "WHATIF_STATS", "TABLE_COLUMNS", "HISTOGRAM_COLUMNS", "TENSORS_FILE",
           "EXPONENTS_FILE", "whatif_names", "whatif_stats", "write_tensorboard"]
