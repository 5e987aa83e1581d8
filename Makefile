# On a fresh machine:  `make study` (set up, run the demo study) and `make test` (set up, run the
# test suite). Each target creates .venv if it is missing and installs the package once, with the
# dependency versions CI last passed on (constraints.txt); a stamp file per install flavour keeps
# later runs quick until setup.cfg, pyproject.toml or constraints.txt change.
# `make test PYTEST_ARGS=tests/cli` runs part of the suite; `make constraints` re-pins (README).

PYTHON ?= python3
VENV   ?= .venv
PYTEST_ARGS ?=
PY     := $(VENV)/bin/python
SPECS  := setup.cfg pyproject.toml constraints.txt
# Both cores: pytest-xdist workers; each test module (and each test class) stays on one worker,
# with its module fixtures and the kernels it compiles.
WORKERS ?= 2

INSTALL_study := .
INSTALL_test  := .[test,cuda]
INSTALL_bench := .[bench]

.PHONY: study test bench constraints

study: $(VENV)/.installed-study
	$(PY) -m numprec study rounding --out reports/study_rounding

test: $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q -n $(WORKERS) --dist loadscope $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench
	$(PY) -m numprec bench rounding

# Re-pin: resolve the newest release of every dependency in a scratch venv, then run `make test`
# on them before committing the new constraints.txt.
constraints:
	rm -rf .constraints-venv
	$(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/pip install --quiet --upgrade pip
	.constraints-venv/bin/pip install --quiet '.[test,cuda,bench]'
	{ echo "# The versions CI last passed on: make installs with -c constraints.txt. Re-pin with"; \
	  echo "# \`make constraints\` (newest releases), run \`make test\`, and commit this file (README)."; \
	  .constraints-venv/bin/pip freeze --exclude numprec | sort -f; } > constraints.txt
	rm -rf .constraints-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: $(SPECS) | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e '$(INSTALL_$*)'
	touch $@
