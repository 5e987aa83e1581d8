"""Studies built on numprec: error experiments, benchmarks, and the figures and reports they
make."""
