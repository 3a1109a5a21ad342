# The two commands a new user runs: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin

.PHONY: demo test check bench bench-quick install dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev,gpu]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/vigil demo

test: dev
	$(PY) -m pytest -q -p no:cacheprovider

check: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

BENCHES := heal agent_cost nab rules logparse logwire ingest balance_sim balance_overhead balance_stream balance_faults

bench: dev
	for b in $(BENCHES); do $(PY) bench/$$b.py || exit 1; done

bench-quick: dev
	for b in $(BENCHES); do $(PY) bench/$$b.py --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
