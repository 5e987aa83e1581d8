"""Report writing shared by the studies and benchmarks: the figure style (style.py: Agg backend,
150-dpi PNG, fixed colours) and report files (files.py: markdown tables, an all-or-nothing report
folder)."""
