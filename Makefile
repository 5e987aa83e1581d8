# On a fresh machine:  `make study` (set up, run the demo study)  and  `make test` (set up, run
# the test suite). Each target creates .venv if it is missing and installs the package once: a
# stamp file per install flavour keeps later runs quick until setup.cfg or pyproject.toml change.
# `make test PYTEST_ARGS=tests/cli` runs part of the suite.

PYTHON ?= python3
VENV   ?= .venv
PYTEST_ARGS ?=
PY     := $(VENV)/bin/python
SPECS  := setup.cfg pyproject.toml

INSTALL_study := .
INSTALL_test  := .[test,cuda]
INSTALL_bench := .[bench]

.PHONY: study test bench

study: $(VENV)/.installed-study
	$(PY) -m analysis.study_rounding --out reports/study_rounding

test: $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench
	$(PY) -m analysis.bench_rounding

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: $(SPECS) | $(PY)
	$(PY) -m pip install --quiet -e '$(INSTALL_$*)'
	touch $@
