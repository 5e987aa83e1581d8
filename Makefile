# On a fresh machine:  `make report` (set up, train under fp16 and fp16-amp with monitors, write
# the observation report) and `make test` (set up, run the test suite). Each target creates .venv if it is missing and installs the package once, with the
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

.PHONY: report study test bench constraints

# The observation report: the same MLP on the digits under pure fp16 and under fp16-amp, both
# monitored and shadowed in float64 (re-anchored). The fp16 run stops on non-finite numbers
# (exit status 1, its tables written): that is part of the story, so only a status above 1
# stops the command.
RUNS     ?= runs
REPORT   ?= reports/observation
STEPS    ?= 400
report: $(VENV)/.installed-study
	status=0; $(PY) -m numprec train --policy fp16 --monitor --shadow re-anchored \
	    --steps $(STEPS) --out $(RUNS)/fp16 --no-progress || status=$$?; test $$status -le 1
	$(PY) -m numprec train --policy fp16-amp --monitor --shadow re-anchored --steps $(STEPS) \
	    --out $(RUNS)/fp16-amp
	$(PY) -m numprec report $(RUNS)/fp16 $(RUNS)/fp16-amp --out $(REPORT)

# Every study into reports/ (STUDY_ARGS=--full for paper-quality sizes: longer, resumable).
STUDIES    ?= rounding error-accumulation vanishing-gradients loss-scaling \
              update-stagnation quantization
STUDY_ARGS ?=
study: $(VENV)/.installed-study
	for name in $(STUDIES); do \
	    $(PY) -m numprec study $$name --out reports/study_$$(echo $$name | tr - _) \
	        $(STUDY_ARGS) || exit 1; done

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
